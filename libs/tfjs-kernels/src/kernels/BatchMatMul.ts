import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeAll, runWasmKernel } from '../wasm-kernel-utils.ts';

/** Swaps the last two axes: the permutation Transpose needs to materialise Aᵀ of a (batched) matrix. */
function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * C[b] = op(A[b]) · op(B[b]), op = identity or transpose, A: [..., m, k] (or [..., k, m] when
 * transposeA), B: [..., k, n] (or [..., n, k] when transposeB), C: [..., m, n].
 *
 * The stock wasm kernel multiplies transposed operands in place, about 9× slower than a plain
 * product (18 ms against 2 ms on a dense layer's gradient of a 128 batch); materialising the
 * transpose with the (fast) Transpose kernel first and then calling the plain product is the
 * cheap way. Gradients of dense layers are exactly these products (dW = Xᵀ·dY, dX = dY·Wᵀ).
 */
export function batchMatMulImpl(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  if (!transposeA && !transposeB) {
    return runWasmKernel(tf.BatchMatMul, backend, { a, b }, { transposeA: false, transposeB: false });
  }
  const at = transposeA ? runWasmKernel(tf.Transpose, backend, { x: a }, { perm: lastTwoSwapped(a.shape.length) }) : a;
  const bt = transposeB ? runWasmKernel(tf.Transpose, backend, { x: b }, { perm: lastTwoSwapped(b.shape.length) }) : b;
  try {
    return runWasmKernel(tf.BatchMatMul, backend, { a: at, b: bt }, { transposeA: false, transposeB: false });
  } finally {
    if (transposeA) disposeAll(backend, at);
    if (transposeB) disposeAll(backend, bt);
  }
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { a, b } = args.inputs as unknown as tf.BatchMatMulInputs & { a: tf.TensorInfo; b: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  return batchMatMulImpl(args.backend as BackendWasm, a, b, attrs.transposeA, attrs.transposeB);
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as tf.KernelFunc,
};
