import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorPool, selectAnchors, type AnchorStrategy } from '../src/anchor-selection.ts';
import { matrix, type Matrix } from '../src/matrix.ts';
import { randomMatrix, rlsaError, snapshot } from './helpers.ts';

const strategies: AnchorStrategy[] = ['random', 'stratified', 'fps', 'kmeans'];

function expectDistinctInRange(idx: Uint32Array, count: number, size: number): void {
  expect(idx.length).toBe(count);
  expect(new Set(idx).size).toBe(count);
  for (const i of idx) expect(i).toBeLessThan(size);
}

describe('selectAnchors', () => {
  it('returns `count` distinct pool indices, the same for the same seed (every strategy)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer(), fc.constantFrom(...strategies), (size, want, seed, strategy) => {
        const count = Math.min(size, want);
        const pool = randomMatrix(size, 3, seed, true);
        const labels = Array.from({ length: size }, (_, i) => (i * 7) % 4);
        const a = selectAnchors(pool, { count, strategy, seed, labels });
        expectDistinctInRange(a, count, size);
        expect(selectAnchors(pool, { count, strategy, seed, labels })).toEqual(a);
      }),
      { numRuns: 80 },
    );
  });

  it('differs between seeds (random)', () => {
    const a = selectAnchors(null, { count: 20, strategy: 'random', seed: 1, poolSize: 1000 });
    const b = selectAnchors(null, { count: 20, strategy: 'random', seed: 2, poolSize: 1000 });
    expect(a).not.toEqual(b);
  });

  it('stratified: class quotas proportional to the pool, by largest remainder', () => {
    // 60 of class 0, 30 of class 1, 10 of class 2; 11 anchors → 6.6, 3.3, 1.1 → 7, 3, 1.
    const labels = [...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)] as number[];
    const idx = selectAnchors(null, { count: 11, strategy: 'stratified', seed: 5, labels });
    expectDistinctInRange(idx, 11, 100);
    const perClass = [0, 0, 0];
    for (const i of idx) perClass[labels[i]!]!++;
    expect(perClass).toEqual([7, 3, 1]);
  });

  it('fps: after the seeded first point, picks the farthest points (extremes of a line)', () => {
    const pool = matrix(11, 1, Float32Array.from({ length: 11 }, (_, i) => i));
    for (const seed of [0, 1, 2, 3]) {
      const [first, second, third] = selectAnchors(pool, { count: 3, strategy: 'fps', seed });
      const far = first! <= 5 ? 10 : 0;
      expect(second).toBe(far);
      expect(new Set([first, second, third]).has(first! <= 5 ? 10 : 0)).toBe(true);
      // The third is the farthest from both.
      const d = (i: number) => Math.min(Math.abs(i - first!), Math.abs(i - second!));
      for (let i = 0; i < 11; i++) expect(d(third!)).toBeGreaterThanOrEqual(d(i));
    }
  });

  it('fps stays distinct when the pool has duplicate points', () => {
    const pool = matrix(4, 1, [1, 1, 1, 1]);
    expectDistinctInRange(selectAnchors(pool, { count: 4, strategy: 'fps', seed: 9 }), 4, 4);
  });

  it('kmeans: one anchor per well-separated cluster, each a real member of it', () => {
    const centres = [0, 100, 200, 300];
    const data = new Float32Array(40 * 2);
    const noise = randomMatrix(40, 2, 3).data;
    for (let i = 0; i < 40; i++) {
      data[2 * i] = centres[i % 4]! + noise[2 * i]!;
      data[2 * i + 1] = noise[2 * i + 1]!;
    }
    const pool: Matrix = matrix(40, 2, data);
    const before = snapshot(pool);
    for (const seed of [1, 2, 3]) {
      const idx = selectAnchors(pool, { count: 4, strategy: 'kmeans', seed });
      expect(new Set(Array.from(idx, (i) => i % 4)).size).toBe(4);
    }
    expect(pool).toEqual(before);
  });

  it('rejects bad counts, missing inputs and unknown strategies', () => {
    const pool = randomMatrix(5, 2, 1);
    expect(rlsaError(() => selectAnchors(pool, { count: 6, strategy: 'random', seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(pool, { count: 0, strategy: 'random', seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(null, { count: 2, strategy: 'fps', seed: 1, poolSize: 5 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(pool, { count: 2, strategy: 'stratified', seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(pool, { count: 2, strategy: 'stratified', seed: 1, labels: [0, 1] })).code).toBe('shape_mismatch');
    expect(rlsaError(() => selectAnchors(pool, { count: 2, strategy: 'best' as AnchorStrategy, seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(null, { count: 2, strategy: 'random', seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => selectAnchors(pool, { count: 2, strategy: 'random', seed: 1.5 })).code).toBe('invalid_argument');
  });
});

describe('anchorPool', () => {
  it('is the first poolSize entries of a seeded shuffle: distinct, deterministic, 1000 by default', () => {
    const p = anchorPool(5000, { seed: 7 });
    expectDistinctInRange(p, 1000, 5000);
    expect(anchorPool(5000, { seed: 7 })).toEqual(p);
    expect(anchorPool(5000, { seed: 8 })).not.toEqual(p);
    expect(anchorPool(5000)).toEqual(anchorPool(5000, { seed: 0 }));
    // A prefix of the same shuffle: a smaller pool is a prefix of a larger one.
    expect(anchorPool(5000, { seed: 7, poolSize: 10 })).toEqual(p.subarray(0, 10));
  });

  it('rejects a pool larger than the dataset', () => {
    expect(rlsaError(() => anchorPool(10, { poolSize: 11 })).code).toBe('invalid_argument');
  });
});
