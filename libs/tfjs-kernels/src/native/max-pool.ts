import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { conv2DGeometry, geometryArray } from '../conv-geometry.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isEmpty, isFloat32, type NativeKernel } from './native-kernel.ts';

function poolInfo(x: tf.TensorInfo, attrs: tf.MaxPoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** y = the largest value of each window (NHWC, float32; NaN and padding ignored, as on the cpu backend): the addon's `maxPool`. */
function maxPool(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.shape.length !== 4 || !isFloat32(x) || isEmpty(x)) return undefined;
  const info = poolInfo(x, args.attrs as unknown as tf.MaxPoolAttrs);
  const y = backend.makeOutput(info.outShape, 'float32');
  native.maxPool(heapF32(backend, x), heapF32(backend, y), geometryArray(conv2DGeometry(info)));
  return y;
}

/** dx = each window's dy at its first largest value of the input (row-major), summed over windows: the addon's `maxPoolGrad`. */
function maxPoolGrad(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  if (input.shape.length !== 4 || !isFloat32(dy, input) || isEmpty(input, dy)) return undefined;
  const info = poolInfo(input, args.attrs as unknown as tf.MaxPoolGradAttrs);
  const dx = backend.makeOutput([...input.shape], 'float32');
  native.maxPoolGrad(heapF32(backend, input), heapF32(backend, dy), heapF32(backend, dx), geometryArray(conv2DGeometry(info)));
  return dx;
}

export const nativeMaxPool: NativeKernel = { kernelName: tf.MaxPool, run: maxPool };
export const nativeMaxPoolGrad: NativeKernel = { kernelName: tf.MaxPoolGrad, run: maxPoolGrad };
