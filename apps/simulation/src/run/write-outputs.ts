import { join } from 'node:path';
import type { Matrix } from '@rlsa/core';
import { toSampleIds, type RunStatusView } from '@rlsa/client';
import { writeNpy } from '@rlsa/npy';
import { readTrainerNodeResult } from '@rlsa/trainer-node/results';
import type { NodeResult } from '../results.ts';
import { nodeResultsPath, type NodeSpec } from './launch.ts';
import type { RunPlan } from './plan-run.ts';
import type { RunSpaces } from './read-spaces.ts';

/** The files a run writes, by what they hold (written into results.json). */
export const RUN_FILES: Readonly<Record<string, string>> = {
  results: 'results.json',
  report: 'report.html',
  merged: 'merged.npy',
  labels: 'labels.npy',
  sample_ids: 'sample_ids.npy',
  merged_counts: 'merged_counts.npy',
  reference_relative: 'reference_relative.npy',
  reference_absolute: 'reference_absolute.npy',
  reference_sample_ids: 'reference_sample_ids.npy',
  naive: 'naive.npy',
  naive_sample_ids: 'naive_sample_ids.npy',
  logs: 'logs/',
  node_results: 'nodes/<node>.json',
  node_relative: 'nodes/<node>_relative.npy',
  node_sample_ids: 'nodes/<node>_sample_ids.npy',
};

const f32 = (m: Matrix): Float32Array => (m.data instanceof Float32Array ? m.data : Float32Array.from(m.data));

/** Phase 6a, arrays: every space as NPY (N × width float32, sample ids uint64 as the protocol's, labels int32, counts uint32) in `outDir`. */
export function writeSpaces(outDir: string, spaces: RunSpaces, trainers: readonly NodeSpec[]): void {
  const npy = (name: string, data: Float32Array | Int32Array | Uint32Array, shape: number[]): void =>
    writeNpy(join(outDir, name), { dtype: data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'uint32', shape, data });
  const ids = (name: string, sampleIds: Uint32Array): void => writeNpy(join(outDir, name), { dtype: 'uint64', shape: [sampleIds.length], data: toSampleIds(sampleIds) });
  const matrix = (name: string, m: Matrix): void => npy(name, f32(m), [m.rows, m.cols]);
  const { merged, naive, referenceRelative, referenceAbsolute } = spaces;
  matrix('merged.npy', merged.values);
  npy('labels.npy', merged.labels, [merged.labels.length]);
  ids('sample_ids.npy', merged.sampleIds);
  npy('merged_counts.npy', spaces.mergedCounts, [spaces.mergedCounts.length]);
  matrix('reference_relative.npy', referenceRelative.values);
  matrix('reference_absolute.npy', referenceAbsolute.values);
  ids('reference_sample_ids.npy', referenceRelative.sampleIds);
  trainers.forEach((spec, k) => {
    const space = spaces.nodeRelative[k]!;
    matrix(join('nodes', `${spec.id}_relative.npy`), space.values);
    ids(join('nodes', `${spec.id}_sample_ids.npy`), space.sampleIds);
  });
  matrix('naive.npy', naive.values);
  ids('naive_sample_ids.npy', naive.sampleIds);
}

/** Each node as results.json records it: the aggregator's view of it, and its own results file. */
export function nodeResults(specs: readonly NodeSpec[], status: RunStatusView, plan: RunPlan, nodeDir: string): NodeResult[] {
  return specs.map((spec) => {
    const view = status.nodes.find((n) => n.nodeId === spec.id);
    const own = readTrainerNodeResult(nodeResultsPath(nodeDir, spec.id));
    const partition = spec.task !== null ? plan.partitions[spec.task] : undefined;
    return {
      node_id: spec.id,
      role: spec.role,
      task: spec.task,
      model: view?.model?.architecture || spec.model,
      embedding_width: view?.model?.embeddingWidth ?? null,
      classes: partition ? [...partition.classes].sort((a, b) => a - b) : plan.allClasses,
      relative_rows: view?.relativeRows ?? 0,
      task_accuracy: view?.model?.taskAccuracy ?? own?.taskAccuracy ?? null,
      backend: own?.backend ?? null,
      seconds: own?.timings.totalSeconds ?? null,
    };
  });
}
