import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * The gradient of 2-D max pooling (NHWC): each dy[n, y, x, c] goes to the position of the first
 * strict maximum of its window in row-major order (the cpu backend's rule, so ties and plateaus
 * give the same result), windows summed where they overlap.
 * x: [N, H, W, C], dy: [N, oh, ow, C] → dx: [N, H, W, C].
 *
 * One pass over the windows, reading each x value once per window containing it; the stock wasm
 * kernel loops over dx and re-scans every window for every dx element.
 */
export function maxPoolGradValues(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Per window, all channels at once: NHWC keeps the channels of one pixel contiguous.
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    const image = b * H * W * C;
    for (let y = 0; y < oh; y++) {
      const r0 = Math.max(0, y * sh - pt);
      const r1 = Math.min(H, y * sh - pt + fh);
      for (let xo = 0; xo < ow; xo++) {
        const c0 = Math.max(0, xo * sw - pl);
        const c1 = Math.min(W, xo * sw - pl + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) {
            const base = image + (r * W + col) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c]!;
              if (v > best[c]!) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const dyBase = ((b * oh + y) * ow + xo) * C;
        for (let c = 0; c < C; c++) {
          const i = at[c]!;
          if (i >= 0) dx[i] = dx[i]! + dy[dyBase + c]!;
        }
      }
    }
  }
}

/**
 * The same rule for the common case of disjoint windows (window = stride, no padding, e.g. 2×2
 * pooling with stride 2): every x position lies in at most one window, so each dx value is
 * written once (dy or 0) without clearing dx first or reading it back.
 */
export function maxPoolGradDisjoint(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  // Rows and columns past the last window get no gradient.
  if (oh * fh !== H || ow * fw !== W) dx.fill(0);
  const rowStride = W * C;
  let dyIndex = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        const corner = ((b * H + y * fh) * W + xo * fw) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = 0; r < fh; r++) {
            let idx = corner + r * rowStride + c;
            for (let col = 0; col < fw; col++) {
              const v = x[idx]!;
              if (v > best) {
                best = v;
                at = idx;
              }
              dx[idx] = 0;
              idx += C;
            }
          }
          if (at >= 0) dx[at] = dy[dyIndex]!;
          dyIndex++;
        }
      }
    }
  }
}

function maxPoolGrad(args: WasmKernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const dx = backend.makeOutput([...input.shape], 'float32');
  const disjoint =
    info.strideHeight === info.effectiveFilterHeight &&
    info.strideWidth === info.effectiveFilterWidth &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight * info.strideHeight <= info.inHeight &&
    info.outWidth * info.strideWidth <= info.inWidth;
  (disjoint ? maxPoolGradDisjoint : maxPoolGradValues)(heapF32(backend, input), heapF32(backend, dy), info, heapF32(backend, dx));
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
