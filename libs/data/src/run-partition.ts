import type { NodeRoleName, TaskPartition } from '@rlsa/core';
import type { ImageDataset } from './dataset.ts';
import { nodeSamples, taskPartitions, testPartitions, type NodeSamples, type PartitionOptions, type TestSplit } from './node-samples.ts';

/** How a run splits its data: the scenario's partition, the subsampling caps and the test split rule, the same on every node. */
export interface RunPartitionSettings extends Omit<PartitionOptions, 'excluded'> {
  readonly maxSamples?: number | undefined;
  readonly maxTestSamples?: number | undefined;
  readonly testSplit?: TestSplit | undefined;
}

/** A run's task partitions of the training split, and of the test split when the test split is cut like it. */
export interface RunPartition {
  readonly settings: RunPartitionSettings;
  readonly partitions: readonly TaskPartition[];
  readonly testPartitions: readonly TaskPartition[] | undefined;
}

/**
 * The partition every node of a run computes from the same settings: the training split cut into
 * tasks with the `excluded` ids (the anchor pool) left out, and with `testSplit: 'partition'` the
 * test split cut by the same rule.
 */
export function runPartition(dataset: ImageDataset, settings: RunPartitionSettings, excluded: ArrayLike<number>): RunPartition {
  const { scenario, tasks, seed, shared, novel, sharedPercent } = settings;
  const options = { scenario, tasks, seed, shared, novel, sharedPercent };
  return {
    settings,
    partitions: taskPartitions(dataset, { ...options, excluded }),
    testPartitions: settings.testSplit === 'partition' ? testPartitions(dataset, options) : undefined,
  };
}

/** One node's samples of a run's partition: a trainer's task (its classes' test samples, or its test partition), or the reference's union. */
export function nodeSamplesOf(dataset: ImageDataset, run: RunPartition, node: { readonly role: NodeRoleName; readonly task?: number | undefined }): NodeSamples {
  const { maxSamples, maxTestSamples, seed } = run.settings;
  return nodeSamples(dataset, run.partitions, { role: node.role, task: node.task, maxSamples, maxTestSamples, testPartitions: run.testPartitions, seed });
}
