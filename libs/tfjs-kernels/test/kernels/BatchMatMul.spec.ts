import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchMatMulConfig } from '../../src/kernels/BatchMatMul.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

describe('BatchMatMul (wasm, explicit transpose)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')?.kernelFunc).toBe(batchMatMulConfig.kernelFunc);
  });

  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { name: 'plain', a: [3, 5], b: [5, 4], ta: false, tb: false },
    { name: 'Aᵀ·B (dense weight gradient)', a: [7, 3], b: [7, 4], ta: true, tb: false },
    { name: 'A·Bᵀ (dense input gradient)', a: [3, 5], b: [4, 5], ta: false, tb: true },
    { name: 'Aᵀ·Bᵀ batched', a: [2, 5, 3], b: [2, 4, 5], ta: true, tb: true },
    { name: 'batched with broadcast B', a: [3, 6, 2], b: [1, 6, 4], ta: true, tb: false },
  ];

  for (const c of cases) {
    it(`matches the cpu backend: ${c.name}`, async () => {
      const f = () => tf.matMul(seededTensor(c.a, 1), seededTensor(c.b, 2), c.ta, c.tb);
      const [expected] = await runOn('cpu', f);
      const [actual] = await runOn('wasm', f);
      expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
    });
  }

  it('computes a known product (Aᵀ·B by hand)', async () => {
    // A = [[1,2],[3,4]], B = [[5,6],[7,8]]: AᵀB = [[1·5+3·7, 1·6+3·8], [2·5+4·7, 2·6+4·8]]
    const [actual] = await runOn('wasm', () => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), true, false));
    expect(Array.from(actual!)).toEqual([26, 30, 38, 44]);
  });
});
