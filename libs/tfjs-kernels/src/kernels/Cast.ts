import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { identityImpl } from './Identity.ts';

/**
 * Cast to the dtype x already has shares x's memory (the cpu backend's rule) instead of copying it;
 * gradients of products cast their operands to float32 on every step. Casts to bool give x ≠ 0
 * (NaN → true), as on the cpu backend. Other casts go to the stock kernel.
 */
function cast(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype === dtype && dtype !== 'string') return identityImpl(backend, x);
  if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
    // The stock kernel copies the numbers into the bool bytes (3 stays 3, 256 wraps to 0).
    const out = backend.makeOutput([...x.shape], 'bool');
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    return out;
  }
  return runWasmKernel(tf.Cast, backend, args.inputs, args.attrs);
}

export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as tf.KernelFunc,
};
