import { equals } from '@bufbuild/protobuf';
import { AnchorSetSummarySchema } from '@rlsa/proto';
import { anchorCount, anchorSetSummaryMessage, roleFromName, runStateFromName } from '@rlsa/wire';
import type { AnchorSetSummaryView, NodeStatusView, RunConfigView, RunStateName, RunStatusView, RunTotalsView } from '@rlsa/wire';
import type { Logger } from 'pino';
import { AggregatorError } from '../errors.ts';
import { RunLedger } from '../ledger/run-ledger.ts';
import type { JoinAttempt, NodeEntry } from '../ledger/run-ledger.ts';
import type { MergedSpace, MergeStrategy } from '../merge/merge-strategy.ts';
import { encodeModelCard, encodeRunConfig } from '../storage/records.ts';
import type { Storage } from '../storage/storage.ts';
import { ChangeNotifier } from './change-notifier.ts';
import { normalizeRunConfig, sameRunConfig } from './run-config.ts';

/** One run in memory: its ledger, its merged space, its watchers. */
export interface RunRecord {
  readonly ledger: RunLedger;
  readonly merged: MergedSpace;
  readonly changes: ChangeNotifier;
  readonly log: Logger;
  updatedAtMs: number;
  /** Open until CloseRun; a deleted run has no record (see `DeletedRun`). */
  state: Exclude<RunStateName, 'deleted'>;
}

/** What remains of a deleted run: its config and when it was deleted (its status says DELETED). */
export interface DeletedRun {
  readonly config: RunConfigView;
  readonly deletedAtMs: number;
}

/** The anchor sets this aggregator stores, by fingerprint: a run of an anchor set needs its set stored. */
export interface AnchorSetCatalog {
  summary(fingerprint: string): AnchorSetSummaryView | undefined;
}

/** What storage the directory writes: run and node metadata (chunks go through the ChunkSink). */
export type RunStore = Pick<Storage, 'insertRun' | 'insertNode' | 'updateNodeModel' | 'setFinished' | 'setRunState'>;

/** Where a node resumes after a Join: the run's configuration and its last committed seq per space (-1: none). */
export interface Joined {
  config: RunConfigView;
  lastRelativeSeq: number;
  lastAbsoluteSeq: number;
}

/**
 * The runs of this aggregator: creating runs, joining and finishing nodes, their status and the
 * notification of changes. Each change is checked completely (the ledger) and stored before the
 * memory follows, so a refusal changes nothing. Returns plain views; the services build messages.
 */
export class RunDirectory {
  private readonly runs = new Map<string, RunRecord>();
  private readonly deleted = new Map<string, DeletedRun>();
  private readonly removedListeners = new Set<(runId: string) => void>();

  constructor(
    private readonly store: RunStore,
    private readonly merge: MergeStrategy,
    private readonly log: Logger,
    private readonly anchorSets: AnchorSetCatalog = { summary: () => undefined },
  ) {}

  /** NOT_FOUND for an unknown or deleted run (a deleted run has no data: only its status remains). */
  run(runId: string): RunRecord {
    const run = this.runs.get(runId);
    if (run !== undefined) return run;
    if (this.deleted.has(runId)) throw new AggregatorError('not_found', `run ${JSON.stringify(runId)} was deleted`);
    throw new AggregatorError('not_found', `run ${JSON.stringify(runId.slice(0, 128))} does not exist`);
  }

