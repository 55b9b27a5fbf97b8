import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorPool } from '@rlsa/core';
import {
  FASHION_MNIST_DEFAULT_DIR,
  TEST_ID_OFFSET,
  anchorFingerprint,
  anchorPoolIds,
  channelStats,
  defaultAnchorIds,
  loadFashionMnist,
  nodeSamples,
  normalizedImages,
  parseSampleId,
  sampleIds,
  syntheticDataset,
  taskPartitions,
  testPartitions,
  type ImageDataset,
} from '../src/index.ts';

const ds = syntheticDataset({ trainCount: 3000, testCount: 600, seed: 3 });

describe('sample ids', () => {
  it('maps train index i to i and test index j to 1,000,000 + j, and back', () => {
    expect(Array.from(sampleIds('train', [0, 7]))).toEqual([0, 7]);
    expect(Array.from(sampleIds('test', [0, 7]))).toEqual([TEST_ID_OFFSET, TEST_ID_OFFSET + 7]);
    expect(parseSampleId(TEST_ID_OFFSET + 9)).toEqual({ split: 'test', index: 9 });
    expect(parseSampleId(999_999)).toEqual({ split: 'train', index: 999_999 });
    expect(() => parseSampleId(-1)).toThrow(/uint32/);
  });
});

describe('anchors', () => {
  it('the pool is core anchorPool (1,000 of a seed-42 shuffle) and the 256 anchors come from it', () => {
    const pool = anchorPoolIds(ds);
    expect(pool).toEqual(anchorPool(3000, { poolSize: 1000, seed: 42 }));
    const anchors = defaultAnchorIds(ds);
    expect(anchors.length).toBe(256);
    expect(new Set(anchors).size).toBe(256);
    const inPool = new Set(pool);
    expect(Array.from(anchors).every((id) => inPool.has(id))).toBe(true);
    expect(defaultAnchorIds(ds)).toEqual(anchors);
  });

  it('the fingerprint is SHA-256 over (id uint32 LE, pixel bytes) per anchor, in order', () => {
    const ids = [5, 17, TEST_ID_OFFSET + 2];
    const hash = createHash('sha256');
    for (const id of ids) {
      const buf = Buffer.alloc(4);
      buf.writeUInt32LE(id);
      hash.update(buf);
      const split = id >= TEST_ID_OFFSET ? ds.test : ds.train;
      const index = id % TEST_ID_OFFSET;
      hash.update(split.images.subarray(index * 256, (index + 1) * 256));
    }
    const expected = hash.digest('hex');
    expect(anchorFingerprint(ds, ids)).toBe(expected);
    expect(anchorFingerprint(ds, [17, 5, TEST_ID_OFFSET + 2])).not.toBe(expected);
    // One pixel of one anchor changed: another fingerprint.
    const images = ds.train.images.slice();
    images[17 * 256 + 100] = (images[17 * 256 + 100]! + 1) % 256;
    const changed: ImageDataset = { ...ds, train: { ...ds.train, images } };
    expect(anchorFingerprint(changed, ids)).not.toBe(expected);
    expect(() => anchorFingerprint(ds, [3000])).toThrow(/beyond/);
  });
});

describe('node samples', () => {
  const pool = anchorPoolIds(ds);
  const partitions = taskPartitions(ds, { scenario: 'disjoint', tasks: 2, seed: 7, excluded: pool });

  it('a trainer holds its task samples (never an anchor-pool sample) and the test samples of its classes', () => {
    const s = nodeSamples(ds, partitions, { role: 'trainer', task: 1, seed: 7 });
    expect(s.trainIndices).toEqual(partitions[1]!.sampleIndices);
    const poolSet = new Set(pool);
    expect(Array.from(s.trainIndices).some((i) => poolSet.has(i))).toBe(false);
    const classes = new Set(partitions[1]!.classes);
    expect(s.classes).toEqual([...classes].sort((a, b) => a - b));
    const expectedTest = Array.from({ length: ds.test.count }, (_, i) => i).filter((i) => classes.has(ds.test.labels[i]!));
    expect(Array.from(s.testIndices)).toEqual(expectedTest);
    expect(() => nodeSamples(ds, partitions, { role: 'trainer', task: 2, seed: 7 })).toThrow(/task 2 does not exist/);
  });

  it('subsampling is seeded and consistent: the reference holds exactly the union of the trainers', () => {
    const opts = { maxSamples: 300, maxTestSamples: 200, seed: 7 };
    const t0 = nodeSamples(ds, partitions, { role: 'trainer', task: 0, ...opts });
    const t1 = nodeSamples(ds, partitions, { role: 'trainer', task: 1, ...opts });
    const ref = nodeSamples(ds, partitions, { role: 'reference', ...opts });
    expect(t0.trainIndices.length).toBe(300);
    expect(t1.trainIndices.length).toBe(300);
    const union = [...new Set([...t0.trainIndices, ...t1.trainIndices])].sort((a, b) => a - b);
    expect(Array.from(ref.trainIndices)).toEqual(union);
    expect(ref.testIndices.length).toBe(200);
    // The trainers' test samples are the reference's split by class.
    expect([...t0.testIndices, ...t1.testIndices].sort((a, b) => a - b)).toEqual(Array.from(ref.testIndices));
    expect(nodeSamples(ds, partitions, { role: 'trainer', task: 0, ...opts })).toEqual(t0);
    expect(Array.from(t0.trainIndices)).toEqual([...t0.trainIndices].sort((a, b) => a - b));
  });
});

