import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { identityImpl } from './Identity.ts';

/** The value of a one-element float32 tensor, or undefined. */
function scalarValue(backend: BackendWasm, t: tf.TensorInfo): number | undefined {
  if (t.dtype !== 'float32' || tf.util.sizeFromShape(t.shape) !== 1) return undefined;
  return (backend.typedArrayFromHeap(t) as Float32Array)[0];
}

/**
 * a·b, with x·1 (either side) returning x's memory shared instead of a full pass: x·1 = x exactly
 * in float32 (also for ±0, ±∞ and NaN), provided the result has x's shape and dtype. tfjs-layers'
 * swish is `x · sigmoid(x · 1)`, so every SiLU layer multiplies its whole input by the scalar 1
 * forward and its whole gradient by 1 backward. Every other product goes to the stock kernel.
 */
export function multiplyImpl(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const same = (t: tf.TensorInfo) => t.shape.length === outShape.length && t.shape.every((d, i) => d === outShape[i]);
  if (scalarValue(backend, b) === 1 && same(a)) return identityImpl(backend, a);
  if (scalarValue(backend, a) === 1 && same(b)) return identityImpl(backend, b);
  return undefined;
}

function multiply(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  return multiplyImpl(backend, a, b) ?? runWasmKernel(tf.Multiply, backend, args.inputs, args.attrs);
}

export const multiplyConfig: tf.KernelConfig = {
  kernelName: tf.Multiply,
  backendName: 'wasm',
  kernelFunc: multiply as tf.KernelFunc,
};
