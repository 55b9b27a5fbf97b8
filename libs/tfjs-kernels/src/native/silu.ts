import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { SILU } from '../fused-silu.ts';
import { SILU_GRAD } from '../kernels/SiluGrad.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isFloat32, type NativeKernel } from './native-kernel.ts';

/** [y, s]: SiLU y = x·s and the sigmoid s = 1 / (1 + e^−x) it saves for its gradient, in one pass (the addon's `silu`). */
function silu(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo[] | undefined {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (!isFloat32(x)) return undefined;
  const y = backend.makeOutput([...x.shape], 'float32');
  const s = backend.makeOutput([...x.shape], 'float32');
  native.silu(heapF32(backend, x), heapF32(backend, y), heapF32(backend, s));
  return [y, s];
}

/** dx = dy · s · (1 + x · (1 − s)) from the saved sigmoid (the addon's `siluGrad`). */
function siluGrad(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { dy, s, x } = args.inputs as { dy: tf.TensorInfo; s: tf.TensorInfo; x: tf.TensorInfo };
  if (!isFloat32(dy, s, x)) return undefined;
  const dx = backend.makeOutput([...x.shape], 'float32');
  native.siluGrad(heapF32(backend, dy), heapF32(backend, s), heapF32(backend, x), heapF32(backend, dx));
  return dx;
}

export const nativeSilu: NativeKernel = { kernelName: SILU, run: silu };
export const nativeSiluGrad: NativeKernel = { kernelName: SILU_GRAD, run: siluGrad };

