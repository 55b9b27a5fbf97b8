import { create } from '@bufbuild/protobuf';
import { NODE_ROLES, RlsaError, SIMILARITIES } from '@rlsa/core';
import type { NodeRoleName, Similarity as SimilarityName } from '@rlsa/core';
import { ModelCardSchema, NodeRole, RunConfigSchema, Similarity, SpaceKind } from '@rlsa/proto';
import type { ModelCard, NodeStatus, RunConfig, RunStatus } from '@rlsa/proto';
import { encodingFromName, encodingName } from './matrix-codec.ts';
import type { EncodingName } from './matrix-codec.ts';

export type { NodeRoleName, SimilarityName };
/** A node's role by name: the core's vocabulary (`NODE_ROLES`). */
export type RoleName = NodeRoleName;

/** The two spaces a node uploads: its relative representations (merged) and, when the run allows, its absolute embeddings. */
export const SPACE_NAMES = ['relative', 'absolute'] as const;
export type SpaceName = (typeof SPACE_NAMES)[number];

/** A model card in plain values (see `rlsa.v1.ModelCard`). */
export interface ModelCardView {
  architecture: string;
  embeddingWidth: number;
  taskAccuracy?: number;
}

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
  model: ModelCardView | undefined;
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

/** The wire enum of each similarity name (a closed table over the core's `SIMILARITIES`). */
const SIMILARITY_ENUM = {
  cosine: Similarity.COSINE,
  euclidean: Similarity.EUCLIDEAN,
  l1: Similarity.L1,
  angular: Similarity.ANGULAR,
} as const satisfies Record<SimilarityName, Similarity>;

/** The wire enum of each role name (over the core's `NODE_ROLES`). */
const ROLE_ENUM = { trainer: NodeRole.TRAINER, reference: NodeRole.REFERENCE } as const satisfies Record<NodeRoleName, NodeRole>;

/** The wire enum of each space name. */
const SPACE_ENUM = { relative: SpaceKind.RELATIVE, absolute: SpaceKind.ABSOLUTE } as const satisfies Record<SpaceName, SpaceKind>;

export function similarityFromName(name: SimilarityName): Similarity {
  const value = (SIMILARITY_ENUM as Partial<Record<string, Similarity>>)[name];
  if (value === undefined) throw new RlsaError('invalid_argument', `unknown similarity ${String(name)} (${SIMILARITIES.join(', ')})`);
  return value;
}

/** The name of a similarity; UNSPECIFIED is the default, cosine. */
export function similarityName(value: Similarity): SimilarityName {
  if (value === Similarity.UNSPECIFIED) return 'cosine';
  const name = SIMILARITIES.find((n) => SIMILARITY_ENUM[n] === value);
  if (name === undefined) throw new RlsaError('invalid_argument', `unknown similarity ${value}`);
  return name;
}

export function roleFromName(name: RoleName): NodeRole {
  const value = (ROLE_ENUM as Partial<Record<string, NodeRole>>)[name];
  if (value === undefined) throw new RlsaError('invalid_argument', `unknown node role ${String(name)} (${NODE_ROLES.join(' or ')})`);
  return value;
}

export function roleName(role: NodeRole): RoleName | 'unspecified' {
  return NODE_ROLES.find((n) => ROLE_ENUM[n] === role) ?? 'unspecified';
}

export function spaceFromName(name: SpaceName): SpaceKind {
  const value = (SPACE_ENUM as Partial<Record<string, SpaceKind>>)[name];
  if (value === undefined) throw new RlsaError('invalid_argument', `unknown space ${String(name)} (${SPACE_NAMES.join(' or ')})`);
  return value;
}

/** The name of a space kind, or undefined for UNSPECIFIED and unknown values. */
export function spaceName(kind: SpaceKind): SpaceName | undefined {
  return SPACE_NAMES.find((n) => SPACE_ENUM[n] === kind);
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

export function modelCardMessage(model: ModelCardView): ModelCard {
  return create(ModelCardSchema, {
    architecture: model.architecture,
    embeddingWidth: model.embeddingWidth,
    ...(model.taskAccuracy !== undefined ? { taskAccuracy: model.taskAccuracy } : {}),
  });
}

export function modelCardView(model: ModelCard): ModelCardView {
  return {
    architecture: model.architecture,
    embeddingWidth: model.embeddingWidth,
    ...(model.taskAccuracy !== undefined ? { taskAccuracy: model.taskAccuracy } : {}),
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
