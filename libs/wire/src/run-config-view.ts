import type { Similarity } from '@rlsa/core';
import { create } from '@bufbuild/protobuf';
import { RlsaError } from '@rlsa/core';
import { AnchorDtype, AnchorSetSummarySchema, AnchorsSchema, RunConfigSchema, RunQuotasSchema } from '@rlsa/proto';
import type { AnchorSetSummary, Anchors, RunConfig, RunQuotas } from '@rlsa/proto';
import {
  anchorDtypeFromName,
  anchorDtypeName,
  anchorSetKindFromName,
  anchorSetKindName,
  nodeReadFromName,
  nodeReadName,
  similarityFromName,
  similarityName,
} from './enum-names.ts';
import type { AnchorDtypeName, AnchorSetKindName, NodeReadName } from './enum-names.ts';
import { encodingFromName, encodingName } from './matrix-codec.ts';
import type { EncodingName } from './matrix-codec.ts';
import { toSampleIds } from './sample-ids.ts';
import type { SampleIdsInput } from './sample-ids.ts';

/** What an uploaded anchor set holds (see `rlsa.v2.AnchorSetSummary`). */
export interface AnchorSetSummaryView {
  /** Bytes of the set's canonical encoding. */
  size: number;
  /** Anchors: the relative width. */
  count: number;
  kind: AnchorSetKindName;
  /** Array sets: each anchor's shape ([F] or [H, W, C]); empty otherwise. */
  shape: number[];
  /** Array sets: the element type; undefined otherwise. */
  dtype?: AnchorDtypeName;
  hasLabels: boolean;
  hasNames: boolean;
}

/**
 * A run's anchors (see `rlsa.v2.Anchors`): samples of a built-in data set by id, or an anchor set
 * the aggregator stores under the fingerprint. Either way `fingerprint` is what nodes check and send.
 */
export type AnchorsView =
  | { kind: 'builtin'; fingerprint: string; dataset: string; sampleIds: bigint[] }
  | { kind: 'anchor-set'; fingerprint: string; summary: AnchorSetSummaryView };

/** A run's anchors as callers give them: built-in ids may be 32-bit. */
export type AnchorsInput =
  | { kind: 'builtin'; fingerprint: string; dataset: string; sampleIds: SampleIdsInput }
  | { kind: 'anchor-set'; fingerprint: string; summary: AnchorSetSummaryView };

/** Bounds on what a run stores (see `rlsa.v2.RunQuotas`); 0 = the server's default. */
export interface RunQuotasView {
  maxSamples: number;
  maxBytes: number;
  maxNodeSamples: number;
  maxNodeBytes: number;
}

/** A run's configuration in plain values (see `rlsa.v2.RunConfig`). */
export interface RunConfigView {
  runId: string;
  anchors: AnchorsView;
  similarity: Similarity;
  /** Empty: every encoding is accepted. */
  acceptedEncodings: EncodingName[];
  center: boolean;
  allowAbsolute: boolean;
  nodeRead: NodeReadName;
  quotas: RunQuotasView;
}

/** Input for creating a run: only runId and anchors are required. */
export interface RunConfigInput {
  runId: string;
  anchors: AnchorsInput;
  similarity?: Similarity;
  acceptedEncodings?: readonly EncodingName[];
  center?: boolean;
  allowAbsolute?: boolean;
  nodeRead?: NodeReadName;
  quotas?: Partial<RunQuotasView>;
}

/** Quotas all left to the server. */
export const DEFAULT_QUOTAS: Readonly<RunQuotasView> = { maxSamples: 0, maxBytes: 0, maxNodeSamples: 0, maxNodeBytes: 0 };

/** The relative width of a run: its anchor count, whatever their kind. */
export function anchorCount(anchors: AnchorsView): number {
  return anchors.kind === 'builtin' ? anchors.sampleIds.length : anchors.summary.count;
}

export function runConfigMessage(input: RunConfigInput | RunConfigView): RunConfig {
  return create(RunConfigSchema, {
    runId: input.runId,
    anchors: anchorsMessage(input.anchors),
    similarity: similarityFromName(input.similarity ?? 'cosine'),
    acceptedEncodings: (input.acceptedEncodings ?? []).map(encodingFromName),
    center: input.center ?? false,
    allowAbsolute: input.allowAbsolute ?? false,
    nodeRead: nodeReadFromName(input.nodeRead ?? 'merged'),
    quotas: quotasMessage({ ...DEFAULT_QUOTAS, ...input.quotas }),
  });
}

