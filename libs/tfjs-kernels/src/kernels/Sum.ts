import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, heapBuffer, simdKernels } from '../simd/simd-kernels.ts';
import { disposeAll, heapF32, runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * Sums the middle axis of x seen as [P, R, Q]: out[p, q] = Σ_r x[p, r, q], accumulated in float64.
 * x: [P·R·Q] → out: [P·Q].
 */
export function sumMiddleAxis(x: Float32Array, p: number, r: number, q: number, out: Float32Array): void {
  const acc = new Float64Array(q);
  for (let a = 0; a < p; a++) {
    acc.fill(0);
    let src = a * r * q;
    for (let b = 0; b < r; b++) {
      for (let c = 0; c < q; c++) acc[c] = acc[c]! + x[src + c]!;
      src += q;
    }
    out.set(acc, a * q);
  }
}

/**
 * Sum over axes of a float32 tensor. When the reduced axes are one contiguous block that is not
 * the innermost one (bias gradients: dy [N, H, W, C] summed over N, H, W to [C]), it sums in
 * place in one pass over memory; the stock kernel first transposes the reduced axes innermost,
 * a full copy through its slow generic transpose. (A product ones · x would be faster on a
 * tensor it has seen before, but XNNPACK repacks a new right operand on every call, which costs
 * more than this pass.) Columns in multiples of 4 are summed in WebAssembly SIMD (`simd/`, about
 * 10× faster than the JavaScript loop). Other cases go to the stock kernel.
 */
export function sumImpl(backend: BackendWasm, x: tf.TensorInfo, attrs: tf.SumAttrs): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32') return undefined;
  const rank = x.shape.length;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  if (axes.length === 0) return undefined;
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  if (last - first + 1 !== axes.length || last === rank - 1) return undefined;
  const size = (from: number, to: number) => x.shape.slice(from, to).reduce((a, b) => a * b, 1);
  const p = size(0, first);
  const r = size(first, last + 1);
  const q = size(last + 1, rank);
  const outShape = attrs.keepDims
    ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : x.shape.filter((_, i) => i < first || i > last);
  const out = backend.makeOutput(outShape, 'float32');
  const simd = simdKernels(backend);
  if (simd !== undefined && q % 4 === 0 && q > 0) {
    // The same sums, 4 columns at a time, in a float64 scratch tensor.
    const acc = backend.makeOutput([2 * q], 'float32');
    const accAddress = address(backend, acc);
    if (accAddress % 8 === 0) {
      const sums = new Float64Array(heapBuffer(backend), accAddress, q);
      const target = heapF32(backend, out);
      const stride = r * q * 4;
      for (let a = 0; a < p; a++) {
        sums.fill(0);
        simd.sumRowsF64(address(backend, x) + a * stride, accAddress, r, q);
        for (let c = 0; c < q; c++) target[a * q + c] = sums[c]!;
      }
      disposeAll(backend, acc);
      return out;
    }
    disposeAll(backend, acc);
  }
  sumMiddleAxis(heapF32(backend, x), p, r, q, heapF32(backend, out));
  return out;
}

function sum(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  return sumImpl(backend, x, args.attrs as unknown as tf.SumAttrs) ?? runWasmKernel(tf.Sum, backend, args.inputs, args.attrs);
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: sum as tf.KernelFunc,
};
