import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { castConfig } from '../../src/kernels/Cast.ts';
import { runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

describe('Cast (wasm)', () => {
  beforeAll(async () => {
    await setUpBackends();
    await tf.setBackend('wasm');
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.Cast, 'wasm')?.kernelFunc).toBe(castConfig.kernelFunc);
  });

  it('to the same dtype shares the memory', () => {
    const x = tf.tensor1d([1, 2]);
    const y = tf.cast(x, 'float32');
    expect(y.dataId).toBe(x.dataId);
    tf.dispose([x, y]);
  });

  it('casts to another dtype still convert, to bool as x ≠ 0 (the stock kernel copied the number)', async () => {
    const x = tf.tensor1d([1.7, -2.2]);
    expect(Array.from(await tf.cast(x, 'int32').data())).toEqual([1, -2]);
    expect(Array.from(await tf.cast(tf.tensor1d([0, 3, -1], 'int32'), 'bool').data())).toEqual([0, 1, 1]);
    expect(Array.from(await tf.cast(tf.tensor1d([0, 0.5, NaN]), 'bool').data())).toEqual([0, 1, 1]);
  });

  for (const dtype of ['int32', 'bool'] as const) {
    it(`float32 → ${dtype} matches the cpu backend`, async () => {
      const f = () => tf.cast(tf.mul(seededTensor([5, 7], 61), 4), dtype);
      const [expected] = await runOn('cpu', f);
      const [actual] = await runOn('wasm', f);
      expect(Array.from(actual!)).toEqual(Array.from(expected!));
    });
  }
});
