import type { NodeRoleName } from '@rlsa/core';
import { anchorCount } from '@rlsa/wire';
import type { ModelCardView, RunConfigView, SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import { SpaceLedger } from './space-ledger.ts';

/** Node and run ids: what may be written into logs, file names and metrics labels unquoted. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A node of a run, as the ledger knows it. */
export interface NodeEntry {
  readonly nodeId: string;
  readonly role: NodeRoleName;
  readonly taskId: string;
  model: ModelCardView;
  finished: boolean;
  readonly joinedAtMs: number;
  /** Unix ms of the node's last call (its Join, a chunk, its FinishUpload); not stored: the join time after a restart. */
  lastSeenMs: number;
  /** Open upload streams of this node. */
  connections: number;
  readonly spaces: Readonly<Record<SpaceName, SpaceLedger>>;
}

/** A Join as the ledger checks it (the wire's enums already turned into names). */
export interface JoinAttempt {
  nodeId: string;
  role: NodeRoleName | 'unspecified';
  taskId: string;
  model: ModelCardView | undefined;
  anchorFingerprint: string;
  relativeWidth: number;
}

/** What a valid Join does: add a node, or resume one (updating its task accuracy when it changed). */
export type JoinPlan =
  | { kind: 'new'; nodeId: string; role: NodeRoleName; taskId: string; model: ModelCardView }
  | { kind: 'again'; node: NodeEntry; accuracyChanged: boolean; model: ModelCardView };

/**
 * Who joined one run, with which role, task and model, and each node's space ledgers; pure and
 * synchronous. `planJoin` checks a Join completely before anything is recorded, so a refused
 * Join changes nothing.
 */
export class RunLedger {
  readonly width: number;
  private readonly nodes = new Map<string, NodeEntry>();
  private reference: string | undefined;

  constructor(readonly config: RunConfigView) {
    this.width = anchorCount(config.anchors);
  }

  /** The reference node's id, once one joined. */
  get referenceNodeId(): string | undefined {
    return this.reference;
  }

  /** Nodes in the order they joined. */
  nodeList(): NodeEntry[] {
    return [...this.nodes.values()];
  }

  /** The node, if it joined. */
  find(nodeId: string): NodeEntry | undefined {
    return this.nodes.get(nodeId);
  }

  /** FAILED_PRECONDITION when the node has not joined. */
  node(nodeId: string): NodeEntry {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new AggregatorError('failed_precondition', `node ${JSON.stringify(nodeId)} has not joined run ${this.config.runId}`);
    return node;
  }

  /** Width of a node's rows in a space: the anchors for relative, the model's embedding for absolute. */
  columns(node: NodeEntry, space: SpaceName): number {
    return space === 'relative' ? this.width : node.model.embeddingWidth;
  }

  /**
   * Checks a Join: INVALID_ARGUMENT for a bad node id, role or model card; FAILED_PRECONDITION
   * when the fingerprint or relative width does not match the run, when another reference has
   * joined, or when the node joined before with another role, task or model.
   */
  planJoin(attempt: JoinAttempt): JoinPlan {
    const { nodeId, role, model } = attempt;
    if (!ID_PATTERN.test(nodeId)) throw new AggregatorError('invalid_argument', `node id ${JSON.stringify(nodeId)} must match ${ID_PATTERN.source}`);
    if (role === 'unspecified') throw new AggregatorError('invalid_argument', 'role must be NODE_ROLE_TRAINER or NODE_ROLE_REFERENCE');
    if (model === undefined || model.embeddingWidth === 0 || model.architecture === '') {
      throw new AggregatorError('invalid_argument', 'a model card with architecture and embedding width is required');
    }
    if (model.taskAccuracy !== undefined && !(model.taskAccuracy >= 0 && model.taskAccuracy <= 1)) {
      throw new AggregatorError('invalid_argument', `task accuracy ${model.taskAccuracy} is not in [0, 1]`);
    }
    this.checkAnchors(attempt);
    const existing = this.nodes.get(nodeId);
    if (existing === undefined) {
      if (role === 'reference' && this.reference !== undefined) {
        throw new AggregatorError('failed_precondition', `run ${this.config.runId} already has a reference node (${this.reference})`);
      }
      return { kind: 'new', nodeId, role, taskId: attempt.taskId, model };
    }
    if (existing.role !== role || existing.taskId !== attempt.taskId) {
      throw new AggregatorError('failed_precondition', `node ${nodeId} joined before with another role or task`);
    }
    if (existing.model.architecture !== model.architecture || existing.model.embeddingWidth !== model.embeddingWidth || !sameDetails(existing.model, model)) {
      throw new AggregatorError('failed_precondition', `node ${nodeId} joined before with another model`);
    }
    const accuracyChanged = model.taskAccuracy !== undefined && model.taskAccuracy !== existing.model.taskAccuracy;
    return { kind: 'again', node: existing, accuracyChanged, model };
  }

  /** Records a node (a planned new Join, or a node read back from storage). */
  addNode(node: Omit<NodeEntry, 'spaces' | 'connections' | 'lastSeenMs'>): NodeEntry {
    const entry: NodeEntry = {
      ...node,
      lastSeenMs: node.joinedAtMs,
      connections: 0,
      spaces: { relative: new SpaceLedger(node.nodeId), absolute: new SpaceLedger(node.nodeId) },
    };
    this.nodes.set(node.nodeId, entry);
    if (node.role === 'reference') this.reference = node.nodeId;
    return entry;
  }

  private checkAnchors(attempt: JoinAttempt): void {
    const { runId } = this.config;
    const anchorFingerprint = this.config.anchors.fingerprint;
    if (attempt.anchorFingerprint !== anchorFingerprint) {
      throw new AggregatorError(
        'failed_precondition',
        `anchor fingerprint ${attempt.anchorFingerprint.slice(0, 16) || '(empty)'}… does not match run ${runId} (${anchorFingerprint.slice(0, 16)}…)`,
      );
    }
    if (attempt.relativeWidth !== this.width) {
      throw new AggregatorError('failed_precondition', `relative width ${attempt.relativeWidth} does not match the run's ${this.width} anchors`);
    }
  }
}

/** Whether two model cards name the same details (the model's file, runtime, ...): part of its identity. */
function sameDetails(a: ModelCardView, b: ModelCardView): boolean {
  const x = Object.entries(a.details ?? {}).sort(([k], [l]) => (k < l ? -1 : 1));
  const y = Object.entries(b.details ?? {}).sort(([k], [l]) => (k < l ? -1 : 1));
  return x.length === y.length && x.every(([k, v], i) => y[i]?.[0] === k && y[i]?.[1] === v);
}
