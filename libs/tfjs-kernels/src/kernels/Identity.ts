import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * y = x, sharing x's memory (reference-counted) instead of copying it, as the cpu backend does.
 * Safe because no kernel writes into its inputs and a variable's `assign` swaps its data rather
 * than overwriting it. The engine clones every tensor a gradient saves (e.g. each fused
 * convolution saves its input and output), so on wasm each clone was a full copy.
 */
export function identityImpl(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function identity(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return runWasmKernel(tf.Identity, backend, args.inputs, args.attrs);
  return identityImpl(backend, x);
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as tf.KernelFunc,
};
