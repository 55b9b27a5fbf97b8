import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import { instanceNormalize, trainProbe } from '../src/probe.ts';
import { trainProbes } from '../src/probe-pool.ts';
import { randomFloat, seededRng } from '@rlsa/core';

/** Gaussian blobs: class c centred at 3·e_c in `dims` dimensions, unit noise; seeded. */
function blobs(n: number, classes: number, dims: number, seed: number) {
  const rng = seededRng(seed);
  const random = (): number => randomFloat(rng);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const data = new Float32Array(n * dims);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < dims; j++) data[i * dims + j] = gauss() + (j === c ? 3 : 0);
  }
  return { x: { rows: n, cols: dims, data }, labels };
}

beforeAll(async () => {
  await initTfjsBackend('auto');
});

describe('instanceNormalize', () => {
  it('gives each row zero mean and unit (biased) variance, as InstanceNorm1d with eps 1e-5', () => {
    const x = { rows: 2, cols: 4, data: Float32Array.from([1, 2, 3, 4, 10, 10, 10, 14]) };
    const y = instanceNormalize(x);
    // Row 1: mean 2.5, biased variance 1.25 → (x − 2.5)/sqrt(1.25 + 1e-5).
    const s = Math.sqrt(1.25 + 1e-5);
    expect(Array.from(y.data.slice(0, 4))).toEqual([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s].map((v) => Math.fround(v)));
    // Row 2: mean 11, biased variance 3 → [-1, -1, -1, 3]/sqrt(3 + 1e-5).
    const t = Math.sqrt(3 + 1e-5);
    expect(y.data[7]).toBeCloseTo(3 / t, 6);
    expect(y.data[4]).toBeCloseTo(-1 / t, 6);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 10, 10, 10, 14]); // input untouched
  });
});

describe('trainProbe', () => {
  it('separates well-separated blobs and is reproducible for a seed', async () => {
    const train = blobs(600, 4, 12, 1);
    const test = blobs(300, 4, 12, 2);
    const a = await trainProbe(train.x, train.labels, test.x, test.labels, { numClasses: 4, seed: 7, maxEpochs: 30 });
    expect(a.accuracy).toBeGreaterThan(0.9);
    expect(a.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(a.trainRows).toBe(540);
    const b = await trainProbe(train.x, train.labels, test.x, test.labels, { numClasses: 4, seed: 7, maxEpochs: 30 });
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.epochs).toBe(a.epochs);
  });

  it('stays near chance on labels unrelated to the inputs, and stops early', async () => {
    const train = blobs(600, 4, 12, 3);
    const test = blobs(400, 4, 12, 4);
    const rng = seededRng(99);
    const random = (): number => randomFloat(rng);
    const shuffled = Int32Array.from(train.labels, () => Math.floor(random() * 4));
    const testShuffled = Int32Array.from(test.labels, () => Math.floor(random() * 4));
    const r = await trainProbe(train.x, shuffled, test.x, testShuffled, { numClasses: 4, seed: 1, maxEpochs: 100, patience: 5 });
    expect(r.accuracy).toBeLessThan(0.4);
    expect(r.epochs).toBeLessThan(100);
    expect(r.epochs - r.bestEpoch).toBe(5);
  });
});

describe('trainProbes', () => {
  it('trains on worker threads and gives exactly the in-process results, in job order', async () => {
    const jobs = [1, 2, 3].map((seed) => {
      const train = blobs(300, 3, 8, seed);
      const test = blobs(150, 3, 8, seed + 10);
      return { train: train.x, trainLabels: train.labels, test: test.x, testLabels: test.labels, options: { numClasses: 3, seed, maxEpochs: 8 } };
    });
    const pooled = await trainProbes(jobs, { threads: 2, backend: 'auto' });
    const local = [];
    for (const j of jobs) local.push(await trainProbe(j.train, j.trainLabels, j.test, j.testLabels, j.options));
    expect(pooled).toEqual(local);
  });
});
