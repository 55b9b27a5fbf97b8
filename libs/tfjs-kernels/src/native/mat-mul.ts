import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { channelBias } from './conv2d.ts';
import { isEmpty, isFloat32, type NativeKernel } from './native-kernel.ts';

/**
 * C = op(A) · op(B) (+ bias, with a linear activation) for A [...batchA, m, k] and B [...batchB,
 * k, n] (the last two axes swapped when transposed), float32, the batch axes equal or one side's a
 * single matrix (broadcast): the addon's `matmul`, multithreaded. Other broadcasts, activations and
 * dtypes go to the kernel registered before.
 */
function matMul(native: NativeTrainingKernels, backend: BackendWasm, args: WasmKernelArgs): tf.TensorInfo | undefined {
  const { a, b, bias, preluActivationWeights } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'linear' || preluActivationWeights !== undefined || !isFloat32(a, b) || isEmpty(a, b)) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = attrs.transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = attrs.transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = attrs.transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = attrs.transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return undefined;
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(batchShapeA);
  const batchB = tf.util.sizeFromShape(batchShapeB);
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
  const batch = tf.util.sizeFromShape(batchShape);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  const c = channelBias(bias, n);
  if (c === undefined) return undefined;
  const out = backend.makeOutput([...batchShape, m, n], 'float32');
  const dims = Int32Array.of(batch, batchA, batchB, m, n, k, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0);
  native.matmul(heapF32(backend, a), heapF32(backend, b), c === null ? null : heapF32(backend, c), heapF32(backend, out), dims);
  return out;
}

export const nativeBatchMatMul: NativeKernel = { kernelName: tf.BatchMatMul, run: matMul };
export const nativeFusedMatMul: NativeKernel = { kernelName: tf._FusedMatMul, run: matMul };
