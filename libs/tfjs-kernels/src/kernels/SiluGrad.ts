import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, simdKernels } from '../simd/simd-kernels.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/** The kernel's name: a project kernel (tfjs has none), used by `useFusedSiluGradients`. */
export const SILU_GRAD = 'RlsaSiluGrad';

/**
 * The gradient of SiLU (swish) y = x·s, s = sigmoid(x), from the saved sigmoid:
 *   dx = dy · (s + x·s·(1 - s)) = dy · s · (1 + x·(1 - s)).
 * dy, s, x, dx: n elements.
 */
export function siluGradValues(dy: Float32Array, s: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < dx.length; i++) {
    const si = s[i]!;
    dx[i] = dy[i]! * si * (1 + x[i]! * (1 - si));
  }
}

/**
 * One pass (WebAssembly SIMD where available) instead of tfjs's chain for `x·sigmoid(x)`: the
 * gradients of Multiply and Sigmoid as six elementwise kernels over the activation (two products
 * for the multiply, 1 - s, s·(1 - s), its product with dy·x, the sum of both paths).
 */
export function siluGradImpl(backend: BackendWasm, dy: tf.TensorInfo, s: tf.TensorInfo, x: tf.TensorInfo): tf.TensorInfo {
  const dx = backend.makeOutput([...x.shape], 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    simd.siluGrad(address(backend, dy), address(backend, s), address(backend, x), address(backend, dx), n);
  } else {
    siluGradValues(heapF32(backend, dy), heapF32(backend, s), heapF32(backend, x), heapF32(backend, dx));
  }
  return dx;
}

function siluGrad(args: WasmKernelArgs): tf.TensorInfo {
  const { dy, s, x } = args.inputs as { dy: tf.TensorInfo; s: tf.TensorInfo; x: tf.TensorInfo };
  return siluGradImpl(args.backend as BackendWasm, dy, s, x);
}

export const siluGradConfig: tf.KernelConfig = {
  kernelName: SILU_GRAD,
  backendName: 'wasm',
  kernelFunc: siluGrad as tf.KernelFunc,
};
