import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { identityConfig } from '../../src/kernels/Identity.ts';
import { setUpBackends } from '../testing/compare-backends.ts';

describe('Identity (wasm, shared memory)', () => {
  beforeAll(async () => {
    await setUpBackends();
    await tf.setBackend('wasm');
  });

  it('is the kernel registered for wasm', () => {
    expect(tf.getKernel(tf.Identity, 'wasm')?.kernelFunc).toBe(identityConfig.kernelFunc);
  });

  it('a clone (and a same-dtype cast) shares memory and outlives its source', async () => {
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    // One buffer for the three tensors.
    expect(tf.memory().numDataBuffers - before).toBe(1);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    y.dispose();
    expect(Array.from(await z.data())).toEqual([1, 2, 3]);
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });

  it('a variable assigned after cloning leaves the clone unchanged', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([5, 6]));
    expect(Array.from(await snapshot.data())).toEqual([1, 2]);
    expect(Array.from(await v.data())).toEqual([5, 6]);
    tf.dispose([v, snapshot]);
  });
});
