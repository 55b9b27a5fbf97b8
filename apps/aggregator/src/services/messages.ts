import { create } from '@bufbuild/protobuf';
import {
  CkaScoreSchema,
  FetchAnchorSetResponseSchema,
  EvaluateResponseSchema,
  JoinResponseSchema,
  MergedChunkSchema,
  NearestResponseSchema,
  NeighborSchema,
  NodeRole,
  NodeStatusSchema,
  RunStatusSchema,
  UploadAckSchema,
} from '@rlsa/proto';
import type { EvaluateResponse, FetchAnchorSetResponse, JoinResponse, MergedChunk, NearestResponse, NodeStatus, RunStatus, UploadAck } from '@rlsa/proto';
import { encodeMatrix, modelCardMessage, roleFromName, runConfigMessage, runStateFromName, sampleIdBytes, spaceFromName } from '@rlsa/wire';
import type { EncodingName, NodeStatusView, RunStatusView } from '@rlsa/wire';
import type { ChunkOutcome } from '../ingest/chunk-ingest.ts';
import type { NeighborResult } from '../query/nearest.ts';
import type { Evaluation } from '../query/run-reads.ts';
import type { RowBatch } from '../query/row-batches.ts';
import type { Joined } from '../runs/run-directory.ts';
import type { AnchorSetPiece } from '../storage/anchor-sets.ts';

/** The protobuf messages the aggregator answers with, built from the plain views of its runs and reads: here only. */

export function runStatusMessage(run: RunStatusView): RunStatus {
  return create(RunStatusSchema, {
    config: runConfigMessage(run.config),
    nodes: run.nodes.map(nodeStatusMessage),
    mergedSamples: BigInt(run.mergedSamples),
    updatedAtMs: BigInt(run.updatedAtMs),
    state: runStateFromName(run.state),
    totals: { ...run.totals, relativeRows: BigInt(run.totals.relativeRows) },
  });
}

export function nodeStatusMessage(node: NodeStatusView): NodeStatus {
  return create(NodeStatusSchema, {
    nodeId: node.nodeId,
    role: node.role === 'unspecified' ? NodeRole.UNSPECIFIED : roleFromName(node.role),
    taskId: node.taskId,
    ...(node.model !== undefined ? { model: modelCardMessage(node.model) } : {}),
    relativeChunks: BigInt(node.relativeChunks),
    relativeRows: BigInt(node.relativeRows),
    absoluteChunks: BigInt(node.absoluteChunks),
    absoluteRows: BigInt(node.absoluteRows),
    finished: node.finished,
    connected: node.connected,
    lastSeenMs: BigInt(node.lastSeenMs),
  });
}

export function joinResponse(joined: Joined): JoinResponse {
  return create(JoinResponseSchema, {
    config: runConfigMessage(joined.config),
    lastRelativeSeq: BigInt(joined.lastRelativeSeq),
    lastAbsoluteSeq: BigInt(joined.lastAbsoluteSeq),
  });
}

export function uploadAck(outcome: ChunkOutcome): UploadAck {
  return create(UploadAckSchema, {
    space: spaceFromName(outcome.space),
    seq: BigInt(outcome.seq),
    rowsStored: BigInt(outcome.rowsStored),
    duplicate: outcome.duplicate,
  });
}

export function mergedChunk(batch: RowBatch, encoding: EncodingName): MergedChunk {
  const rows = batch.sampleIds.length;
  return create(MergedChunkSchema, {
    sampleIds: sampleIdBytes(batch.sampleIds),
    values: encodeMatrix({ rows, cols: batch.cols, data: batch.values }, encoding),
    contributors: batch.counts,
    labels: batch.labels,
  });
}

export function evaluateResponse(evaluation: Evaluation): EvaluateResponse {
  return create(EvaluateResponseSchema, {
    referenceNodeId: evaluation.referenceNodeId,
    scores: evaluation.scores.map((s) => create(CkaScoreSchema, { subject: s.subject, n: BigInt(s.n), linearBiased: s.linearBiased, linearDebiased: s.linearDebiased })),
  });
}

export function nearestResponse(neighbors: readonly NeighborResult[]): NearestResponse {
  return create(NearestResponseSchema, { neighbors: neighbors.map((n) => create(NeighborSchema, n)) });
}

export function fetchAnchorSetResponse(piece: AnchorSetPiece, totalSize: number): FetchAnchorSetResponse {
  return create(FetchAnchorSetResponseSchema, { chunk: { offset: BigInt(piece.offset), data: piece.data }, totalSize: BigInt(totalSize) });
}
