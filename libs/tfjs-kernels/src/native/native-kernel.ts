import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import type { WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * A kernel of the wasm backend computed by the native addon on the backend's own heap: it
 * allocates its outputs with the backend, then takes Float32Array views of inputs and outputs
 * (after the last allocation: growing the heap detaches earlier views) and calls the addon, which
 * reads and writes them in place. `run` returns undefined for a case it does not cover (a dtype, an
 * activation, a layout), and the kernel registered before it runs instead.
 */
export interface NativeKernel {
  readonly kernelName: string;
  run(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | tf.TensorInfo[] | undefined;
}

/** Whether a tensor is float32 (the only dtype the native kernels compute in). */
export function isFloat32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/** Whether a tensor has no elements (the native kernels need every dimension ≥ 1). */
export function isEmpty(...ts: tf.TensorInfo[]): boolean {
  return ts.some((t) => t.shape.some((d) => d === 0));
}
