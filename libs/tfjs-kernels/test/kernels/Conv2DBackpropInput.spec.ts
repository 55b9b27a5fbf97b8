import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  col2im,
  conv2DBackpropInputConfig,
  dilate,
  rotatedTransposedFilter,
  setConv2DBackpropInputChunkBytes,
  setConv2DBackpropInputMethod,
  setConv2DBackpropInputProduct,
  type BackpropInputMethod,
} from '../../src/kernels/Conv2DBackpropInput.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

type Pad = 'same' | 'valid' | number;

describe('Conv2DBackpropInput (wasm, as a forward convolution)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).toBe(conv2DBackpropInputConfig.kernelFunc);
  });

  it('rotates the filter and swaps its channels', () => {
    // W[i, j, ci, co] over fh = 1, fw = 2, cin = 2, cout = 3, W = 0..11 in order.
    const w = Float32Array.from({ length: 12 }, (_, i) => i);
    const out = new Float32Array(12);
    rotatedTransposedFilter(w, 1, 2, 2, 3, out);
    // W'[0, 0, co, ci] = W[0, 1, ci, co] = 6 + ci·3 + co
    expect(Array.from(out.subarray(0, 6))).toEqual([6, 9, 7, 10, 8, 11]);
    expect(Array.from(out.subarray(6))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('dilates by the stride with zeros between', () => {
    const out = new Float32Array(1 * 3 * 3 * 1);
    dilate(Float32Array.from([1, 2, 3, 4]), [1, 2, 2, 1], 2, 2, out);
    expect(Array.from(out)).toEqual([1, 0, 2, 0, 0, 0, 3, 0, 4]);
  });

  const cases: { x: [number, number, number, number]; f: [number, number, number, number]; s: number | [number, number]; pad: Pad }[] = [
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid' },
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
    { x: [3, 8, 8, 5], f: [5, 5, 5, 2], s: 1, pad: 'same' },
    { x: [2, 9, 7, 2], f: [2, 4, 2, 3], s: [2, 1], pad: 'same' },
    { x: [2, 6, 6, 2], f: [3, 3, 2, 3], s: 2, pad: 1 },
    { x: [4, 14, 14, 8], f: [5, 5, 8, 16], s: 1, pad: 'valid' },
  ];

  const methods: BackpropInputMethod[] = ['conv', 'matmul', 'auto'];
  for (const m of methods) {
    for (const c of cases) {
      it(`matches the cpu backend (${m}): x ${c.x.join('×')}, filter ${c.f.join('×')}, stride ${String(c.s)}, pad ${c.pad}`, async () => {
        const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
        const f = () => tf.conv2dTranspose(seededTensor(outShape, 3) as tf.Tensor4D, seededTensor(c.f, 4) as tf.Tensor4D, c.x, c.s, c.pad);
        const [expected] = await runOn('cpu', f);
        const previous = setConv2DBackpropInputMethod(m);
        try {
          const [actual] = await runOn('wasm', f);
          expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
        } finally {
          setConv2DBackpropInputMethod(previous);
        }
      });
    }
  }

  it('gives the same input gradient by chunks of the batch (SIMD col2im, one image per chunk and uneven chunks)', async () => {
    for (const [x, f, pad] of [
      [[5, 9, 8, 8], [3, 3, 8, 4], 'valid'],
      [[3, 6, 7, 4], [3, 5, 4, 8], 'same'],
      // rows of a one-image chunk (5·3 = 15) not a multiple of 4: XNNPACK's product for those chunks
      [[4, 7, 5, 8], [3, 3, 8, 4], 'valid'],
    ] as [[number, number, number, number], [number, number, number, number], Pad][]) {
      const outShape = tf.backend_util.computeConv2DInfo(x, f, 1, 1, pad).outShape;
      const run = () => tf.conv2dTranspose(seededTensor(outShape, 3) as tf.Tensor4D, seededTensor(f, 4) as tf.Tensor4D, x, 1, pad);
      const [expected] = await runOn('cpu', run);
      const method = setConv2DBackpropInputMethod('matmul');
      for (const product of ['simd', 'xnnpack'] as const) {
        const previousProduct = setConv2DBackpropInputProduct(product);
        for (const bytes of [1, 2 * 4 * outShape[1] * outShape[2] * f[0] * f[1] * f[2], Infinity]) {
          const previous = setConv2DBackpropInputChunkBytes(bytes);
          try {
            const [actual] = await runOn('wasm', run);
            expect(maxScaledError(actual!, expected!), `${product}, chunk ${bytes} bytes`).toBeLessThan(FLOAT32_TOLERANCE);
          } finally {
            setConv2DBackpropInputChunkBytes(previous);
          }
        }
        setConv2DBackpropInputProduct(previousProduct);
      }
      setConv2DBackpropInputMethod(method);
    }
  });

  it('sums columns back into the image (col2im), skipping the padding', () => {
    // x 1×2×2×1, 2×2 filter, 'same' (pad bottom/right), stride 1: 4 output positions × 4 taps.
    // Column m, tap k holds 10·m + k; dx[h, w] sums the (m, k) with h = y + i, w = x + j.
    const cols = Float32Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const dx = new Float32Array(4);
    col2im(cols, {
      batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 2, outWidth: 2, outChannels: 1,
      filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0,
    }, dx);
    // dx[0,0] = (m0,k0); dx[0,1] = (m0,k1)+(m1,k0); dx[1,0] = (m0,k2)+(m2,k0); dx[1,1] = (m0,k3)+(m1,k2)+(m2,k1)+(m3,k0)
    expect(Array.from(dx)).toEqual([0, 1 + 10, 2 + 20, 3 + 12 + 21 + 30]);
  });

  it('gives the input gradient of conv2d', async () => {
    const x = [2, 8, 8, 3] as [number, number, number, number];
    const loss = () => {
      const w = seededTensor([3, 3, 3, 4], 7) as tf.Tensor4D;
      return tf.grad((xv: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xv as tf.Tensor4D, w, 2, 'same'))))(seededTensor(x, 8));
    };
    const [expected] = await runOn('cpu', loss);
    const [actual] = await runOn('wasm', loss);
    expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
  });
});
