import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { conv2DGeometry, geometryArray, nhwcConvInfo } from '../conv-geometry.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isEmpty, isFloat32, type NativeKernel } from './native-kernel.ts';

/**
 * dW = the filter gradient of a convolution (NHWC, float32): the addon's product dyᵀ · im2col(x)
 * (`conv2dBackpropFilter`), float32 over blocks of pixels and float64 across them. NCHW and empty
 * tensors go to the kernel registered before.
 */
function conv2dBackpropFilter(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isFloat32(x, dy) || isEmpty(x, dy)) return undefined;
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const dw = backend.makeOutput([...attrs.filterShape], 'float32');
  native.conv2dBackpropFilter(heapF32(backend, x), heapF32(backend, dy), heapF32(backend, dw), geometryArray(conv2DGeometry(info)));
  return dw;
}

export const nativeConv2DBackpropFilter: NativeKernel = { kernelName: tf.Conv2DBackpropFilter, run: conv2dBackpropFilter };
