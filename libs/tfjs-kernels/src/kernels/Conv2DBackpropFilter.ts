import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2DGeometry, nhwcConvInfo, type Conv2DGeometry } from '../conv-geometry.ts';
import { TfjsKernelsError } from '../errors.ts';
import { address, simdKernels } from '../simd/simd-kernels.ts';
import { disposeAll, heapF32, runWasmKernel, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/** Channels first: xt[ci, n, h, w] = x[n, h, w, ci]. x: [N, H, W, cin] → xt: [cin, N, H, W]. */
export function channelsFirst(x: Float32Array, pixels: number, cin: number, out: Float32Array): void {
  for (let p = 0; p < pixels; p++) {
    const src = p * cin;
    for (let c = 0; c < cin; c++) out[c * pixels + p] = x[src + c]!;
  }
}

/** xb[ci, h, w, n] = x[n, h, w, ci]: x with batch and channels swapped. x: [N, H, W, cin] → xb: [cin, H, W, N]. */
export function batchLast(x: Float32Array, n: number, pixels: number, cin: number, out: Float32Array): void {
  for (let b = 0; b < n; b++) {
    let src = b * pixels * cin;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < cin; c++) out[(c * pixels + p) * n + b] = x[src++]!;
    }
  }
}

/** dyb[y, x, n, co] = dy[n, y, x, co]. dy: [N, oh, ow, cout] → dyb: [oh, ow, N, cout]. */
export function batchInner(dy: Float32Array, n: number, pixels: number, cout: number, out: Float32Array): void {
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < pixels; p++) {
      const src = (b * pixels + p) * cout;
      const dst = (p * n + b) * cout;
      for (let c = 0; c < cout; c++) out[dst + c] = dy[src + c]!;
    }
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
 * `first` and `count` select images (a chunk of the batch): out is then [fh·fw·cin, count·oh·ow].
 */
