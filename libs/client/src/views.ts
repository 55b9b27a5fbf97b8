import { create } from '@bufbuild/protobuf';
import { RlsaError } from '@rlsa/core';
import { NodeRole, RunConfigSchema, Similarity, SpaceKind } from '@rlsa/proto';
import type { NodeStatus, RunConfig, RunStatus } from '@rlsa/proto';
import { encodingFromName, encodingName } from './matrix-codec.ts';
import type { EncodingName } from './matrix-codec.ts';

export type SimilarityName = 'cosine' | 'euclidean' | 'l1' | 'angular';
export type RoleName = 'trainer' | 'reference';
export type SpaceName = 'relative' | 'absolute';

/** A run's configuration in plain values (see `rlsa.v1.RunConfig`). */
export interface RunConfigView {
  runId: string;
  /** Global sample ids of the anchors, in order; the relative width is their count. */
  anchorIds: number[];
  similarity: SimilarityName;
  anchorFingerprint: string;
  /** Empty: every encoding is accepted. */
  acceptedEncodings: EncodingName[];
  center: boolean;
  allowAbsolute: boolean;
}

export interface NodeStatusView {
  nodeId: string;
  role: RoleName | 'unspecified';
  taskId: string;
  model: { architecture: string; embeddingWidth: number; taskAccuracy?: number } | undefined;
  relativeChunks: number;
  relativeRows: number;
  absoluteChunks: number;
  absoluteRows: number;
  finished: boolean;
  connected: boolean;
}

export interface RunStatusView {
  config: RunConfigView;
  nodes: NodeStatusView[];
  mergedSamples: number;
  updatedAtMs: number;
}

const SIMILARITIES: Record<SimilarityName, Similarity> = {
  cosine: Similarity.COSINE,
  euclidean: Similarity.EUCLIDEAN,
  l1: Similarity.L1,
  angular: Similarity.ANGULAR,
};

export function similarityFromName(name: SimilarityName): Similarity {
  const value = SIMILARITIES[name];
  if (value === undefined) throw new RlsaError('invalid_argument', `unknown similarity ${String(name)}`);
  return value;
}

export function similarityName(value: Similarity): SimilarityName {
  if (value === Similarity.UNSPECIFIED) return 'cosine';
  const entry = Object.entries(SIMILARITIES).find(([, v]) => v === value);
  if (entry === undefined) throw new RlsaError('invalid_argument', `unknown similarity ${value}`);
  return entry[0] as SimilarityName;
}

export function roleFromName(name: RoleName): NodeRole {
  if (name === 'trainer') return NodeRole.TRAINER;
  if (name === 'reference') return NodeRole.REFERENCE;
  throw new RlsaError('invalid_argument', `unknown node role ${String(name)} (trainer or reference)`);
}

export function roleName(role: NodeRole): RoleName | 'unspecified' {
  return role === NodeRole.TRAINER ? 'trainer' : role === NodeRole.REFERENCE ? 'reference' : 'unspecified';
}

export function spaceFromName(name: SpaceName): SpaceKind {
  if (name === 'relative') return SpaceKind.RELATIVE;
  if (name === 'absolute') return SpaceKind.ABSOLUTE;
  throw new RlsaError('invalid_argument', `unknown space ${String(name)} (relative or absolute)`);
}

/** Input for creating a run: only runId, anchorIds and anchorFingerprint are required. */
export interface RunConfigInput {
  runId: string;
  anchorIds: ArrayLike<number>;
  anchorFingerprint: string;
  similarity?: SimilarityName;
  acceptedEncodings?: readonly EncodingName[];
  center?: boolean;
  allowAbsolute?: boolean;
}

export function runConfigMessage(input: RunConfigInput): RunConfig {
  return create(RunConfigSchema, {
    runId: input.runId,
    anchorIds: Array.from(input.anchorIds),
    similarity: similarityFromName(input.similarity ?? 'cosine'),
    anchorFingerprint: input.anchorFingerprint,
    acceptedEncodings: (input.acceptedEncodings ?? []).map(encodingFromName),
    center: input.center ?? false,
    allowAbsolute: input.allowAbsolute ?? false,
  });
}

export function runConfigView(config: RunConfig | undefined): RunConfigView {
  return {
    runId: config?.runId ?? '',
    anchorIds: [...(config?.anchorIds ?? [])],
    similarity: similarityName(config?.similarity ?? Similarity.UNSPECIFIED),
    anchorFingerprint: config?.anchorFingerprint ?? '',
    acceptedEncodings: (config?.acceptedEncodings ?? []).map(encodingName),
    center: config?.center ?? false,
    allowAbsolute: config?.allowAbsolute ?? false,
  };
}

export function nodeStatusView(node: NodeStatus): NodeStatusView {
  return {
    nodeId: node.nodeId,
    role: roleName(node.role),
    taskId: node.taskId,
    model:
      node.model === undefined
        ? undefined
        : {
            architecture: node.model.architecture,
            embeddingWidth: node.model.embeddingWidth,
            ...(node.model.taskAccuracy !== undefined ? { taskAccuracy: node.model.taskAccuracy } : {}),
          },
    relativeChunks: Number(node.relativeChunks),
    relativeRows: Number(node.relativeRows),
    absoluteChunks: Number(node.absoluteChunks),
    absoluteRows: Number(node.absoluteRows),
    finished: node.finished,
    connected: node.connected,
  };
}

export function runStatusView(run: RunStatus): RunStatusView {
  return {
    config: runConfigView(run.config),
    nodes: run.nodes.map(nodeStatusView),
    mergedSamples: Number(run.mergedSamples),
    updatedAtMs: Number(run.updatedAtMs),
  };
}
