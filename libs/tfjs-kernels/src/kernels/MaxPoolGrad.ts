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
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    const image = b * H * W * C;
    for (let y = 0; y < oh; y++) {
      const r0 = Math.max(0, y * sh - pt);
      const r1 = Math.min(H, y * sh - pt + fh);
      for (let xo = 0; xo < ow; xo++) {
        const c0 = Math.max(0, xo * sw - pl);
        const c1 = Math.min(W, xo * sw - pl + fw);
        const dyBase = ((b * oh + y) * ow + xo) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            let idx = image + (r * W + c0) * C + c;
            for (let col = c0; col < c1; col++) {
              const v = x[idx] as number;
              if (v > best) {
                best = v;
                at = idx;
              }
              idx += C;
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (dy[dyBase + c] as number);
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
  maxPoolGradValues(heapF32(backend, input), heapF32(backend, dy), info, heapF32(backend, dx));
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
