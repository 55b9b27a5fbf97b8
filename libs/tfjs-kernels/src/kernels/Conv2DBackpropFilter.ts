import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2DGeometry, type Conv2DGeometry } from '../conv-geometry.ts';
import { disposeAll, heapF32, runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/** Channels first: xt[ci, n, h, w] = x[n, h, w, ci]. x: [N, H, W, cin] → xt: [cin, N, H, W]. */
export function channelsFirst(x: Float32Array, pixels: number, cin: number, out: Float32Array): void {
  for (let p = 0; p < pixels; p++) {
    const src = p * cin;
    for (let c = 0; c < cin; c++) out[c * pixels + p] = x[src + c]!;
  }
}

/**
 * The transposed im2col matrix of x: colsT[k, m] = x[n, y·sh + i - pt, x·sw + j - pl, ci]
 * (0 outside the image) with k = (i·fw + j)·cin + ci and m = (n·oh + y)·ow + x.
 * xt (x channels first, [cin, N, H, W]) → colsT: [fh·fw·cin, N·oh·ow].
 *
 * Built transposed because the wasm backend multiplies plain matrices fast but transposed
 * operands slowly, and transposing this (the largest) matrix afterwards costs more than the product.
 * Read from the channels-first copy so that each row of colsT reads one channel plane (N·H·W floats,
 * cache-sized) in order, instead of striding through all of x once per row.
 */
export function im2colTransposed(xt: Float32Array, g: Conv2DGeometry, out: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow } = g;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const m = batch * oh * ow;
  const plane = batch * H * W;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // Output columns whose input column x·sw + j - pl lies inside [0, W).
      const xFirst = Math.min(ow, Math.max(0, Math.ceil((pl - j) / sw)));
      const xEnd = Math.max(xFirst, Math.min(ow, Math.floor((W - 1 + pl - j) / sw) + 1));
      for (let ci = 0; ci < cin; ci++) {
        let dst = ((i * fw + j) * cin + ci) * m;
        for (let n = 0; n < batch; n++) {
          const image = ci * plane + n * H * W;
          for (let y = 0; y < oh; y++) {
            const row = y * sh + i - pt;
            if (row < 0 || row >= H) {
              out.fill(0, dst, dst + ow);
              dst += ow;
              continue;
            }
            for (let col = 0; col < xFirst; col++) out[dst++] = 0;
            let src = image + row * W + xFirst * sw + j - pl;
            for (let col = xFirst; col < xEnd; col++) {
              out[dst++] = xt[src]!;
              src += sw;
            }
            for (let col = xEnd; col < ow; col++) out[dst++] = 0;
          }
        }
      }
    }
  }
}

/**
 * The gradient of a 2-D convolution with respect to its filter (NHWC, no dilation):
 *   dW[i, j, ci, co] = Σ_{n, y, x} x[n, y·sh + i - pt, x·sw + j - pl, ci] · dy[n, y, x, co],
 * i.e. dW = colsT · dy with colsT the transposed im2col of x ([fh·fw·cin, N·oh·ow]) and dy seen as
 * [N·oh·ow, cout]: one plain matrix product on the wasm backend.
 * x: [N, H, W, cin], dy: [N, oh, ow, cout] → dW: [fh, fw, cin, cout].
 *
 * The stock wasm backend has no kernel for this at all, so convolutions cannot train there.
 */
export function conv2DBackpropFilterImpl(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): tf.TensorInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  const g = conv2DGeometry(info);
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const m = g.batch * g.outHeight * g.outWidth;
  const xt = backend.makeOutput([g.inChannels, g.batch, g.inHeight, g.inWidth], 'float32');
  const colsT = backend.makeOutput([1, k, m], 'float32');
  channelsFirst(heapF32(backend, x), g.batch * g.inHeight * g.inWidth, g.inChannels, heapF32(backend, xt));
  im2colTransposed(heapF32(backend, xt), g, heapF32(backend, colsT));
  disposeAll(backend, xt);
  try {
    const dw = runWasmKernel(
      tf.BatchMatMul,
      backend,
      { a: colsT, b: { dataId: dy.dataId, dtype: dy.dtype, shape: [1, m, g.outChannels] } },
      { transposeA: false, transposeB: false },
    );
    dw.shape = [...attrs.filterShape];
    return dw;
  } finally {
    disposeAll(backend, colsT);
  }
}

function conv2DBackpropFilter(args: WasmKernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  return conv2DBackpropFilterImpl(args.backend as BackendWasm, x, dy, args.attrs as unknown as tf.Conv2DBackpropFilterAttrs);
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
};
