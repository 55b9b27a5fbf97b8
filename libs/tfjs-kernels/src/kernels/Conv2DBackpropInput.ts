import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2DGeometry, nhwcConvInfo, type Conv2DGeometry } from '../conv-geometry.ts';
import { address, simdKernels } from '../simd/simd-kernels.ts';
import { disposeAll, heapF32, runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * The filter of the input gradient: W'[i', j', co, ci] = W[fh-1-i', fw-1-j', ci, co]
 * (rotated by 180° in space, in/out channels swapped). W: [fh, fw, cin, cout] → [fh, fw, cout, cin].
 */
export function rotatedTransposedFilter(w: Float32Array, fh: number, fw: number, cin: number, cout: number, out: Float32Array): void {
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const src = ((fh - 1 - i) * fw + (fw - 1 - j)) * cin * cout;
      const dst = (i * fw + j) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) out[dst + co * cin + ci] = w[src + ci * cout + co] as number;
      }
    }
  }
}

/**
 * dy dilated by the stride: D[n, y·sh, x·sw, c] = dy[n, y, x, c], zero elsewhere.
 * dy: [N, oh, ow, C] → D: [N, (oh-1)·sh+1, (ow-1)·sw+1, C].
 */
export function dilate(dy: Float32Array, shape: readonly number[], sh: number, sw: number, out: Float32Array): void {
  const [n, oh, ow, c] = shape as [number, number, number, number];
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  out.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const src = ((b * oh + y) * ow + x) * c;
        const dst = ((b * dh + y * sh) * dw + x * sw) * c;
        for (let k = 0; k < c; k++) out[dst + k] = dy[src + k] as number;
      }
    }
  }
}

/**
 * W as a matrix [fh·fw·cin, cout], transposed: Wt[co, k] = W[k, co], k = (i·fw + j)·cin + ci.
 */
export function transposedFilterMatrix(w: Float32Array, k: number, cout: number, out: Float32Array): void {
  for (let r = 0; r < k; r++) {
    for (let co = 0; co < cout; co++) out[co * k + r] = w[r * cout + co]!;
  }
}

/**
 * col2im: dx[n, y·sh + i - pt, x·sw + j - pl, ci] += cols[m, k] for m = (n·oh + y)·ow + x and
 * k = (i·fw + j)·cin + ci, skipping taps that fall in the padding. cols: [N·oh·ow, fh·fw·cin] → dx: [N, H, W, cin].
 * Rows of cols are read in order; one image of dx (H·W·cin floats) stays in cache while it is summed.
 */
export function col2im(cols: Float32Array, g: Conv2DGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow } = g;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const k = fh * fw * cin;
  dx.fill(0);
  let src = 0;
  for (let n = 0; n < batch; n++) {
    const image = n * H * W * cin;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        for (let i = 0; i < fh; i++) {
          const row = y * sh + i - pt;
          if (row < 0 || row >= H) continue;
          for (let j = 0; j < fw; j++) {
            const col = x * sw + j - pl;
            if (col < 0 || col >= W) continue;
            const dst = image + (row * W + col) * cin;
            const tap = src + (i * fw + j) * cin;
            for (let c = 0; c < cin; c++) dx[dst + c] = dx[dst + c]! + cols[tap + c]!;
          }
        }
        src += k;
      }
    }
  }
}

/** How the input gradient is computed: `auto` picks by the work each way needs. */
export type BackpropInputMethod = 'auto' | 'conv' | 'matmul';

let method: BackpropInputMethod = 'auto';

/** Forces one method (specs test both; benchmarks compare them). Returns the previous one. */
export function setConv2DBackpropInputMethod(m: BackpropInputMethod): BackpropInputMethod {
  const previous = method;
  method = m;
  return previous;
}

