import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxPoolGradConfig } from '../../src/kernels/MaxPoolGrad.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

type Pad = 'same' | 'valid' | number;

describe('MaxPoolGrad (wasm, one pass over the windows)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.MaxPoolGrad, 'wasm')?.kernelFunc).toBe(maxPoolGradConfig.kernelFunc);
  });

  // loss = Σ maxPool(x) ⊙ u, so dy = u: a seeded, non-uniform upstream gradient.
  const poolGrad = (xShape: [number, number, number, number], size: number, stride: number, pad: Pad) => () => {
    const u = seededTensor(tf.backend_util.computePool2DInfo(xShape, size, stride, 1, pad).outShape, 12);
    return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, size, stride, pad), u)))(seededTensor(xShape, 11));
  };

  const cases: { x: [number, number, number, number]; size: number; stride: number; pad: Pad }[] = [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
    { x: [2, 9, 9, 3], size: 3, stride: 3, pad: 'valid' },
    { x: [2, 7, 7, 3], size: 2, stride: 2, pad: 'valid' },
    { x: [2, 7, 7, 3], size: 3, stride: 2, pad: 'same' },
    { x: [2, 6, 5, 4], size: 3, stride: 1, pad: 'same' },
    { x: [3, 9, 9, 2], size: 3, stride: 2, pad: 1 },
    // Channels in multiples of 4, whole windows: the SIMD loop.
    { x: [2, 8, 6, 4], size: 2, stride: 2, pad: 'valid' },
    { x: [3, 10, 10, 16], size: 2, stride: 2, pad: 'valid' },
    // Channels in multiples of 4 but a row and a column left over: the JavaScript loop.
    { x: [2, 7, 9, 8], size: 2, stride: 2, pad: 'valid' },
  ];

  for (const c of cases) {
    it(`matches the cpu backend: x ${c.x.join('×')}, ${c.size}×${c.size} window, stride ${c.stride}, pad ${c.pad}`, async () => {
      const f = poolGrad(c.x, c.size, c.stride, c.pad);
      const [expected] = await runOn('cpu', f);
      const [actual] = await runOn('wasm', f);
      expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
    });
  }

  it('sends a tied window maximum to its first position, like the cpu backend', async () => {
    // Rows [5 5 5 5] / [1 2 3 4]: windows {5, 5 | 1, 2} and {5, 5 | 3, 4}, each with a tie at the top.
    const x = () => tf.tensor4d([5, 5, 5, 5, 1, 2, 3, 4], [1, 2, 4, 1]);
    const f = () => tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid')))(x());
    const [expected] = await runOn('cpu', f);
    const [actual] = await runOn('wasm', f);
    expect(Array.from(actual!)).toEqual(Array.from(expected!));
    expect(Array.from(actual!)).toEqual([1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('breaks ties the same way in the SIMD loop (4 channels)', async () => {
    // Channel c of every pixel holds round(seed): many equal values in each window.
    const x = () => tf.round(tf.mul(seededTensor([2, 4, 6, 4], 13), 1.5));
    const f = () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), seededTensor([2, 2, 3, 4], 14))))(x());
    const [expected] = await runOn('cpu', f);
    const [actual] = await runOn('wasm', f);
    expect(Array.from(actual!)).toEqual(Array.from(expected!));
  });
});