describe('test partitions (the paper protocol: the test split cut like the training split)', () => {
  const pool = anchorPoolIds(ds);
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it('shared-classes: each test sample goes to exactly one trainer, p% of each first-half class to task 0', () => {
    const options = { scenario: 'shared-classes' as const, tasks: 2, seed: 11, sharedPercent: 80 };
    const parts = taskPartitions(ds, { ...options, excluded: pool });
    const testParts = testPartitions(ds, options);
    const opts = { seed: 11, maxTestSamples: 400, testPartitions: testParts };
    const t0 = nodeSamples(ds, parts, { role: 'trainer', task: 0, ...opts });
    const t1 = nodeSamples(ds, parts, { role: 'trainer', task: 1, ...opts });
    const ref = nodeSamples(ds, parts, { role: 'reference', ...opts });
    // Disjoint, and together exactly the reference's (seeded subset of) test samples.
    const inT0 = new Set(t0.testIndices);
    expect(Array.from(t1.testIndices).some((i) => inT0.has(i))).toBe(false);
    expect([...t0.testIndices, ...t1.testIndices].sort((a, b) => a - b)).toEqual(Array.from(ref.testIndices));
    expect(ref.testIndices).toEqual(nodeSamples(ds, parts, { role: 'reference', seed: 11, maxTestSamples: 400 }).testIndices);
    // The whole test split: task 0 holds round(80% · n_c) of each first-half class, round(20% · n_c) of the others.
    const whole0 = nodeSamples(ds, parts, { role: 'trainer', task: 0, seed: 11, testPartitions: testParts });
    const half = Math.floor(ds.numClasses / 2);
    for (const c of range(ds.numClasses)) {
      const n = range(ds.test.count).filter((i) => ds.test.labels[i] === c).length;
      const held = Array.from(whole0.testIndices).filter((i) => ds.test.labels[i] === c).length;
      expect(held).toBe(Math.round(((c < half ? 80 : 20) * n) / 100));
    }
  });

  it('disjoint and shared-samples: the class blocks are the training partition\'s, so the test samples equal the class filter', () => {
    for (const options of [
      { scenario: 'disjoint' as const, tasks: 3, seed: 5 },
      { scenario: 'shared-samples' as const, tasks: 2, seed: 5, shared: 4, novel: 3 },
    ]) {
      const parts = taskPartitions(ds, { ...options, excluded: pool });
      const testParts = testPartitions(ds, options);
      expect(testParts.map((p) => p.classes)).toEqual(parts.map((p) => p.classes));
      for (const task of range(options.tasks)) {
        const byPartition = nodeSamples(ds, parts, { role: 'trainer', task, seed: 5, testPartitions: testParts });
        const byClass = nodeSamples(ds, parts, { role: 'trainer', task, seed: 5 });
        expect(byPartition).toEqual(byClass);
      }
    }
  });
});

describe('normalisation', () => {
  it('per-channel (x/255 − mean)/std has mean 0 and std 1 over the training split', () => {
    const rgb = syntheticDataset({ shape: [8, 8, 3], trainCount: 400, testCount: 10, seed: 1 });
    const { mean, std } = channelStats(rgb);
    const all = Uint32Array.from({ length: 400 }, (_, i) => i);
    const x = normalizedImages(rgb, 'train', all);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      let rawSum = 0;
      let n = 0;
      for (let i = c; i < x.length; i += 3) {
        s += x[i]!;
        s2 += x[i]! * x[i]!;
        rawSum += rgb.train.images[i]! / 255;
        n++;
      }
      expect(mean[c]).toBeCloseTo(rawSum / n, 12);
      expect(s / n).toBeCloseTo(0, 5);
      expect(Math.sqrt(s2 / n - (s / n) ** 2)).toBeCloseTo(1, 4);
      expect(std[c]).toBeGreaterThan(0);
    }
    expect(() => normalizedImages(rgb, 'test', [10])).toThrow(/out of range/);
  });
});

describe('synthetic data', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = syntheticDataset({ seed: 11, trainCount: 50, testCount: 5 });
    const b = syntheticDataset({ seed: 11, trainCount: 50, testCount: 5 });
    const c = syntheticDataset({ seed: 12, trainCount: 50, testCount: 5 });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.train.labels).toEqual(b.train.labels);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(() => syntheticDataset({ numClasses: 1 })).toThrow(/numClasses/);
  });
});

describe.skipIf(!existsSync(join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz')))(`Fashion-MNIST in ${FASHION_MNIST_DEFAULT_DIR} (skipped when absent)`, () => {
  it('loads 60,000 + 10,000 images with the known pixel mean 0.2860 and std 0.3530', () => {
    const fm = loadFashionMnist();
    expect(fm.train.count).toBe(60_000);
    expect(fm.test.count).toBe(10_000);
    const { mean, std } = channelStats(fm);
    expect(mean[0]).toBeCloseTo(0.286, 3);
    expect(std[0]).toBeCloseTo(0.353, 3);
    // 6,000 training images per class.
    const counts = new Array<number>(10).fill(0);
    for (const l of fm.train.labels) counts[l]!++;
    expect(new Set(counts)).toEqual(new Set([6000]));
  });
});
