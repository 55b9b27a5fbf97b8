import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { conv2DGeometry, geometryArray, nhwcConvInfo } from '../conv-geometry.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isEmpty, isFloat32, type NativeKernel } from './native-kernel.ts';

/**
 * dx = the input gradient of a convolution (NHWC, float32): the addon's forward product over dy
 * with the filter rotated by 180° and its channels swapped, dy's pixels spaced by the stride
 * (`conv2dBackpropInput`). NCHW and empty tensors go to the kernel registered before.
 */
function conv2dBackpropInput(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isFloat32(dy, filter) || isEmpty(dy, filter)) return undefined;
  const info = nhwcConvInfo(attrs.inputShape, filter.shape, attrs);
  const dx = backend.makeOutput([...attrs.inputShape], 'float32');
  native.conv2dBackpropInput(heapF32(backend, dy), heapF32(backend, filter), heapF32(backend, dx), geometryArray(conv2DGeometry(info)));
  return dx;
}

export const nativeConv2DBackpropInput: NativeKernel = { kernelName: tf.Conv2DBackpropInput, run: conv2dBackpropInput };
