import { equals } from '@bufbuild/protobuf';
import { AnchorSetSummarySchema } from '@rlsa/proto';
import { anchorCount, anchorSetSummaryMessage, roleFromName } from '@rlsa/wire';
import type { AnchorSetSummaryView, NodeStatusView, RunConfigView, RunStateName, RunStatusView } from '@rlsa/wire';
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
  /** Open until the lifecycle (CloseRun, DeleteRun) moves it. */
  state: RunStateName;
}

/** The anchor sets this aggregator stores, by fingerprint: a run of an anchor set needs its set stored. */
export interface AnchorSetCatalog {
  summary(fingerprint: string): AnchorSetSummaryView | undefined;
}

/** What storage the directory writes: run and node metadata (chunks go through the ChunkSink). */
export type RunStore = Pick<Storage, 'insertRun' | 'insertNode' | 'updateNodeModel' | 'setFinished'>;

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

  constructor(
    private readonly store: RunStore,
    private readonly merge: MergeStrategy,
    private readonly log: Logger,
    private readonly anchorSets: AnchorSetCatalog = { summary: () => undefined },
  ) {}

  /** NOT_FOUND for an unknown run. */
  run(runId: string): RunRecord {
    const run = this.runs.get(runId);
    if (run === undefined) throw new AggregatorError('not_found', `run ${JSON.stringify(runId)} does not exist`);
    return run;
  }

  /** The run, if it exists. */
  find(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  /**
   * Creates a run. Creating it again with an identical config is a no-op (a run file read at
   * every start); with another config it is ALREADY_EXISTS. A run of an anchor set needs the set
   * stored (FAILED_PRECONDITION) and its summary as stored (INVALID_ARGUMENT).
   */
  createRun(input: RunConfigView): RunStatusView {
    const config = normalizeRunConfig(input);
    this.checkAnchorSetStored(config);
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
    const run = this.run(runId);
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
    const run = this.run(runId);
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

  status(runId: string): RunStatusView {
    const run = this.run(runId);
    return {
      config: run.ledger.config,
      nodes: run.ledger.nodeList().map(nodeStatus),
      mergedSamples: run.merged.sampleCount,
      updatedAtMs: run.updatedAtMs,
      state: run.state,
    };
  }

  listRuns(): RunStatusView[] {
    return [...this.runs.keys()].map((runId) => this.status(runId));
  }

  /** The run changed: its time stamp moves and its watchers hear of it. */
  changed(run: RunRecord): void {
    run.updatedAtMs = Date.now();
    run.changes.notify();
  }
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
