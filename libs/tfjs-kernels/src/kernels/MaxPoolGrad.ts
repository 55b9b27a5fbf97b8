import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, simdKernels } from '../simd/simd-kernels.ts';
import { heapF32, type WasmKernelArgs } from '../wasm-kernel-utils.ts';

/**
 * The gradient of 2-D max pooling (NHWC): each dy[n, y, x, c] goes to the position of the first
 * strict maximum of its window in row-major order (the cpu backend's rule, so ties and plateaus
 * give the same result), windows summed where they overlap.
 * x: [N, H, W, C], dy: [N, oh, ow, C] → dx: [N, H, W, C].
 *
 * One pass over the windows, reading each x value once per window containing it; the stock wasm
 * kernel loops over dx and re-scans every window for every dx element. The kernel runs 2×2 / stride 2
 * pooling of whole images with channels in multiples of 4 in WebAssembly SIMD (`simd/`), about 8×
 * faster than maxPoolGrad2x2 below; these JavaScript loops cover the other cases.
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

/**
 * maxPoolGradDisjoint for 2×2 windows with stride 2, without data-dependent branches: the first
 * strict maximum of (a0, a1 | a2, a3) in row-major order is found as a tournament whose ties go to
 * the earlier position, then all four dx values are cleared and the winner's is set. On random
 * activations the branches of the general loop mispredict about half the time.
 */
export function maxPoolGrad2x2(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow } = info;
  if (oh * 2 !== H || ow * 2 !== W) dx.fill(0);
  const down = W * C;
  const offsets = new Int32Array([0, C, down, down + C]);
  let g = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let p = ((b * H + y * 2) * W + xo * 2) * C;
        for (let c = 0; c < C; c++, p++) {
          const a0 = x[p]!;
          const a1 = x[p + C]!;
          const a2 = x[p + down]!;
          const a3 = x[p + down + C]!;
          const w01 = +(a1 > a0);
          const m01 = a1 > a0 ? a1 : a0;
          const w23 = 2 + +(a3 > a2);
          const m23 = a3 > a2 ? a3 : a2;
          const upper = +(m23 > m01);
          const w = w01 + upper * (w23 - w01);
          dx[p] = 0;
          dx[p + C] = 0;
          dx[p + down] = 0;
          dx[p + down + C] = 0;
          // A window of -∞ only has no maximum: no gradient, as on the cpu backend. (With NaNs in a
          // window the gradient may go to another position than on the cpu backend.)
          if (m01 > Number.NEGATIVE_INFINITY || m23 > Number.NEGATIVE_INFINITY) dx[p + offsets[w]!] = dy[g]!;
          g++;
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
  const twoByTwo = disjoint && info.strideHeight === 2 && info.strideWidth === 2;
  const simd = simdKernels(backend);
  if (twoByTwo && simd !== undefined && info.inChannels % 4 === 0 && info.outHeight * 2 === info.inHeight && info.outWidth * 2 === info.inWidth) {
    // The same rule as maxPoolGrad2x2, 4 channels at a time.
    simd.maxPoolGrad2x2(address(backend, input), address(backend, dy), address(backend, dx), info.batchSize * info.outHeight, info.outWidth, info.inChannels);
    return dx;
  }
  const impl = twoByTwo ? maxPoolGrad2x2 : disjoint ? maxPoolGradDisjoint : maxPoolGradValues;
  impl(heapF32(backend, input), heapF32(backend, dy), info, heapF32(backend, dx));
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
