import type { SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { DamagedNodes } from '../storage/chunk-damage.ts';
import type { RunDirectory, RunRecord } from '../runs/run-directory.ts';
import { evaluateAgainstReference } from './evaluate.ts';
import type { CkaResult } from './evaluate.ts';
import { nearestMerged } from './nearest.ts';
import type { NearestQuery, NeighborResult } from './nearest.ts';
import { nodeSpaceParts, readNodeSpace } from './node-space.ts';
import type { ChunkPages, SpaceData } from './node-space.ts';
import { mergedBatches, spaceBatches } from './row-batches.ts';
import type { MergedSelection, RowBatch } from './row-batches.ts';

export interface Evaluation {
  referenceNodeId: string;
  scores: CkaResult[];
}

/**
 * The read side of the runs: the merged space, a node's space, the CKA evaluation and the
 * nearest-neighbour search, as plain data. The work is in pure functions over a merged space and
 * spaces read page by page from storage (row-batches, evaluate, nearest), so that it can move off
 * the event loop without changing what it computes.
 */
export class RunReads {
  constructor(
    private readonly runs: RunDirectory,
    private readonly pages: ChunkPages,
    /** Nodes with a damaged chunk: reading their space is DATA_LOSS; Evaluate leaves damaged trainers out, as the merge does. */
    private readonly damage: Pick<DamagedNodes, 'check' | 'find'> = { check: () => {}, find: () => undefined },
  ) {}

  /** The merged space (all samples ascending, after a cursor, or the given ids in order) in batches of at most `maxRows`. */
  merged(runId: string, selection: MergedSelection, maxRows: number): Iterable<RowBatch> {
    const run = this.runs.run(runId);
    return mergedBatches(runId, run.merged, selection, maxRows);
  }

  /** One node's stored space (counted rows, in upload order) in batches of at most `maxRows`. */
  nodeSpace(runId: string, nodeId: string, space: SpaceName, maxRows: number): Iterable<RowBatch> {
    const run = this.runs.run(runId);
    const node = run.ledger.node(nodeId);
    this.damage.check(runId, node.nodeId);
    return spaceBatches(nodeSpaceParts(this.pages, runId, node.nodeId, space), maxRows);
  }

  /** CKA of the merged space and each trainer against the reference (see `evaluateAgainstReference`). */
  evaluate(runId: string): Evaluation {
    const run = this.runs.run(runId);
    const referenceNodeId = run.ledger.referenceNodeId;
    if (referenceNodeId === undefined) throw new AggregatorError('failed_precondition', `run ${runId} has no reference node yet`);
    this.damage.check(runId, referenceNodeId);
    const reference = this.relativeSpace(run, referenceNodeId);
    if (reference.sampleIds.length === 0) throw new AggregatorError('failed_precondition', `the reference node ${referenceNodeId} has uploaded no rows yet`);
    const trainers = function* (reads: RunReads): Generator<{ nodeId: string; space: SpaceData }> {
      for (const node of run.ledger.nodeList()) {
        if (node.role !== 'trainer' || reads.damage.find(runId, node.nodeId) !== undefined) continue;
        yield { nodeId: node.nodeId, space: reads.relativeSpace(run, node.nodeId) };
      }
    };
    return { referenceNodeId, scores: evaluateAgainstReference(reference, run.merged, trainers(this)) };
  }

  /** The k nearest merged samples by cosine (see `nearestMerged`). */
  nearest(runId: string, query: NearestQuery, k: number): NeighborResult[] {
    return nearestMerged(runId, this.runs.run(runId).merged, query, k);
  }

  private relativeSpace(run: RunRecord, nodeId: string): SpaceData {
    const node = run.ledger.node(nodeId);
    const runId = run.ledger.config.runId;
    return readNodeSpace(this.pages, { runId, nodeId, space: 'relative', rows: node.spaces.relative.rows, cols: run.ledger.width });
  }
}
