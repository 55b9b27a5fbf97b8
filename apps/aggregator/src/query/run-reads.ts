import type { SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { DeferredMerge } from '../ingest/deferred-merge.ts';
import type { DamagedNodes } from '../storage/chunk-damage.ts';
import type { RunDirectory, RunRecord } from '../runs/run-directory.ts';
import type { CkaResult } from './evaluate.ts';
import { nearestSearch } from './nearest.ts';
import type { NearestQuery, NeighborResult } from './nearest.ts';
import type { NodeSpaceTarget } from './node-space.ts';
import type { ReadPool } from './read-pool.ts';
import { mergedBatches, spaceBatches } from './row-batches.ts';
import type { MergedSelection, RowBatch } from './row-batches.ts';

export interface Evaluation {
  referenceNodeId: string;
  scores: CkaResult[];
}

/** Values read per page of a node space on a read thread (about 4 MB of float32). */
const NODE_SPACE_PAGE_VALUES = 1 << 20;

/**
 * The read side of the runs: the merged space, a node's space, the CKA evaluation and the
 * nearest-neighbour search, as plain data. What is heavy runs on the read threads (`ReadPool`):
 * Evaluate (cached per state of the run's nodes and of its merged rows, one computation shared by concurrent callers),
 * Nearest, the merged space's id order (cached per count of readable samples), node spaces page by page. The
 * event loop only checks requests, decides what the threads read, and cuts batches of bounded size.
 */
export class RunReads {
  private readonly evaluations = new WeakMap<RunRecord, { key: string; result: Promise<Evaluation> }>();
  private readonly orders = new WeakMap<RunRecord, { readable: number; ids: Promise<BigUint64Array> }>();

  constructor(
    private readonly runs: RunDirectory,
    private readonly dataDir: string,
    private readonly pool: ReadPool,
    /** Nodes with a damaged chunk: reading their space is DATA_LOSS; Evaluate leaves damaged trainers out, as the merge does. */
    private readonly damage: Pick<DamagedNodes, 'check' | 'find'> = { check: () => {}, find: () => undefined },
    /** The merge trailing the commits: every read of a merged space waits for the chunks committed before it. */
    private readonly merge: Pick<DeferredMerge, 'caughtUp'> = { caughtUp: () => Promise.resolve() },
  ) {}

  /**
   * The merged space (all samples ascending, after a cursor, or the given ids in order) in batches
   * of at most `maxRows` rows. For all samples, `order` is the ascending ids when the caller has
   * them (`sortedIds`, off the event loop); without it they are sorted here.
   */
  async *merged(runId: string, selection: MergedSelection, maxRows: number, order?: BigUint64Array): AsyncGenerator<RowBatch> {
    const run = this.runs.run(runId);
    await this.merge.caughtUp(run);
    yield* mergedBatches(runId, run.merged, selection, maxRows, order);
  }

  /**
   * The merged space's sample ids, ascending, sorted on a read thread (kept while the run has as
   * many readable samples: chunks committed while a read waited may be placed and not merged yet,
   * so the placed count would name a set the snapshot does not hold).
   */
  async sortedIds(runId: string): Promise<BigUint64Array> {
    const run = this.runs.run(runId);
    await this.merge.caughtUp(run);
    const readable = run.merged.readableCount;
    const cached = this.orders.get(run);
    if (cached !== undefined && cached.readable === readable) return cached.ids;
    const ids = this.pool.run({ kind: 'sorted-ids', merged: run.merged.snapshot() });
    this.orders.set(run, { readable, ids });
    ids.catch(() => this.orders.delete(run));
    return ids;
  }

  /** One node's stored space (counted rows, in upload order) in batches of at most `maxRows`, read page by page on a read thread. */
  async *nodeSpace(runId: string, nodeId: string, space: SpaceName, maxRows: number): AsyncGenerator<RowBatch> {
    const run = this.runs.run(runId);
    const node = run.ledger.node(nodeId);
    this.damage.check(runId, node.nodeId);
    const target = this.target(run, node.nodeId, space);
    for (let afterSeq = -1; afterSeq < target.throughSeq; ) {
      const page = await this.pool.run({ kind: 'node-space-page', dataDir: this.dataDir, target, afterSeq, maxValues: NODE_SPACE_PAGE_VALUES });
      if (page.lastSeq === afterSeq) return;
      afterSeq = page.lastSeq;
      yield* spaceBatches(page.parts, maxRows);
    }
  }

  /** CKA of the merged space and each trainer against the reference (see `evaluateAgainstReference`), on a read thread. */
  async evaluate(runId: string): Promise<Evaluation> {
    const run = this.runs.run(runId);
    await this.merge.caughtUp(run);
    const referenceNodeId = run.ledger.referenceNodeId;
    if (referenceNodeId === undefined) throw new AggregatorError('failed_precondition', `run ${runId} has no reference node yet`);
    this.damage.check(runId, referenceNodeId);
    const reference = this.target(run, referenceNodeId, 'relative');
    if (reference.rows === 0) throw new AggregatorError('failed_precondition', `the reference node ${referenceNodeId} has uploaded no rows yet`);
    const trainers = run.ledger.nodeList().filter((node) => node.role === 'trainer' && this.damage.find(runId, node.nodeId) === undefined);
    const targets = trainers.map((node) => this.target(run, node.nodeId, 'relative'));
    // What the scores depend on: which nodes, how far each one's relative space goes, and the rows
    // merged (chunks committed while the read waited may be counted in the ledger, not merged yet).
    const key = JSON.stringify([reference.throughSeq, targets.map((t) => [t.nodeId, t.throughSeq]), run.merged.contributions]);
    const cached = this.evaluations.get(run);
    if (cached !== undefined && cached.key === key) return cached.result;
    const result = this.pool
      .run({ kind: 'evaluate', dataDir: this.dataDir, reference, trainers: targets, merged: run.merged.snapshot() })
      .then((scores) => ({ referenceNodeId, scores }));
    this.evaluations.set(run, { key, result });
    result.catch(() => {
      if (this.evaluations.get(run)?.result === result) this.evaluations.delete(run);
    });
    return result;
  }

  /** The k nearest merged samples by cosine (see `nearestMerged`), searched on a read thread. */
  async nearest(runId: string, query: NearestQuery, k: number): Promise<NeighborResult[]> {
    const run = this.runs.run(runId);
    await this.merge.caughtUp(run);
    const merged = run.merged;
    return this.pool.run({ kind: 'nearest', merged: merged.snapshot(), search: nearestSearch(runId, merged, query, k) });
  }

  /** A node space as it stands now: its committed chunks and rows (a read thread reads exactly those). */
  private target(run: RunRecord, nodeId: string, space: SpaceName): NodeSpaceTarget {
    const ledger = run.ledger.node(nodeId).spaces[space];
    return { runId: run.ledger.config.runId, nodeId, space, throughSeq: ledger.lastSeq, rows: ledger.rows, cols: run.ledger.columns(run.ledger.node(nodeId), space) };
  }
}