  /** The run, if it exists and was not deleted. */
  find(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  /** Whether the run was deleted (its status remains, its id is not used again). */
  isDeleted(runId: string): boolean {
    return this.deleted.has(runId);
  }

  /** The run, open: FAILED_PRECONDITION once it is closed (`what` names the refused write). */
  openRun(runId: string, what: string): RunRecord {
    const run = this.run(runId);
    if (run.state !== 'open') throw new AggregatorError('failed_precondition', `run ${runId} is ${run.state}: no more ${what}`);
    return run;
  }

  /**
   * Creates a run. Creating it again with an identical config is a no-op (a run file read at
   * every start); with another config it is ALREADY_EXISTS. A run of an anchor set needs the set
   * stored (FAILED_PRECONDITION) and its summary as stored (INVALID_ARGUMENT).
   */
  createRun(input: RunConfigView): RunStatusView {
    const config = normalizeRunConfig(input);
    this.checkAnchorSetStored(config);
    if (this.deleted.has(config.runId)) {
      throw new AggregatorError('failed_precondition', `run ${config.runId} was deleted; a deleted run's id is not used again: choose another`);
    }
    const existing = this.runs.get(config.runId);
    if (existing !== undefined) {
      if (!sameRunConfig(existing.ledger.config, config)) {
        throw new AggregatorError('already_exists', `run ${config.runId} exists with another configuration`);
      }
      return this.status(config.runId);
    }
    const now = Date.now();
    this.store.insertRun(config.runId, encodeRunConfig(config), now);
    this.restoreRun(config, now).log.info({ anchors: anchorCount(config.anchors), kind: config.anchors.kind }, 'run created');
    return this.status(config.runId);
  }

  private checkAnchorSetStored(config: RunConfigView): void {
    const { anchors } = config;
    if (anchors.kind !== 'anchor-set') return;
    const stored = this.anchorSets.summary(anchors.fingerprint);
    if (stored === undefined) throw new AggregatorError('failed_precondition', `anchor set ${anchors.fingerprint.slice(0, 16)}… is not stored: upload it first`);
    if (!equals(AnchorSetSummarySchema, anchorSetSummaryMessage(stored), anchorSetSummaryMessage(anchors.summary))) {
      throw new AggregatorError('invalid_argument', `run ${config.runId}: the anchor set summary differs from the one stored for ${anchors.fingerprint.slice(0, 16)}…`);
    }
  }

  /** Adds a run to memory (created, or read back from storage). */
  restoreRun(config: RunConfigView, updatedAtMs: number): RunRecord {
    const run: RunRecord = {
      ledger: new RunLedger(config),
      merged: this.merge.create(anchorCount(config.anchors)),
      changes: new ChangeNotifier(),
      log: this.log.child({ runId: config.runId }),
      updatedAtMs,
      state: 'open',
    };
    this.runs.set(config.runId, run);
    return run;
  }

  /** Joins (or resumes) a node: see `RunLedger.planJoin` for the refusals. */
  join(runId: string, attempt: JoinAttempt): Joined {
    const run = this.openRun(runId, 'joins');
    const plan = run.ledger.planJoin(attempt);
    let node: NodeEntry;
    if (plan.kind === 'new') {
      const joinedAtMs = Date.now();
      this.store.insertNode({ runId, nodeId: plan.nodeId, role: roleFromName(plan.role), taskId: plan.taskId, model: encodeModelCard(plan.model), joinedAtMs });
      node = run.ledger.addNode({ nodeId: plan.nodeId, role: plan.role, taskId: plan.taskId, model: plan.model, finished: false, joinedAtMs });
      run.log.child({ nodeId: node.nodeId }).info({ role: node.role, taskId: node.taskId, architecture: node.model.architecture }, 'node joined');
      this.changed(run);
    } else {
      node = plan.node;
      node.lastSeenMs = Date.now();
      if (plan.accuracyChanged) {
        this.store.updateNodeModel(runId, node.nodeId, encodeModelCard(plan.model));
        node.model = plan.model;
        this.changed(run);
      }
      run.log.child({ nodeId: node.nodeId }).info('node joined again');
    }
    return { config: run.ledger.config, lastRelativeSeq: node.spaces.relative.lastSeq, lastAbsoluteSeq: node.spaces.absolute.lastSeq };
  }

  /** Marks a node's upload complete (idempotent). */
  finish(runId: string, nodeId: string): NodeStatusView {
    const run = this.openRun(runId, 'uploads');
    const node = run.ledger.node(nodeId);
    node.lastSeenMs = Date.now();
    if (!node.finished) {
      this.store.setFinished(runId, nodeId);
      node.finished = true;
      run.log.child({ nodeId }).info({ relativeRows: node.spaces.relative.rows }, 'node finished');
      this.changed(run);
    }
    return nodeStatus(node);
  }

  /** An upload stream of the node opened (+1) or closed (-1). */
  connection(runId: string, nodeId: string, delta: 1 | -1): void {
    const run = this.runs.get(runId);
    const node = run?.ledger.find(nodeId);
    if (run === undefined || node === undefined) return;
    node.connections = Math.max(0, node.connections + delta);
    this.changed(run);
  }

  /** Nodes with at least one open upload stream. */
  connectedNodes(): number {
    let count = 0;
    for (const run of this.runs.values()) for (const node of run.ledger.nodeList()) if (node.connections > 0) count += 1;
    return count;
  }

  /** Bytes of all runs' merged spaces. */
  mergedBytes(): number {
    let bytes = 0;
    for (const run of this.runs.values()) bytes += run.merged.bytes;
    return bytes;
  }

  /** The run's status; a deleted run's says DELETED, with its config and nothing else. */
  status(runId: string): RunStatusView {
    const gone = this.deleted.get(runId);
    if (gone !== undefined) {
      const none: RunTotalsView = { nodes: 0, finishedNodes: 0, connectedNodes: 0, relativeRows: 0 };
      return { config: gone.config, nodes: [], mergedSamples: 0, updatedAtMs: gone.deletedAtMs, state: 'deleted', totals: none };
    }
    const run = this.run(runId);
    const nodes = run.ledger.nodeList().map(nodeStatus);
    return {
      config: run.ledger.config,
      nodes,
      mergedSamples: run.merged.sampleCount,
      updatedAtMs: run.updatedAtMs,
      state: run.state,
      totals: runTotals(nodes),
    };
  }

  /** Every run, deleted ones last. */
  listRuns(): RunStatusView[] {
    return [...this.runs.keys(), ...this.deleted.keys()].map((runId) => this.status(runId));
  }

  /** How many runs are in each state (a metric). */
  countByState(): Record<RunStateName, number> {
    const counts: Record<RunStateName, number> = { open: 0, closed: 0, deleted: this.deleted.size };
    for (const run of this.runs.values()) counts[run.state] += 1;
    return counts;
  }

  /**
   * Closes a run: no more joins, uploads or finishes (FAILED_PRECONDITION). Stored before memory
   * follows; returns false when it was closed already (idempotent).
   */
  close(runId: string): boolean {
    const run = this.run(runId);
    if (run.state === 'closed') return false;
    this.store.setRunState(runId, runStateFromName('closed'), Date.now(), encodeRunConfig(run.ledger.config));
    run.state = 'closed';
    run.log.info('run closed');
    this.changed(run);
    return true;
  }

  /**
   * Marks a run deleted, stored first (so that a deletion cut short is finished at the next start),
   * then takes it out of memory: its ledger and merged space are released, its watchers end (they
   * hear of the change first) and `onRemoved` listeners forget it. The caller removes its data.
   */
  markDeleted(runId: string): RunStatusView {
    const run = this.run(runId);
    const deletedAtMs = Date.now();
    this.store.setRunState(runId, runStateFromName('deleted'), deletedAtMs, encodeRunConfig(run.ledger.config));
    this.runs.delete(runId);
    this.deleted.set(runId, { config: run.ledger.config, deletedAtMs });
    run.changes.end();
    for (const listener of [...this.removedListeners]) listener(runId);
    run.log.info('run deleted');
    return this.status(runId);
  }

  /** A deleted run read back from storage at start (its data gone, or about to be: see `rebuild`). */
  restoreDeleted(config: RunConfigView, deletedAtMs: number): void {
    this.runs.delete(config.runId);
    this.deleted.set(config.runId, { config, deletedAtMs });
  }

  /** Calls `listener` with the id of each run taken out of memory (deleted); returns the unsubscribe. */
  onRemoved(listener: (runId: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /** The run changed: its time stamp moves and its watchers hear of it. */
  changed(run: RunRecord): void {
    run.updatedAtMs = Date.now();
    run.changes.notify();
  }
}

/** Counts over the nodes of a run. */
export function runTotals(nodes: readonly NodeStatusView[]): RunTotalsView {
  const totals: RunTotalsView = { nodes: nodes.length, finishedNodes: 0, connectedNodes: 0, relativeRows: 0 };
  for (const node of nodes) {
    if (node.finished) totals.finishedNodes += 1;
    if (node.connected) totals.connectedNodes += 1;
    totals.relativeRows += node.relativeRows;
  }
  return totals;
}

export function nodeStatus(node: NodeEntry): NodeStatusView {
  const { relative, absolute } = node.spaces;
  return {
    nodeId: node.nodeId,
    role: node.role,
    taskId: node.taskId,
    model: node.model,
    relativeChunks: relative.chunks,
    relativeRows: relative.rows,
    absoluteChunks: absolute.chunks,
    absoluteRows: absolute.rows,
    finished: node.finished,
    connected: node.connections > 0,
    lastSeenMs: node.lastSeenMs,
  };
}
