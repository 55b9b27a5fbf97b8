import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchInner,
  batchLast,
  channelsFirst,
  conv2DBackpropFilterConfig,
  im2colTransposed,
  setConv2DBackpropFilterChunkBytes,
  setConv2DBackpropFilterMethod,
  type BackpropFilterMethod,
} from '../../src/kernels/Conv2DBackpropFilter.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

type Pad = 'same' | 'valid' | number;

describe('Conv2DBackpropFilter (wasm, im2col and one product)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is registered for wasm, which has no such kernel of its own', () => {
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(conv2DBackpropFilterConfig.kernelFunc);
  });

  it('lays out im2col transposed, with zeros in the padding', () => {
    // x: 1×2×2×1 = [[1, 2], [3, 4]], 2×2 filter, 'same' (pad bottom/right by 1), stride 1.
    const out = new Float32Array(4 * 4);
    im2colTransposed(Float32Array.from([1, 2, 3, 4]), {
      batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 2, outWidth: 2, outChannels: 1,
      filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0,
    }, out);
    // rows k = (i, j): the input seen by filter tap (i, j) at each output position
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 2, 0, 4, 0, 3, 4, 0, 0, 4, 0, 0, 0]);
  });

  it('moves channels first', () => {
    // 2 pixels × 3 channels: [p0c0 p0c1 p0c2 p1c0 p1c1 p1c2] → [c0: p0 p1, c1: ..., c2: ...]
    const out = new Float32Array(6);
    channelsFirst(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3, out);
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
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

  const methods: BackpropFilterMethod[] = ['matmul', 'conv', 'simd', 'auto'];
  for (const m of methods) {
    for (const c of m === 'conv' ? [] : m === 'simd' ? cases.filter((k) => k.f[3] % 8 === 0) : cases) {
      it(`matches the cpu backend (${m}): x ${c.x.join('×')}, filter ${c.f.join('×')}, stride ${String(c.s)}, pad ${c.pad}`, async () => {
        const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
        const f = () =>
          tf.engine().runKernel(
            tf.Conv2DBackpropFilter,
            { x: seededTensor(c.x, 5), dy: seededTensor(outShape, 6) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
          ) as tf.Tensor;
        const [expected] = await runOn('cpu', f);
        const previous = setConv2DBackpropFilterMethod(m);
        try {
          const [actual] = await runOn('wasm', f);
          expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
        } finally {
          setConv2DBackpropFilterMethod(previous);
        }
      });
    }
  }

  it('the conv method covers the VanillaCNN shapes and same padding', async () => {
    const previous = setConv2DBackpropFilterMethod('conv');
    try {
      for (const c of [cases[0]!, cases[1]!, cases[3]!, cases[4]!, cases[7]!]) {
        const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
        const f = () =>
          tf.engine().runKernel(
            tf.Conv2DBackpropFilter,
            { x: seededTensor(c.x, 5), dy: seededTensor(outShape, 6) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
          ) as tf.Tensor;
        const [expected] = await runOn('cpu', f);
        const [actual] = await runOn('wasm', f);
        expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
      }
    } finally {
      setConv2DBackpropFilterMethod(previous);
    }
  });

  it('gives the same filter gradient by chunks of the batch (one image per chunk, uneven chunks, whole batch)', async () => {
    for (const [m, c] of [
      ['matmul', { x: [5, 9, 8, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' }],
      ['matmul', { x: [5, 9, 8, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' }],
      ['conv', { x: [5, 8, 8, 8], f: [5, 5, 8, 8], s: 1, pad: 'valid' }],
      ['conv', { x: [5, 8, 8, 8], f: [3, 3, 8, 6], s: 1, pad: 'same' }],
      ['simd', { x: [5, 9, 8, 3], f: [3, 3, 3, 8], s: 1, pad: 'same' }],
      ['simd', { x: [5, 9, 8, 3], f: [3, 3, 3, 16], s: 2, pad: 'valid' }],
      ['simd', { x: [5, 8, 8, 8], f: [5, 5, 8, 8], s: 1, pad: 'valid' }],
    ] as [BackpropFilterMethod, (typeof cases)[number]][]) {
      const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
      const run = () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: seededTensor(c.x, 5), dy: seededTensor(outShape, 6) },
          { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
        ) as tf.Tensor;
      const [expected] = await runOn('cpu', run);
      const method = setConv2DBackpropFilterMethod(m);
      // one image per chunk; two images (3 chunks: 2, 2, 1); the whole batch
      const rows = m === 'simd' ? Math.ceil((c.f[0] * c.f[1] * c.f[2]) / 4) * 4 : c.f[0] * c.f[1] * c.f[2];
      const perImage = m === 'conv' ? outShape[1] * outShape[2] * c.f[3] * 4 : rows * outShape[1] * outShape[2] * 4;
      for (const bytes of [1, 2 * perImage, Infinity]) {
        const previous = setConv2DBackpropFilterChunkBytes({ matmul: bytes, conv: bytes, simd: bytes });
        try {
          const [actual] = await runOn('wasm', run);
          expect(maxScaledError(actual!, expected!), `${m}, chunk ${bytes} bytes`).toBeLessThan(FLOAT32_TOLERANCE);
        } finally {
          setConv2DBackpropFilterChunkBytes(previous);
        }
      }
      setConv2DBackpropFilterMethod(method);
    }
  });

  it('refuses NCHW with a typed error', async () => {
    await tf.setBackend('wasm');
    expect(() =>
      tf.tidy(() =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: tf.zeros([1, 2, 4, 4]), dy: tf.zeros([1, 2, 2, 2]) },
          { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] },
        ),
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringMatching(/NHWC only/) }));
  });

  it('swaps batch and channels for the conv method', () => {
    // x: N = 2, one pixel, cin = 3: [n0: 1 2 3, n1: 4 5 6] → xb [cin, 1, 1, N] = [1 4, 2 5, 3 6]
    const xb = new Float32Array(6);
    batchLast(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 1, 3, xb);
    expect(Array.from(xb)).toEqual([1, 4, 2, 5, 3, 6]);
    // dy: N = 2, 2 pixels, cout = 1: [n0: 1 2, n1: 3 4] → dyb [pixels, N, cout] = [1 3, 2 4]
    const dyb = new Float32Array(4);
    batchInner(Float32Array.from([1, 2, 3, 4]), 2, 2, 1, dyb);
    expect(Array.from(dyb)).toEqual([1, 3, 2, 4]);
  });

  it('gives the filter gradient of conv2d', async () => {
    const loss = () => {
      const x = seededTensor([2, 8, 8, 3], 9) as tf.Tensor4D;
      return tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'))))(seededTensor([3, 3, 3, 4], 10));
    };
    const [expected] = await runOn('cpu', loss);
    const [actual] = await runOn('wasm', loss);
    expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
  });
});
