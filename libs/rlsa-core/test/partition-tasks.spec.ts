import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorPool } from '../src/anchor-selection.ts';
import { partitionTasks, type TaskPartition } from '../src/partition-tasks.ts';
import { rlsaError } from './helpers.ts';

/** A dataset of `perClass` samples for each of `c` classes, interleaved. */
function labelsOf(c: number, perClass: number): number[] {
  return Array.from({ length: c * perClass }, (_, i) => i % c);
}

function expectAscending(idx: Uint32Array): void {
  const firstDescent = idx.findIndex((v, i) => i > 0 && v <= idx[i - 1]!);
  expect(firstDescent).toBe(-1);
}

function expectExcluded(tasks: TaskPartition[], excluded: ArrayLike<number>): void {
  const ex = new Set(Array.from(excluded));
  const leaked = tasks.flatMap((t) => Array.from(t.sampleIndices).filter((i) => ex.has(i)));
  expect(leaked).toEqual([]);
}

const setup = fc.record({ c: fc.integer({ min: 4, max: 30 }), perClass: fc.integer({ min: 1, max: 30 }), seed: fc.integer(), poolFraction: fc.double({ min: 0, max: 0.3, noNaN: true }) });

describe('partitionTasks: disjoint', () => {
  it('cuts the shuffled classes into K blocks (sizes differ by ≤ 1), all their samples, none of the pool', () => {
    fc.assert(
      fc.property(setup, fc.integer({ min: 1, max: 4 }), ({ c, perClass, seed, poolFraction }, k) => {
        const labels = labelsOf(c, perClass);
        const excluded = anchorPool(labels.length, { poolSize: Math.floor(poolFraction * labels.length), seed });
        const tasks = partitionTasks(labels, { scenario: 'disjoint', tasks: k, numClasses: c, seed, excluded });
        expect(tasks).toEqual(partitionTasks(labels, { scenario: 'disjoint', tasks: k, numClasses: c, seed, excluded }));
        expect(tasks.map((t) => t.taskId)).toEqual(Array.from({ length: k }, (_, i) => i));
        const sizes = tasks.map((t) => t.classes.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(tasks.flatMap((t) => t.classes).sort((a, b) => a - b)).toEqual(Array.from({ length: c }, (_, i) => i));
        expectExcluded(tasks, excluded);
        const ex = new Set(excluded);
        const seen = new Set<number>();
        let foreign = 0;
        let repeated = 0;
        for (const t of tasks) {
          expectAscending(t.sampleIndices);
          const own = new Set(t.classes);
          for (const i of t.sampleIndices) {
            if (!own.has(labels[i]!)) foreign++;
            if (seen.has(i)) repeated++;
            seen.add(i);
          }
        }
        expect([foreign, repeated]).toEqual([0, 0]);
        // Every non-excluded sample lands in exactly one task.
        expect(seen.size).toBe(labels.length - ex.size);
      }),
      { numRuns: 60 },
    );
  });
});

describe('partitionTasks: shared-samples', () => {
  it('gives every task the same samples of S shared classes plus N novel classes of its own', () => {
    fc.assert(
      fc.property(setup, fc.integer({ min: 1, max: 3 }), ({ c, perClass, seed, poolFraction }, k) => {
        const labels = labelsOf(c, perClass);
        const excluded = anchorPool(labels.length, { poolSize: Math.floor(poolFraction * labels.length), seed });
        const shared = Math.floor(c / 4);
        const novel = Math.floor((c - shared) / k);
        const tasks = partitionTasks(labels, { scenario: 'shared-samples', tasks: k, numClasses: c, seed, excluded, shared, novel });
        expect(tasks).toHaveLength(k);
        expectExcluded(tasks, excluded);
        const sets = tasks.map((t) => new Set(t.classes));
        const common = tasks[0]!.classes.filter((cls) => sets.every((s) => s.has(cls)));
        expect(common.length).toBe(k === 1 ? shared + novel : shared);
        for (const t of tasks) {
          expect(t.classes).toHaveLength(shared + novel);
          expectAscending(t.sampleIndices);
          const sharedSamples = Array.from(t.sampleIndices).filter((i) => common.includes(labels[i]!));
          const reference = Array.from(tasks[0]!.sampleIndices).filter((i) => common.includes(labels[i]!));
          expect(sharedSamples).toEqual(reference);
        }
        // Novel classes are disjoint between tasks.
        const novelLists = tasks.map((t) => t.classes.filter((cls) => !common.includes(cls)));
        expect(new Set(novelLists.flat()).size).toBe(novelLists.flat().length);
      }),
      { numRuns: 60 },
    );
  });

  it('needs `shared` and rejects more classes than exist', () => {
    const labels = labelsOf(10, 2);
    expect(rlsaError(() => partitionTasks(labels, { scenario: 'shared-samples', tasks: 2, numClasses: 10, seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => partitionTasks(labels, { scenario: 'shared-samples', tasks: 2, numClasses: 10, seed: 1, shared: 4, novel: 4 })).code).toBe('invalid_argument');
    const t = partitionTasks(labels, { scenario: 'shared-samples', tasks: 2, numClasses: 10, seed: 1, shared: 4 });
    expect(t[0]!.classes).toHaveLength(7); // novel defaults to ⌊(10 − 4)/2⌋ = 3
  });
});

describe('partitionTasks: shared-classes', () => {
  it('task 0 takes p% of each first-half class and (100 − p)% of each second-half class; task 1 the rest', () => {
    fc.assert(
      fc.property(setup, fc.integer({ min: 0, max: 100 }), ({ c, perClass, seed, poolFraction }, p) => {
        const labels = labelsOf(c, perClass);
        const excluded = anchorPool(labels.length, { poolSize: Math.floor(poolFraction * labels.length), seed });
        const [t0, t1] = partitionTasks(labels, { scenario: 'shared-classes', tasks: 2, numClasses: c, seed, excluded, sharedPercent: p });
        expectExcluded([t0!, t1!], excluded);
        const ex = new Set(excluded);
        const in0 = new Set(t0!.sampleIndices);
        for (const i of t1!.sampleIndices) expect(in0.has(i)).toBe(false);
        expect(t0!.sampleIndices.length + t1!.sampleIndices.length).toBe(labels.length - ex.size);
        for (let cls = 0; cls < c; cls++) {
          const available = labels.filter((l, i) => l === cls && !ex.has(i)).length;
          const taken = Array.from(t0!.sampleIndices).filter((i) => labels[i] === cls).length;
          const share = cls < Math.floor(c / 2) ? p : 100 - p;
          expect(taken).toBe(Math.round((share * available) / 100));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('defaults to p = 80 and is deterministic for a seed', () => {
    const labels = labelsOf(4, 50);
    const [t0] = partitionTasks(labels, { scenario: 'shared-classes', tasks: 2, numClasses: 4, seed: 3 });
    const count = (cls: number) => Array.from(t0!.sampleIndices).filter((i) => labels[i] === cls).length;
    expect([0, 1, 2, 3].map(count)).toEqual([40, 40, 10, 10]);
    expect(partitionTasks(labels, { scenario: 'shared-classes', tasks: 2, numClasses: 4, seed: 3 })[0]).toEqual(t0);
    expect(partitionTasks(labels, { scenario: 'shared-classes', tasks: 2, numClasses: 4, seed: 4 })[0]).not.toEqual(t0);
  });

  it('is for exactly two tasks', () => {
    expect(rlsaError(() => partitionTasks(labelsOf(4, 2), { scenario: 'shared-classes', tasks: 3, numClasses: 4, seed: 1 })).code).toBe('invalid_argument');
  });
});

describe('partitionTasks errors', () => {
  it('rejects labels outside [0, C), bad excluded indices, too many tasks, unknown scenarios', () => {
    expect(rlsaError(() => partitionTasks([0, 5], { scenario: 'disjoint', tasks: 1, numClasses: 5, seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => partitionTasks([0, 1], { scenario: 'disjoint', tasks: 1, numClasses: 2, seed: 1, excluded: [2] })).code).toBe('invalid_argument');
    expect(rlsaError(() => partitionTasks([0, 1], { scenario: 'disjoint', tasks: 3, numClasses: 2, seed: 1 })).code).toBe('invalid_argument');
    expect(rlsaError(() => partitionTasks([0, 1], { scenario: 'mixed' as 'disjoint', tasks: 1, numClasses: 2, seed: 1 })).code).toBe('invalid_argument');
  });
});
