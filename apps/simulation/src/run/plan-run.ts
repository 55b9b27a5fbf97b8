import type { Logger } from 'pino';
import { selectAnchors, type Matrix, type TaskPartition } from '@rlsa/core';
import { anchorFingerprint, anchorPoolIds, imageSize, loadDataset, nodeSamplesOf, runPartition, type ImageDataset } from '@rlsa/data';
import type { NodeRoleName } from '@rlsa/core';
import type { SimulationRun } from '../options.ts';
import { SimulationError } from '../simulation-error.ts';

/** Held-out training samples the anchors are drawn from. */
export const POOL_SIZE = 1000;

/** What the run is, decided before any process starts: its anchors, the partition and the classes it shares. */
export interface RunPlan {
  readonly runId: string;
  readonly dataset: ImageDataset;
  readonly poolIds: Uint32Array;
  readonly anchorIds: Uint32Array;
  readonly fingerprint: string;
  readonly partitions: readonly TaskPartition[];
  /** Classes every task holds, ascending (empty when none). */
  readonly sharedClasses: readonly number[];
  /** Classes some task lacks, ascending. */
  readonly taskSpecificClasses: readonly number[];
  /** Every class any task holds, ascending (the reference's). */
  readonly allClasses: readonly number[];
  /** The first task holding each class (for the task-embedding baseline). */
  readonly taskOfClass: ReadonlyMap<number, number>;
  /** Rows a node of this role (and task) will upload: its training and test samples. */
  expectedRows(role: NodeRoleName, task?: number): number;
}

function checkRun(run: SimulationRun): void {
  const { nodes, scenario } = run.partition;
  if (nodes < 1) throw new SimulationError('invalid_argument', '--nodes must be at least 1');
  if (scenario === 'shared-classes' && nodes !== 2) {
    throw new SimulationError('invalid_argument', 'the shared-classes scenario splits the samples of every class between exactly 2 nodes (--nodes 2)');
  }
  if (run.training.models.length !== 1 && run.training.models.length !== nodes) {
    throw new SimulationError('invalid_argument', `--models lists ${run.training.models.length} models for ${nodes} nodes (give one, or one per node)`);
  }
}

/** The pool's pixels as a Float32 matrix in [0, 1] (for the fps and kmeans anchor strategies). */
function poolMatrix(dataset: ImageDataset, poolIds: Uint32Array): Matrix {
  const size = imageSize(dataset);
  const data = new Float32Array(poolIds.length * size);
  for (let k = 0; k < poolIds.length; k++) {
    const pixels = dataset.train.images.subarray(poolIds[k]! * size, (poolIds[k]! + 1) * size);
    for (let p = 0; p < size; p++) data[k * size + p] = pixels[p]! / 255;
  }
  return { rows: poolIds.length, cols: size, data };
}

/** The run's anchors: `count` of the held-out pool by the chosen strategy (seeded). */
function pickAnchors(dataset: ImageDataset, poolIds: Uint32Array, run: SimulationRun): Uint32Array {
  const { count, strategy } = run.anchors;
  if (count > poolIds.length) throw new SimulationError('invalid_argument', `--anchors ${count} exceeds the anchor pool of ${poolIds.length} samples`);
  const needsPixels = strategy === 'fps' || strategy === 'kmeans';
  const picked = selectAnchors(needsPixels ? poolMatrix(dataset, poolIds) : null, {
    count,
    strategy,
    seed: run.partition.seed,
    labels: Int32Array.from(poolIds, (id) => dataset.train.labels[id]!),
    poolSize: poolIds.length,
  });
  return Uint32Array.from(picked, (i) => poolIds[i]!);
}

/** Classes held by every task, by some, and the first task of each. */
function classGroups(partitions: readonly TaskPartition[]): Pick<RunPlan, 'sharedClasses' | 'taskSpecificClasses' | 'allClasses' | 'taskOfClass'> {
  const classCount = new Map<number, number>();
  for (const p of partitions) for (const c of p.classes) classCount.set(c, (classCount.get(c) ?? 0) + 1);
  const ascending = (classes: number[]): number[] => classes.sort((a, b) => a - b);
  const taskOfClass = new Map<number, number>();
  for (const p of partitions) for (const c of p.classes) if (!taskOfClass.has(c)) taskOfClass.set(c, p.taskId);
  return {
    sharedClasses: ascending([...classCount].filter(([, n]) => n === partitions.length).map(([c]) => c)),
    taskSpecificClasses: ascending([...classCount].filter(([, n]) => n < partitions.length).map(([c]) => c)),
    allClasses: ascending([...classCount.keys()]),
    taskOfClass,
  };
}

/**
 * Phase 1, plan: loads the data set here too (for the anchors, their fingerprint, the partition's
 * classes and the labels), picks the anchors and computes the partition every node will compute.
 */
export function planRun(run: SimulationRun, log: Logger): RunPlan {
  checkRun(run);
  const { partition } = run;
  const dataset = loadDataset(run.data.dataset, run.data.dataDir !== undefined ? { dataDir: run.data.dataDir } : {});
  const poolIds = anchorPoolIds(dataset, { poolSize: POOL_SIZE });
  const anchorIds = pickAnchors(dataset, poolIds, run);
  const fingerprint = anchorFingerprint(dataset, anchorIds);
  const split = runPartition(dataset, { ...partition, tasks: partition.nodes }, poolIds);
  const expectedRows = (role: NodeRoleName, task?: number): number => {
    const s = nodeSamplesOf(dataset, split, { role, task });
    return s.trainIndices.length + s.testIndices.length;
  };
  const runId = `sim-${partition.scenario}-${Date.now().toString(36)}`;
  log.info({ runId, anchors: anchorIds.length, strategy: run.anchors.strategy, fingerprint }, 'prepared the run');
  return { runId, dataset, poolIds, anchorIds, fingerprint, partitions: split.partitions, ...classGroups(split.partitions), expectedRows };
}
