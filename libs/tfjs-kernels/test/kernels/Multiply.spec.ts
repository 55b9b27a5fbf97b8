import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { multiplyConfig } from '../../src/kernels/Multiply.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

describe('Multiply (wasm, x·1 shares x)', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.Multiply, 'wasm')?.kernelFunc).toBe(multiplyConfig.kernelFunc);
  });

  it('x·1 and 1·x are x, sharing its memory, special values included', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1.5, -0, Infinity, NaN, -3]);
    const y = tf.mul(x, 1);
    const z = tf.mul(tf.scalar(1), x);
    expect(y.dataId).toBe(x.dataId);
    expect(z.dataId).toBe(x.dataId);
    expect(Array.from(await y.data())).toEqual([1.5, -0, Infinity, NaN, -3]);
    tf.dispose([x, y, z]);
  });

  const cases: { a: number[]; b: number[]; name: string }[] = [
    { a: [3, 4], b: [3, 4], name: 'same shapes' },
    { a: [3, 4], b: [], name: 'by a scalar other than 1' },
    { a: [2, 3, 4], b: [4], name: 'broadcast' },
    { a: [1], b: [3, 4], name: 'one-element a broadcast' },
  ];
  for (const c of cases) {
    it(`matches the cpu backend: ${c.name}`, async () => {
      const f = () => tf.mul(seededTensor(c.a, 51), c.b.length === 0 ? tf.scalar(2.5) : seededTensor(c.b, 52));
      const [expected] = await runOn('cpu', f);
      const [actual] = await runOn('wasm', f);
      expect(maxScaledError(actual!, expected!)).toBeLessThan(FLOAT32_TOLERANCE);
    });
  }

  it('a one-element tensor equal to 1 that broadcasts x to a larger shape is multiplied, not shared', async () => {
    const f = () => tf.mul(tf.tensor2d([1], [1, 1]), tf.tensor1d([2, 3]));
    const [actual] = await runOn('wasm', f);
    expect(Array.from(actual!)).toEqual([2, 3]);
    await tf.setBackend('wasm');
    expect(tf.tidy(() => f().shape)).toEqual([1, 2]);
  });
});
