import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linearCka } from '@rlsa/core';
import { ckaVsReference, classMetrics, filterRows, naiveSpace, pairWithReference, splitTrainTest, withTaskOneHot, type LabelledSpace } from '../src/metrics.ts';
import { instanceNormalize } from '../src/probe.ts';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/numpy-fixtures.json', import.meta.url), 'utf8')) as {
  naive: { reference_ids: number[]; reference: number[][]; a_ids: number[]; a: number[][]; b_ids: number[]; b: number[][]; test_rows: number; cka_linear: number };
};

const space = (ids: number[], rows: number[][], labels?: number[]): LabelledSpace => ({
  sampleIds: Uint32Array.from(ids),
  values: { rows: rows.length, cols: rows[0]!.length, data: Float32Array.from(rows.flat()) },
  labels: Int32Array.from(labels ?? ids.map((id) => id % 3)),
});

describe('naive baseline', () => {
  const f = fixtures.naive;
  const a = space(f.a_ids, f.a);
  const b = space(f.b_ids, f.b);
  const reference = space(f.reference_ids, f.reference);

  it('stacks every node’s rows (a sample once per node), zero-padded to the widest embedding', () => {
    const naive = naiveSpace([a, b]);
    expect(Array.from(naive.sampleIds)).toEqual([...f.a_ids, ...f.b_ids]);
    expect(naive.values.cols).toBe(3);
    expect(naive.values.data[2]).toBe(0); // row 0 of a, padded
    expect(naive.values.data[5 * 3 + 2]).toBe(Math.fround(f.b[0]![2]!));
  });

  it("pairs stacked test rows with the reference's rows and matches NumPy's linear CKA (7 digits)", () => {
    const cka = ckaVsReference(naiveSpace([a, b]), reference)!;
    expect(cka.n).toBe(f.test_rows);
    expect(cka.linear).toBeCloseTo(f.cka_linear, 7);
  });

  it('restricts to the given classes and returns null below 4 common rows', () => {
    const onlyClass0 = ckaVsReference(naiveSpace([a, b]), reference, new Set([0]));
    // Test ids 1000000..1000002 have classes 1, 2, 0 (id % 3): one id, held by both nodes → 2 rows.
    expect(onlyClass0).toBeNull();
  });
});

describe('rows and pairing', () => {
  it('splits training ids from test ids (TEST_ID_OFFSET = 1,000,000)', () => {
    const s = space([5, 1000000, 7, 1000003], [[1], [2], [3], [4]]);
    const { train, test } = splitTrainTest(s);
    expect(Array.from(train.sampleIds)).toEqual([5, 7]);
    expect(Array.from(test.values.data)).toEqual([2, 4]);
  });

  it('pairs by id whatever the order, dropping ids the reference lacks', () => {
    const x = space([3, 1, 9], [[30], [10], [90]]);
    const ref = space([1, 2, 3], [[-1], [-2], [-3]]);
    const p = pairWithReference(x, ref);
    expect(p.n).toBe(2);
    expect(Array.from(p.x.data)).toEqual([30, 10]);
    expect(Array.from(p.y.data)).toEqual([-3, -1]);
  });

  it('CKA of a space with itself is 1, and invariant to isotropic scaling', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [Math.sin(i), Math.cos(2 * i), i / 10]);
    const ids = rows.map((_, i) => 1_000_000 + i);
    const s = space(ids, rows);
    expect(ckaVsReference(s, s)!.linear).toBeCloseTo(1, 6);
    const scaled = space(ids, rows.map((r) => r.map((v) => 3 * v)));
    const c = ckaVsReference(scaled, s)!;
    expect(c.linear).toBeCloseTo(1, 6);
    expect(c.linear).toBeCloseTo(linearCka(s.values, scaled.values), 10);
  });

  it('filters rows by id and label', () => {
    const s = space([1, 2, 3, 4], [[1], [2], [3], [4]], [0, 1, 0, 1]);
    expect(Array.from(filterRows(s, (_, label) => label === 1).sampleIds)).toEqual([2, 4]);
  });
});

describe('task one-hot baseline', () => {
  it('appends the one-hot of the task holding each sample’s class after instance normalisation', () => {
    const s = space([1, 2], [[1, 2, 3], [4, 4, 8]], [0, 5]);
    const t = withTaskOneHot(s, new Map([[0, 0], [5, 1]]), 2, instanceNormalize);
    expect(t.values.cols).toBe(5);
    expect(Array.from(t.values.data.slice(3, 5))).toEqual([1, 0]);
    expect(Array.from(t.values.data.slice(8, 10))).toEqual([0, 1]);
    expect(t.values.data[0]).toBeCloseTo(-1.2247, 3);
  });
});

describe('class metrics', () => {
  // Classes on a line: 0 at {0, 2} (mean 1, spread 1), 1 at {10, 12} (mean 11, spread 1), 2 at {4, 8} (mean 6, spread 2).
  // Pair scores: sep(0,1) = 10 / 1 = 10, sep(0,2) = sep(1,2) = 5 / 1.5.
  const s = space([1, 2, 3, 4, 5, 6], [[0], [2], [10], [12], [4], [8]], [0, 0, 1, 1, 2, 2]);

  it('scores every class pair by default, and only pairs touching the given classes when asked (the shared-samples analysis)', () => {
    expect(classMetrics(s, s).separability).toBeCloseTo((10 + 2 * (10 / 3)) / 3, 12);
    expect(classMetrics(s, s, [2]).separability).toBeCloseTo(10 / 3, 12);
    expect(classMetrics(s, s, [0]).separability).toBeCloseTo((10 + 10 / 3) / 2, 12);
    expect(classMetrics(s, s).nearestCentroid).toBe(1);
  });
});
