import { partitionTasks, permutation, seededRng, type NodeRoleName, type Scenario, type TaskPartition } from '@rlsa/core';
import type { ImageDataset } from './dataset.ts';
import { DataError } from './errors.ts';

export interface PartitionOptions {
  readonly scenario: Scenario;
  /** Number of tasks K. */
  readonly tasks: number;
  readonly seed: number;
  /** Training indices never assigned to a task (the anchor pool). */
  readonly excluded: ArrayLike<number>;
  readonly shared?: number | undefined;
  readonly novel?: number | undefined;
  readonly sharedPercent?: number | undefined;
}

/** How a trainer's test samples are chosen: those of its task's classes, or its share of the test split cut like the training split. */
export const TEST_SPLITS = ['classes', 'partition'] as const;
export type TestSplit = (typeof TEST_SPLITS)[number];

/** The scenario's task partitions of the training split: core `partitionTasks` on the training labels. */
export function taskPartitions(dataset: ImageDataset, options: PartitionOptions): TaskPartition[] {
  return partitionTasks(dataset.train.labels, { ...options, numClasses: dataset.numClasses });
}

/**
 * The same scenario rule applied to the test split (core `partitionTasks` on the test labels, the
 * same seed, nothing excluded): the paper's protocol, where each task's test samples are cut like
 * its training samples. The seed's first draw is the class order, so the class blocks of
 * shared-samples and disjoint are the training partition's; in shared-classes each test sample
 * then goes to exactly one task (p% / (100 − p)% per class, like training).
 */
export function testPartitions(dataset: ImageDataset, options: Omit<PartitionOptions, 'excluded'>): TaskPartition[] {
  // The anchor pool holds training indices: never applied to the test split.
  return partitionTasks(dataset.test.labels, { ...options, excluded: undefined, numClasses: dataset.numClasses });
}

export interface NodeSampleOptions {
  readonly role: NodeRoleName;
  /** The trainer's task (index into `partitions`); ignored for the reference. */
  readonly task?: number | undefined;
  /** Keep at most this many training samples per task (seeded; the same ones on every node). */
  readonly maxSamples?: number | undefined;
  /** Use only this many test samples of the whole test split (seeded; the same ones on every node), then filter by class. */
  readonly maxTestSamples?: number | undefined;
  readonly seed: number;
  /**
   * The test split cut into tasks (`testPartitions`): a trainer then embeds only its task's test
   * samples, the reference all of them. Absent: a trainer embeds every test sample of its classes.
   */
  readonly testPartitions?: readonly TaskPartition[] | undefined;
}

/** What one node trains on, evaluates on and embeds. */
export interface NodeSamples {
  /** Training indices (ascending): the task's samples, or the union of all tasks for the reference. */
  readonly trainIndices: Uint32Array;
  /** Test indices (ascending) of the node's classes (all of them for the reference). */
  readonly testIndices: Uint32Array;
  /** The node's classes (ascending). */
  readonly classes: readonly number[];
}

/** Salt so that the subsampling order differs from the anchor and partition shuffles of the same seed. */
const SUBSAMPLE_SALT = 0x5eed5;

/** Rank of each index in a seeded permutation: lower rank = kept first when subsampling. */
function ranks(n: number, seed: number): Uint32Array {
  const perm = permutation(n, seededRng(seed ^ SUBSAMPLE_SALT));
  const rank = new Uint32Array(n);
  for (let r = 0; r < n; r++) rank[perm[r] as number] = r;
  return rank;
}

/** The `max` indices of lowest rank, ascending. */
function keepLowestRank(indices: Uint32Array, rank: Uint32Array, max: number): Uint32Array {
  if (indices.length <= max) return indices;
  const sorted = Array.from(indices).sort((a, b) => (rank[a] as number) - (rank[b] as number));
  return Uint32Array.from(sorted.slice(0, max)).sort();
}

/**
 * The samples of one node. A trainer: its task's training samples and the test samples of its
 * task's classes (with `testPartitions`: only those of its task's test partition). The reference: the union of all tasks' training samples and all test samples
 * (of the selected classes' union, i.e. every class the tasks cover).
 * Subsampling is by a seeded global rank, so it is consistent across nodes: the reference's
 * training samples are exactly the union of the trainers' (each task keeps its `maxSamples`
 * lowest-ranked samples), and every node's test samples lie in one shared seeded subset.
 */
export function nodeSamples(dataset: ImageDataset, partitions: readonly TaskPartition[], options: NodeSampleOptions): NodeSamples {
  const trainRank = options.maxSamples !== undefined ? ranks(dataset.train.count, options.seed) : undefined;
  const taskTrain = (p: TaskPartition): Uint32Array =>
    trainRank && options.maxSamples !== undefined ? keepLowestRank(p.sampleIndices, trainRank, options.maxSamples) : p.sampleIndices;

  let train: Uint32Array;
  let classes: number[];
  if (options.role === 'trainer') {
    const task = options.task ?? 0;
    const partition = partitions[task];
    if (!partition) {
      throw new DataError('invalid_argument', `task ${task} does not exist: the scenario has ${partitions.length} tasks (0..${partitions.length - 1})`);
    }
    train = taskTrain(partition);
    classes = [...partition.classes].sort((a, b) => a - b);
  } else {
    const union = new Set<number>();
    const classSet = new Set<number>();
    for (const p of partitions) {
      for (const i of taskTrain(p)) union.add(i);
      for (const c of p.classes) classSet.add(c);
    }
    train = Uint32Array.from(union).sort();
    classes = [...classSet].sort((a, b) => a - b);
  }

  let testCandidates: Uint32Array;
  if (options.maxTestSamples !== undefined && options.maxTestSamples < dataset.test.count) {
    const perm = permutation(dataset.test.count, seededRng(options.seed ^ SUBSAMPLE_SALT));
    testCandidates = perm.slice(0, options.maxTestSamples).sort();
  } else {
    testCandidates = Uint32Array.from({ length: dataset.test.count }, (_, i) => i);
  }
  const classMask = new Uint8Array(dataset.numClasses);
  for (const c of classes) classMask[c] = 1;
  let test = testCandidates.filter((i) => classMask[dataset.test.labels[i] as number] === 1);
  if (options.testPartitions !== undefined) {
    const member = new Uint8Array(dataset.test.count);
    const owners = options.role === 'trainer' ? [options.testPartitions[options.task ?? 0]] : options.testPartitions;
    for (const p of owners) {
      if (!p) throw new DataError('invalid_argument', `task ${options.task ?? 0} has no test partition: there are ${options.testPartitions.length}`);
      for (const i of p.sampleIndices) member[i] = 1;
    }
    test = test.filter((i) => member[i] === 1);
  }
  return { trainIndices: train, testIndices: test, classes };
}
