import type { NodeRoleName } from '@rlsa/core';
import { create } from '@bufbuild/protobuf';
import { ModelCardSchema } from '@rlsa/proto';
import type { ModelCard, NodeStatus, RunStatus } from '@rlsa/proto';
import { roleName, runStateName } from './enum-names.ts';
import type { RunStateName } from './enum-names.ts';
import { runConfigView } from './run-config-view.ts';
import type { RunConfigView } from './run-config-view.ts';

/** A model card in plain values (see `rlsa.v2.ModelCard`). */
export interface ModelCardView {
  architecture: string;
  embeddingWidth: number;
  taskAccuracy?: number;
  /** What else identifies the model (kind, file, SHA-256, input, runtime, ...); absent when empty. */
  details?: Readonly<Record<string, string>>;
}

export interface NodeStatusView {
  nodeId: string;
  role: NodeRoleName | 'unspecified';
  taskId: string;
  model: ModelCardView | undefined;
  relativeChunks: number;
  relativeRows: number;
  absoluteChunks: number;
  absoluteRows: number;
  finished: boolean;
  connected: boolean;
  /** Unix ms of the node's last call. */
  lastSeenMs: number;
}

/** Counts over every node of a run (kept in a node's own view of the run, which lists only itself). */
export interface RunTotalsView {
  nodes: number;
  finishedNodes: number;
  connectedNodes: number;
  relativeRows: number;
}

export interface RunStatusView {
  config: RunConfigView;
  nodes: NodeStatusView[];
  mergedSamples: number;
  updatedAtMs: number;
  state: RunStateName;
  totals: RunTotalsView;
}

export function modelCardMessage(model: ModelCardView): ModelCard {
  return create(ModelCardSchema, {
    architecture: model.architecture,
    embeddingWidth: model.embeddingWidth,
    ...(model.taskAccuracy !== undefined ? { taskAccuracy: model.taskAccuracy } : {}),
    details: { ...model.details },
  });
}

export function modelCardView(model: ModelCard): ModelCardView {
  return {
    architecture: model.architecture,
    embeddingWidth: model.embeddingWidth,
    ...(model.taskAccuracy !== undefined ? { taskAccuracy: model.taskAccuracy } : {}),
    ...(Object.keys(model.details).length > 0 ? { details: { ...model.details } } : {}),
  };
}

export function nodeStatusView(node: NodeStatus): NodeStatusView {
  return {
    nodeId: node.nodeId,
    role: roleName(node.role),
    taskId: node.taskId,
    model: node.model === undefined ? undefined : modelCardView(node.model),
    relativeChunks: Number(node.relativeChunks),
    relativeRows: Number(node.relativeRows),
    absoluteChunks: Number(node.absoluteChunks),
    absoluteRows: Number(node.absoluteRows),
    finished: node.finished,
    connected: node.connected,
    lastSeenMs: Number(node.lastSeenMs),
  };
}

export function runStatusView(run: RunStatus): RunStatusView {
  return {
    config: runConfigView(run.config),
    nodes: run.nodes.map(nodeStatusView),
    mergedSamples: Number(run.mergedSamples),
    updatedAtMs: Number(run.updatedAtMs),
    state: runStateName(run.state),
    totals: {
      nodes: run.totals?.nodes ?? 0,
      finishedNodes: run.totals?.finishedNodes ?? 0,
      connectedNodes: run.totals?.connectedNodes ?? 0,
      relativeRows: Number(run.totals?.relativeRows ?? 0n),
    },
  };
}