export function im2colTransposed(xt: Float32Array, g: Conv2DGeometry, out: Float32Array, first = 0, count = g.batch - first): void {
  const { inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow } = g;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const m = count * oh * ow;
  const plane = g.batch * H * W;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const [xFirst, xEnd] = columnRange(g, j);
      for (let ci = 0; ci < cin; ci++) {
        let dst = ((i * fw + j) * cin + ci) * m;
        for (let n = first; n < first + count; n++) {
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

/** The x range [xFirst, xEnd) of output columns whose input column x·sw + j - pl lies inside [0, W). */
function columnRange(g: Conv2DGeometry, j: number): [number, number] {
  const { inWidth: W, outWidth: ow, strideWidth: sw, padLeft: pl } = g;
  const xFirst = Math.min(ow, Math.max(0, Math.ceil((pl - j) / sw)));
  const xEnd = Math.max(xFirst, Math.min(ow, Math.floor((W - 1 + pl - j) / sw) + 1));
  return [xFirst, xEnd];
}

/**
 * im2colTransposed of images [first, first + count) into the tensor colsT, with the SIMD row copy
 * (stride 1) when available.
 */
function im2colChunk(backend: BackendWasm, xt: tf.TensorInfo, g: Conv2DGeometry, colsT: tf.TensorInfo, first: number, count: number): void {
  const simd = simdKernels(backend);
  if (simd === undefined || g.strideHeight !== 1 || g.strideWidth !== 1) {
    im2colTransposed(heapF32(backend, xt), g, heapF32(backend, colsT), first, count);
    return;
  }
  const { inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = g;
  const m = count * oh * ow;
  const plane = g.batch * H * W;
  const src = address(backend, xt);
  const dst = address(backend, colsT);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const [xFirst, xEnd] = columnRange(g, j);
      for (let ci = 0; ci < cin; ci++) {
        const row = (i * fw + j) * cin + ci;
        simd.im2colRow(src + (ci * plane + first * H * W) * 4, dst + row * m * 4, count, H, W, oh, ow, i - g.padTop, j - g.padLeft, xFirst, xEnd);
      }
    }
  }
}

/** How the filter gradient is computed: `auto` prefers `simd`, then `conv` where they apply. */
export type BackpropFilterMethod = 'auto' | 'simd' | 'conv' | 'matmul';

let method: BackpropFilterMethod = 'auto';

/** Without SIMD, `auto` uses the swapped convolution from this many input channels on. */
export const AUTO_CONV_MIN_CHANNELS = 8;

/** Forces one method (specs test each; benchmarks compare them). Returns the previous one. */
export function setConv2DBackpropFilterMethod(m: BackpropFilterMethod): BackpropFilterMethod {
  const previous = method;
  method = m;
  return previous;
}

/**
 * The gradient of a 2-D convolution with respect to its filter (NHWC, no dilation):
 *   dW[i, j, ci, co] = Σ_{n, y, x} x[n, y·sh + i - pt, x·sw + j - pl, ci] · dy[n, y, x, co].
 * x: [N, H, W, cin], dy: [N, oh, ow, cout] → dW: [fh, fw, cin, cout].
 *
 * Three ways:
 * - `simd` (the default where WebAssembly SIMD is available and cout % 8 = 0): dW = colsT · dy with
 *   colsT the transposed im2col of x ([fh·fw·cin, N·oh·ow]), by chunks of the batch, in the project's
 *   SIMD product (`simd/`), which reads dy in place: XNNPACK's products pack their right operand
 *   on every call, and for a filter gradient that operand is the (new every step) dy, whose packing
 *   cost about a third of the product on the VanillaCNN's conv1.
 * - `conv`, on the wasm backend's XNNPACK convolution: the same sum is a forward convolution with the
 *   roles swapped: input xb = x as [cin, H, W, N] (channels as the batch, the batch as channels),
 *   filter dyb = dy as [oh, ow, N, cout], dilation = the stride, the original padding: the output
 *   [cin, fh, fw, cout] is dW with its first axis moved. XNNPACK's indirect convolution reads xb in
 *   place, so no im2col matrix is written.
 * - `matmul`: the same product as `simd` in XNNPACK.
 * `conv` and `matmul` also run by chunks of the batch (the product's reduction runs over N·oh·ow,
 * which XNNPACK does not block). Without SIMD, `auto` takes `conv` from AUTO_CONV_MIN_CHANNELS input
 * channels on, where it applies: it needs the padded input to end exactly where the last tap reads
 * (always so for stride 1, and for larger strides when they tile the input); otherwise `matmul`.
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
    throw new TfjsKernelsError('invalid_argument', `Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const g = conv2DGeometry(info);
  if (method === 'simd' || method === 'auto') {
    const viaSimd = viaSimdProduct(backend, x, dy, g, attrs.filterShape);
    if (viaSimd !== undefined) return viaSimd;
    if (method === 'simd') throw new TfjsKernelsError('invalid_argument', 'Conv2DBackpropFilter: the simd method needs WebAssembly SIMD and cout % 8 = 0');
  }
  // Without SIMD, measured on the VanillaCNN shapes: the swapped convolution wins when x has many channels
  // (conv2: 32), im2col when it has few (conv1: 3, where the dy transpose dominates).
  if (method === 'conv' || (method === 'auto' && g.inChannels >= AUTO_CONV_MIN_CHANNELS)) {
    const viaConvolution = viaConv(backend, x, dy, g);
    if (viaConvolution !== undefined) return viaConvolution;
    if (method === 'conv') throw new TfjsKernelsError('invalid_argument', 'Conv2DBackpropFilter: the conv method does not cover this padding');
  }
  return viaMatmul(backend, x, dy, g, attrs.filterShape);
}

/**
 * Bytes of the per-chunk working set the two methods aim for (the im2col block for `matmul`, the
 * product's right operand for `conv`): the product's reduction runs over N·oh·ow, and XNNPACK does
 * not block it, so one product over the whole batch streams its operands from memory once per
 * block of output rows; chunks of the batch that fit in cache, summed, are faster.
 */
let chunkBytes = { matmul: 1 << 19, conv: 1 << 20, simd: 1 << 20 };

type ChunkBytes = typeof chunkBytes;

/** Sets chunk sizes (benchmarks tune them; Infinity = the whole batch at once). Returns the previous ones. */
export function setConv2DBackpropFilterChunkBytes(sizes: Partial<ChunkBytes>): ChunkBytes {
  const previous = chunkBytes;
  chunkBytes = { ...chunkBytes, ...sizes };
  return previous;
}

/** Images per chunk: as few chunks as the budget allows, of equal sizes. */
function imagesPerChunk(bytesPerImage: number, budget: number, batch: number): number {
  const chunks = Math.max(1, Math.ceil((batch * bytesPerImage) / budget));
  return Math.ceil(batch / Math.min(batch, chunks));
}

/** acc += part, elementwise. */
function accumulate(acc: Float32Array, part: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + part[i]!;
}

function viaConv(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, g: Conv2DGeometry): tf.TensorInfo | undefined {
  const { batch: n, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, outChannels: cout } = g;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  // The swapped convolution reads rows -pt … (oh-1)·sh + fh-1 - pt; it must produce exactly fh rows.
  const bottom = (oh - 1) * sh + fh - pt - H;
  const right = (ow - 1) * sw + fw - pl - W;
  if (bottom < 0 || right < 0) return undefined;
  const pixels = oh * ow;
  const nb = imagesPerChunk(pixels * cout * 4, chunkBytes.conv, n);
  const simd = simdKernels(backend);
  // Σ over chunks of [cin, fh, fw, cout]
  const acc = new Float32Array(cin * fh * fw * cout);
  for (let first = 0; first < n; first += nb) {
    const c = Math.min(nb, n - first);
    const xb = backend.makeOutput([cin, H, W, c], 'float32');
    const dyb = backend.makeOutput([oh, ow, c, cout], 'float32');
    let part: tf.TensorInfo | undefined;
    try {
      batchLast(heapF32(backend, x).subarray(first * H * W * cin, (first + c) * H * W * cin), c, H * W, cin, heapF32(backend, xb));
      if (simd !== undefined && cout % 4 === 0) {
        const run = cout * 4;
        simd.copyRuns(address(backend, dy) + first * pixels * run, address(backend, dyb), c, pixels, run, pixels * run, run, run, c * run);
      } else {
        batchInner(heapF32(backend, dy).subarray(first * pixels * cout, (first + c) * pixels * cout), c, pixels, cout, heapF32(backend, dyb));
      }
      part = runWasmKernel(tf.Conv2D, backend, { x: xb, filter: dyb }, {
        strides: 1,
        pad: [[0, 0], [pt, bottom], [pl, right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      });
      accumulate(acc, heapF32(backend, part));
    } finally {
      disposeAll(backend, xb, dyb);
      if (part !== undefined) disposeAll(backend, part);
    }
  }
  // [cin, fh, fw, cout] → [fh, fw, cin, cout]
  const dw = backend.makeOutput([fh, fw, cin, cout], 'float32');
  const dst = heapF32(backend, dw);
  for (let ci = 0; ci < cin; ci++) {
    for (let t = 0; t < fh * fw; t++) {
      const from = (ci * fh * fw + t) * cout;
      const to = (t * cin + ci) * cout;
      for (let co = 0; co < cout; co++) dst[to + co] = acc[from + co]!;
    }
  }
  return dw;
}

/**
 * The `simd` method: by chunks of the batch, the transposed im2col block (rows padded to a multiple
 * of 4 with zeros) times dy read in place, accumulated into dW by the SIMD product (no packing of dy,
 * which XNNPACK repacks on every call). Undefined where SIMD is off or cout is not a multiple of 8.
 */
function viaSimdProduct(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Conv2DGeometry,
  filterShape: readonly number[],
): tf.TensorInfo | undefined {
  const simd = simdKernels(backend);
  const cout = g.outChannels;
  if (simd === undefined || cout % 8 !== 0 || cout === 0) return undefined;
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const rows = Math.ceil(k / 4) * 4;
  const pixels = g.outHeight * g.outWidth;
  const nb = imagesPerChunk(rows * pixels * 4, chunkBytes.simd, g.batch);
  const acc = backend.makeOutput([rows, cout], 'float32');
  const xt = backend.makeOutput([g.inChannels, g.batch, g.inHeight, g.inWidth], 'float32');
  try {
    heapF32(backend, acc).fill(0);
    channelsFirst(heapF32(backend, x), g.batch * g.inHeight * g.inWidth, g.inChannels, heapF32(backend, xt));
    for (let first = 0; first < g.batch; first += nb) {
      const c = Math.min(nb, g.batch - first);
      const m = c * pixels;
      const colsT = backend.makeOutput([1, rows, m], 'float32');
      try {
        heapF32(backend, colsT).fill(0, k * m);
        im2colChunk(backend, xt, g, colsT, first, c);
        simd.gemmAccumulate(address(backend, colsT), address(backend, dy) + first * pixels * cout * 4, address(backend, acc), rows, m, cout, m * 4, cout * 4, cout * 4, 0);
      } finally {
        disposeAll(backend, colsT);
      }
    }
    const dw = backend.makeOutput([...filterShape], 'float32');
    heapF32(backend, dw).set(heapF32(backend, acc).subarray(0, k * cout));
    return dw;
  } finally {
    disposeAll(backend, acc, xt);
  }
}

function viaMatmul(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Conv2DGeometry,
  filterShape: readonly number[],
): tf.TensorInfo {
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const pixels = g.outHeight * g.outWidth;
  const cout = g.outChannels;
  const nb = imagesPerChunk(k * pixels * 4, chunkBytes.matmul, g.batch);
  const xt = backend.makeOutput([g.inChannels, g.batch, g.inHeight, g.inWidth], 'float32');
  channelsFirst(heapF32(backend, x), g.batch * g.inHeight * g.inWidth, g.inChannels, heapF32(backend, xt));
  let dw: tf.TensorInfo | undefined;
  try {
    for (let first = 0; first < g.batch; first += nb) {
      const c = Math.min(nb, g.batch - first);
      const m = c * pixels;
      const colsT = backend.makeOutput([1, k, m], 'float32');
      // The product's right operand must be a tensor of its own (XNNPACK caches its packing by tensor).
      const whole = c === g.batch;
      const dyc = whole ? { dataId: dy.dataId, dtype: dy.dtype, shape: [1, m, cout] } : backend.makeOutput([1, m, cout], 'float32');
      let part: tf.TensorInfo | undefined;
      try {
        if (!whole) heapF32(backend, dyc).set(heapF32(backend, dy).subarray(first * pixels * cout, (first + c) * pixels * cout));
        im2colChunk(backend, xt, g, colsT, first, c);
        part = runWasmKernel(tf.BatchMatMul, backend, { a: colsT, b: dyc }, { transposeA: false, transposeB: false });
        if (dw === undefined) {
          dw = part;
          part = undefined;
        } else {
          accumulate(heapF32(backend, dw), heapF32(backend, part));
        }
      } finally {
        disposeAll(backend, colsT);
        if (!whole) disposeAll(backend, dyc);
        if (part !== undefined) disposeAll(backend, part);
      }
    }
  } catch (error) {
    if (dw !== undefined) disposeAll(backend, dw);
    throw error;
  } finally {
    disposeAll(backend, xt);
  }
  dw!.shape = [...filterShape];
  return dw!;
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