/** A config message in plain values; `invalid_argument` when it has no anchors or an unknown enum value. */
export function runConfigView(config: RunConfig | undefined): RunConfigView {
  return {
    runId: config?.runId ?? '',
    anchors: anchorsView(config?.anchors),
    similarity: similarityName(config?.similarity ?? 0),
    acceptedEncodings: (config?.acceptedEncodings ?? []).map(encodingName),
    center: config?.center ?? false,
    allowAbsolute: config?.allowAbsolute ?? false,
    nodeRead: nodeReadName(config?.nodeRead ?? 0),
    quotas: quotasView(config?.quotas),
  };
}

function anchorsMessage(anchors: AnchorsInput): Anchors {
  if (anchors.kind === 'builtin') {
    const ids = Array.from(toSampleIds(anchors.sampleIds));
    return create(AnchorsSchema, { fingerprint: anchors.fingerprint, source: { case: 'builtin', value: { dataset: anchors.dataset, sampleIds: ids } } });
  }
  return create(AnchorsSchema, { fingerprint: anchors.fingerprint, source: { case: 'anchorSet', value: anchorSetSummaryMessage(anchors.summary) } });
}

function anchorsView(anchors: Anchors | undefined): AnchorsView {
  const fingerprint = anchors?.fingerprint ?? '';
  const source = anchors?.source;
  if (source?.case === 'builtin') return { kind: 'builtin', fingerprint, dataset: source.value.dataset, sampleIds: [...source.value.sampleIds] };
  if (source?.case === 'anchorSet') return { kind: 'anchor-set', fingerprint, summary: anchorSetSummaryView(source.value) };
  throw new RlsaError('invalid_argument', 'a run config needs anchors: a built-in data set with sample ids, or an anchor set');
}

export function anchorSetSummaryMessage(summary: AnchorSetSummaryView): AnchorSetSummary {
  return create(AnchorSetSummarySchema, {
    size: uint64(summary.size, 'anchor set size'),
    count: summary.count,
    kind: anchorSetKindFromName(summary.kind),
    shape: [...summary.shape],
    dtype: summary.dtype === undefined ? AnchorDtype.UNSPECIFIED : anchorDtypeFromName(summary.dtype),
    hasLabels: summary.hasLabels,
    hasNames: summary.hasNames,
  });
}

/** A summary message in plain values; `invalid_argument` for an unknown kind or dtype. */
export function anchorSetSummaryView(summary: AnchorSetSummary): AnchorSetSummaryView {
  const dtype = anchorDtypeName(summary.dtype);
  if (dtype === undefined && summary.dtype !== AnchorDtype.UNSPECIFIED) throw new RlsaError('invalid_argument', `unknown anchor dtype ${summary.dtype}`);
  return {
    size: Number(summary.size),
    count: summary.count,
    kind: anchorSetKindName(summary.kind),
    shape: [...summary.shape],
    ...(dtype !== undefined ? { dtype } : {}),
    hasLabels: summary.hasLabels,
    hasNames: summary.hasNames,
  };
}

function quotasMessage(quotas: RunQuotasView): RunQuotas {
  return create(RunQuotasSchema, {
    maxSamples: uint64(quotas.maxSamples, 'quota maxSamples'),
    maxBytes: uint64(quotas.maxBytes, 'quota maxBytes'),
    maxNodeSamples: uint64(quotas.maxNodeSamples, 'quota maxNodeSamples'),
    maxNodeBytes: uint64(quotas.maxNodeBytes, 'quota maxNodeBytes'),
  });
}

/** A count for a uint64 field; `invalid_argument` unless it is a non-negative safe integer. */
function uint64(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new RlsaError('invalid_argument', `${what} ${value} is not a non-negative integer`);
  return BigInt(value);
}

function quotasView(quotas: RunQuotas | undefined): RunQuotasView {
  if (quotas === undefined) return { ...DEFAULT_QUOTAS };
  return {
    maxSamples: Number(quotas.maxSamples),
    maxBytes: Number(quotas.maxBytes),
    maxNodeSamples: Number(quotas.maxNodeSamples),
    maxNodeBytes: Number(quotas.maxNodeBytes),
  };
}