/**
 * The gradient of a 2-D convolution with respect to its input (NHWC, no dilation):
 *   dx[n, h, w, ci] = Σ_{i, j, co} dy[n, y, x, co] · W[i, j, ci, co]  over h = y·sh + i - pt, w = x·sw + j - pl.
 * dy: [N, oh, ow, cout], W: [fh, fw, cin, cout] → dx: [N, H, W, cin].
 *
 * Two ways, both through the wasm backend's fast XNNPACK kernels:
 * - `conv`: one forward convolution of dy, dilated by the stride and padded by (fh-1-pt, fw-1-pl)
 *   on top/left, with the rotated, channel-swapped filter W'. For a 'valid' convolution most of
 *   the padded dy is zeros: N·H·W·fh·fw·cin·cout multiply-adds, about twice the forward pass.
 * - `matmul`: cols = dy·Wᵀ ([N·oh·ow, cout]·[cout, fh·fw·cin], one plain product: exactly the forward
 *   pass's multiply-adds), then col2im sums the columns into dx. With stride 1 and cin a multiple of
 *   4, by chunks of the batch with col2im in WebAssembly SIMD (`simd/`).
 * `auto` takes `conv` when it needs less than 1.5× the product's multiply-adds (same padding),
 * else `matmul`.
 *
 * Returns undefined for cases it does not cover (NCHW, or explicit pads larger than the filter),
 * which the stock kernel then computes.
 */
export function conv2DBackpropInputImpl(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.Conv2DBackpropInputAttrs,
): tf.TensorInfo | undefined {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  const info = nhwcConvInfo(attrs.inputShape, filter.shape, attrs);
  const g = conv2DGeometry(info);
  const convWork = g.batch * g.inHeight * g.inWidth;
  const matmulWork = g.batch * g.outHeight * g.outWidth;
  const useMatmul = method === 'matmul' || (method === 'auto' && convWork > 1.5 * matmulWork);
  return useMatmul ? viaMatmul(backend, dy, filter, g) : viaConv(backend, dy, filter, info);
}

/**
 * Bytes of the product's output (cols) per chunk of the batch in the `matmul` method when col2im runs
 * in SIMD: small enough that col2im reads cols from cache right after the product wrote them.
 */
let chunkBytes = 1 << 20;

let productMethod: 'simd' | 'xnnpack' = 'simd';

/** Which product the chunked `matmul` method uses (specs and benchmarks compare them). Returns the previous one. */
export function setConv2DBackpropInputProduct(p: 'simd' | 'xnnpack'): 'simd' | 'xnnpack' {
  const previous = productMethod;
  productMethod = p;
  return previous;
}

/** Sets the chunk size of the `matmul` method (benchmarks tune it; Infinity = the whole batch). Returns the previous one. */
export function setConv2DBackpropInputChunkBytes(bytes: number): number {
  const previous = chunkBytes;
  chunkBytes = bytes;
  return previous;
}

function viaMatmul(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, g: Conv2DGeometry): tf.TensorInfo {
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const pixels = g.outHeight * g.outWidth;
  const m = g.batch * pixels;
  const cout = g.outChannels;
  const wt = backend.makeOutput([1, cout, k], 'float32');
  transposedFilterMatrix(heapF32(backend, filter), k, cout, heapF32(backend, wt));
  const simd = simdKernels(backend);
  try {
    if (simd !== undefined && g.strideHeight === 1 && g.strideWidth === 1 && g.inChannels % 4 === 0) {
      return viaChunkedMatmul(backend, simd, dy, wt, g);
    }
    const cols = runWasmKernel(tf.BatchMatMul, backend, { a: { dataId: dy.dataId, dtype: dy.dtype, shape: [1, m, cout] }, b: wt }, {
      transposeA: false,
      transposeB: false,
    });
    try {
      const dx = backend.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels], 'float32');
      col2im(heapF32(backend, cols), g, heapF32(backend, dx));
      return dx;
    } finally {
      disposeAll(backend, cols);
    }
  } finally {
    disposeAll(backend, wt);
  }
}

/**
 * The `matmul` method by chunks of the batch, col2im in SIMD: each chunk's cols (N·oh·ow·fh·fw·cin
 * floats for the whole batch, 41 MB on the VanillaCNN's conv2) is summed into dx while in cache.
 * The product is the project's SIMD one (dy read in place; about 25 % faster than XNNPACK's here)
 * when fh·fw·cin is a multiple of 8 and a chunk's rows of 4, else XNNPACK's (the filter operand is
 * the same tensor for every chunk, so XNNPACK packs it once).
 */
