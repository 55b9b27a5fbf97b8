import { describe, expect, it } from 'vitest';
import { anchorPoolIds, nodeSamples, nodeSamplesOf, runPartition, syntheticDataset, taskPartitions, testPartitions } from '../src/index.ts';

const ds = syntheticDataset({ trainCount: 3000, testCount: 600, seed: 3 });
const pool = anchorPoolIds(ds);

describe('runPartition and nodeSamplesOf', () => {
  it('give each node the samples nodeSamples gives it from the partitions built by hand', () => {
    const settings = { scenario: 'shared-classes', tasks: 2, seed: 5, sharedPercent: 70, maxSamples: 400, maxTestSamples: 300, testSplit: 'partition' } as const;
    const run = runPartition(ds, settings, pool);
    const { scenario, tasks, seed, sharedPercent } = settings;
    const partitions = taskPartitions(ds, { scenario, tasks, seed, sharedPercent, excluded: pool });
    const tests = testPartitions(ds, { scenario, tasks, seed, sharedPercent });
    expect(run.partitions).toEqual(partitions);
    expect(run.testPartitions).toEqual(tests);
    for (const node of [{ role: 'trainer', task: 0 }, { role: 'trainer', task: 1 }, { role: 'reference' }] as const) {
      const byHand = nodeSamples(ds, partitions, { ...node, maxSamples: 400, maxTestSamples: 300, testPartitions: tests, seed: 5 });
      expect(nodeSamplesOf(ds, run, node)).toEqual(byHand);
    }
  });

  it("cuts the test split only with testSplit 'partition': the trainers' test samples are then disjoint and together the reference's", () => {
    const base = { scenario: 'shared-classes', tasks: 2, seed: 1 } as const;
    expect(runPartition(ds, base, pool).testPartitions).toBeUndefined();
    const run = runPartition(ds, { ...base, testSplit: 'partition' }, pool);
    const [t0, t1] = [0, 1].map((task) => Array.from(nodeSamplesOf(ds, run, { role: 'trainer', task }).testIndices));
    const reference = Array.from(nodeSamplesOf(ds, run, { role: 'reference' }).testIndices);
    expect(t0!.filter((i) => t1!.includes(i))).toEqual([]);
    expect([...t0!, ...t1!].sort((a, b) => a - b)).toEqual(reference);
  });
});
