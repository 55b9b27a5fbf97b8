import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sumConfig, sumMiddleAxis } from '../../src/kernels/Sum.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

describe('Sum (wasm, contiguous non-innermost axes in one pass)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.Sum, 'wasm')?.kernelFunc).toBe(sumConfig.kernelFunc);
  });

  it('sums the middle axis of [P, R, Q]', () => {
    // x[p, r, q] = 100p + 10r + q over P = 2, R = 3, Q = 2
    const x = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * (Math.floor(i / 2) % 3) + (i % 2));
    const out = new Float32Array(4);
    sumMiddleAxis(x, 2, 3, 2, out);
    expect(Array.from(out)).toEqual([30, 33, 330, 333]);
  });

  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [4, 5, 6, 3], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 5, 6, 3], axis: [0, 1, 2], keepDims: true },
    { shape: [7, 3], axis: 0, keepDims: false },
    // Bias-gradient shapes with many channels.
    { shape: [3, 5, 4, 16], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 5, 4, 16], axis: [0, 1, 2], keepDims: true },
    { shape: [33, 10], axis: 0, keepDims: false },
    { shape: [2, 5, 6, 3], axis: [1, 2], keepDims: false },
    // Columns in multiples of 4: the SIMD loop, also with an outer axis kept.
    { shape: [2, 5, 6, 8], axis: [1, 2], keepDims: false },
    { shape: [130, 12], axis: 0, keepDims: true },
    { shape: [2, 5, 6, 3], axis: -1, keepDims: false },
    { shape: [2, 5, 6, 3], axis: [0, 2], keepDims: false },
    { shape: [2, 5, 6, 3], axis: [0, 1, 2, 3], keepDims: false },
  ];
  for (const c of cases) {
    it(`matches the cpu backend: shape ${c.shape.join('×')}, axis ${String(c.axis)}, keepDims ${c.keepDims}`, async () => {
      const f = () => tf.sum(seededTensor(c.shape, 31), c.axis, c.keepDims);
      const [expected] = await runOn('cpu', f);
      const [actual] = await runOn('wasm', f);
      expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
      await tf.setBackend('wasm');
      expect(tf.tidy(() => f().shape)).toEqual(tf.tidy(() => tf.sum(tf.zeros(c.shape), c.axis, c.keepDims).shape));
    });
  }

  it('leaves int32 sums to the stock kernel', async () => {
    const [actual] = await runOn('wasm', () => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0));
    expect(Array.from(actual!)).toEqual([4, 6]);
  });
});