function viaChunkedMatmul(
  backend: BackendWasm,
  simd: NonNullable<ReturnType<typeof simdKernels>>,
  dy: tf.TensorInfo,
  wt: tf.TensorInfo,
  g: Conv2DGeometry,
): tf.TensorInfo {
  const { batch, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, outChannels: cout } = g;
  const k = g.filterHeight * g.filterWidth * cin;
  const pixels = oh * ow;
  const chunks = Math.max(1, Math.min(batch, Math.ceil((batch * pixels * k * 4) / chunkBytes)));
  const nb = Math.ceil(batch / chunks);
  const useSimdProduct = productMethod === 'simd' && k % 8 === 0;
  const dx = backend.makeOutput([batch, H, W, cin], 'float32');
  heapF32(backend, dx).fill(0);
  try {
    for (let first = 0; first < batch; first += nb) {
      const c = Math.min(nb, batch - first);
      const whole = c === batch;
      const dyc = whole ? { dataId: dy.dataId, dtype: dy.dtype, shape: [1, c * pixels, cout] } : backend.makeOutput([1, c * pixels, cout], 'float32');
      let cols: tf.TensorInfo | undefined;
      try {
        const rows = c * pixels;
        if (useSimdProduct && rows % 4 === 0) {
          // cols = dy·Wᵀ in the SIMD product, dy read in place
          cols = backend.makeOutput([1, rows, k], 'float32');
          simd.gemmAccumulate(address(backend, dy) + first * pixels * cout * 4, address(backend, wt), address(backend, cols), rows, cout, k, cout * 4, k * 4, k * 4, 1);
        } else {
          if (!whole) heapF32(backend, dyc).set(heapF32(backend, dy).subarray(first * pixels * cout, (first + c) * pixels * cout));
          cols = runWasmKernel(tf.BatchMatMul, backend, { a: dyc, b: wt }, { transposeA: false, transposeB: false });
        }
        simd.col2im(address(backend, cols), address(backend, dx) + first * H * W * cin * 4, c, H, W, cin, oh, ow, g.filterHeight, g.filterWidth, g.padTop, g.padLeft);
      } finally {
        if (!whole) disposeAll(backend, dyc);
        if (cols !== undefined) disposeAll(backend, cols);
      }
    }
  } catch (error) {
    disposeAll(backend, dx);
    throw error;
  }
  return dx;
}

function viaConv(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const { filterHeight: fh, filterWidth: fw, inChannels: cin, outChannels: cout, strideHeight: sh, strideWidth: sw } = info;
  const dh = (info.outHeight - 1) * sh + 1;
  const dw = (info.outWidth - 1) * sw + 1;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  // A valid convolution over the padded D must give exactly H × W.
  const bottom = info.inHeight + fh - 1 - dh - top;
  const right = info.inWidth + fw - 1 - dw - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return undefined;

  const w2 = backend.makeOutput([fh, fw, cout, cin], 'float32');
  const strided = sh > 1 || sw > 1;
  const d = strided ? backend.makeOutput([info.batchSize, dh, dw, cout], 'float32') : dy;
  // Views after the allocations: a heap growth detaches earlier views.
  rotatedTransposedFilter(heapF32(backend, filter), fh, fw, cin, cout, heapF32(backend, w2));
  if (strided) dilate(heapF32(backend, dy), dy.shape, sh, sw, heapF32(backend, d));
  try {
    return runWasmKernel(tf.Conv2D, backend, { x: d, filter: w2 }, {
      strides: 1,
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: 1,
    });
  } finally {
    disposeAll(backend, w2);
    if (strided) disposeAll(backend, d);
  }
}

function conv2DBackpropInput(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return (
    conv2DBackpropInputImpl(backend, dy, filter, attrs) ??
    runWasmKernel(tf.Conv2DBackpropInput, backend, args.inputs, args.attrs)
  );
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as tf.KernelFunc,
};
