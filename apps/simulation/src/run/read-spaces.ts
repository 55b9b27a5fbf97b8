import { toBuiltinIds, type AggregatorClient, type EvaluateResult, type RunStatusView, type SpaceRows } from '@rlsa/client';
import { TEST_ID_OFFSET, type ImageDataset } from '@rlsa/data';
import { naiveSpace, type LabelledSpace } from '../metrics.ts';
import { SimulationError } from '../simulation-error.ts';
import type { NodeSpec } from './launch.ts';

/** Every space the run measures, read back from the aggregator and labelled by sample id. */
export interface RunSpaces {
  /** The run's status once every node finished (their model cards and row counts). */
  readonly status: RunStatusView;
  readonly merged: LabelledSpace;
  /** How many trainers' rows each merged row averages (in the merged space's row order). */
  readonly mergedCounts: Uint32Array;
  readonly naive: LabelledSpace;
  /** Each trainer's relative space, in the order of the trainers. */
  readonly nodeRelative: readonly LabelledSpace[];
  readonly referenceRelative: LabelledSpace;
  readonly referenceAbsolute: LabelledSpace;
  /** The aggregator's own Evaluate, running server-side while this process trains the probes. */
  readonly evaluating: Promise<EvaluateResult>;
}

/** Class label of a global sample id. */
function labelOf(dataset: ImageDataset, id: number): number {
  return id >= TEST_ID_OFFSET ? dataset.test.labels[id - TEST_ID_OFFSET]! : dataset.train.labels[id]!;
}

function toLabelled(rows: SpaceRows, dataset: ImageDataset): LabelledSpace {
  // The built-in data set's ids, read back as 64-bit ids: all of them below 2^32.
  const sampleIds = about(() => toBuiltinIds(rows.sampleIds));
  // Labels come from the data set by id: the same for every space, whatever a node sent.
  const labels = Int32Array.from(sampleIds, (id) => labelOf(dataset, id));
  return { sampleIds, values: { rows: rows.values.rows, cols: rows.values.cols, data: rows.values.data }, labels };
}

/** A read-back space that is not the built-in data set's: the run is not the simulation's. */
function about<T>(read: () => T): T {
  try {
    return read();
  } catch (error: unknown) {
    throw new SimulationError('process_failed', `the aggregator served ids that are not the data set's: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Phase 4, read back: checks every node finished its upload, reads the merged space, each trainer's
 * relative and absolute spaces and the reference's, and builds the naive (jumbled) baseline; then
 * starts the aggregator's Evaluate (it runs synchronously there, so after the reads).
 */
export async function readSpaces(client: AggregatorClient, runId: string, specs: readonly NodeSpec[], dataset: ImageDataset, aborted: Promise<never>): Promise<RunSpaces> {
  const status = await client.getRun(runId);
  const unfinished = specs.filter((s) => !status.nodes.some((n) => n.nodeId === s.id && n.finished));
  if (unfinished.length > 0) throw new SimulationError('process_failed', `nodes exited without finishing their upload: ${unfinished.map((s) => s.id).join(', ')}`);
  const trainers = specs.filter((s) => s.role === 'trainer');
  const [mergedRaw, nodeRelativeRaw, nodeAbsoluteRaw, referenceRelativeRaw, referenceAbsoluteRaw] = await Promise.race([
    Promise.all([
      client.readMerged(runId),
      Promise.all(trainers.map((spec) => client.readNodeSpace(runId, spec.id, 'relative'))),
      Promise.all(trainers.map((spec) => client.readNodeSpace(runId, spec.id, 'absolute'))),
      client.readNodeSpace(runId, 'reference', 'relative'),
      client.readNodeSpace(runId, 'reference', 'absolute'),
    ]),
    aborted,
  ]);
  const referenceRelative = toLabelled(referenceRelativeRaw, dataset);
  const referenceAbsolute = toLabelled(referenceAbsoluteRaw, dataset);
  if (referenceAbsolute.sampleIds.some((id, i) => id !== referenceRelative.sampleIds[i])) {
    throw new SimulationError('process_failed', 'the reference’s absolute and relative spaces hold different samples');
  }
  const evaluating = client.evaluate(runId);
  evaluating.catch(() => undefined);
  return {
    status,
    merged: toLabelled(mergedRaw, dataset),
    mergedCounts: mergedRaw.counts,
    naive: naiveSpace(nodeAbsoluteRaw.map((rows) => toLabelled(rows, dataset))),
    nodeRelative: nodeRelativeRaw.map((rows) => toLabelled(rows, dataset)),
    referenceRelative,
    referenceAbsolute,
    evaluating,
  };
}
