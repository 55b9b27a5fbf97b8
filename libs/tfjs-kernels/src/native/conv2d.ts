import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { conv2DGeometry, geometryArray, nhwcConvInfo } from '../conv-geometry.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { isEmpty, isFloat32, type NativeKernel } from './native-kernel.ts';

/** A bias the native kernels add per output channel: `channels` values along the last axis (else undefined). */
export function channelBias(bias: tf.TensorInfo | undefined, channels: number): tf.TensorInfo | null | undefined {
  if (bias === undefined) return null;
  const size = tf.util.sizeFromShape(bias.shape);
  const last = bias.shape.length === 0 ? 1 : bias.shape[bias.shape.length - 1];
  return size === channels && last === channels && bias.dtype === 'float32' ? bias : undefined;
}

function undilated(dilations: number | [number, number] | undefined): boolean {
  return dilations === undefined || dilations === 1 || (Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1);
}

/**
 * y = conv(x, filter) (+ bias, with a linear activation): NHWC, no dilation, float32, no empty tensor; the im2col
 * product of the addon (`conv2d`), multithreaded. Other cases go to the kernel registered before.
 */
function conv2dNative(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'linear' || preluActivationWeights !== undefined || !isFloat32(x, filter) || isEmpty(x, filter)) return undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !undilated(attrs.dilations)) return undefined;
  const info = nhwcConvInfo(x.shape, filter.shape, attrs);
  const b = channelBias(bias, info.outChannels);
  if (b === undefined) return undefined;
  const y = backend.makeOutput(info.outShape, 'float32');
  native.conv2d(heapF32(backend, x), heapF32(backend, filter), b === null ? null : heapF32(backend, b), heapF32(backend, y), geometryArray(conv2DGeometry(info)));
  return y;
}

export const nativeConv2D: NativeKernel = { kernelName: tf.Conv2D, run: conv2dNative };
export const nativeFusedConv2D: NativeKernel = { kernelName: tf.FusedConv2D, run: conv2dNative };
