import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isFloat32, type NativeKernel } from './native-kernel.ts';

/**
 * Sum over the leading axes of a float32 tensor (x seen as [rows, cols], summed over rows: the
 * bias gradients of convolutions and dense layers), in float64 over fixed ranges of rows (the
 * addon's `sumRows`). Other axes go to the kernel registered before.
 */
function sum(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.SumAttrs;
  if (!isFloat32(x) || x.shape.length === 0) return undefined;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((axis, i) => axis !== i)) return undefined;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const kept = x.shape.slice(axes.length);
  const cols = tf.util.sizeFromShape(kept);
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : kept;
  const out = backend.makeOutput(outShape, 'float32');
  native.sumRows(heapF32(backend, x), rows, cols, heapF32(backend, out));
  return out;
}

export const nativeSum: NativeKernel = { kernelName: tf.Sum, run: sum };
