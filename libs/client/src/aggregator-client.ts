import type { NodeRoleName } from '@rlsa/core';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import {
  AdminService,
  AggregatorService,
  CloseRunRequestSchema,
  CreateRunRequestSchema,
  DeleteRunRequestSchema,
  Encoding,
  EvaluateRequestSchema,
  FinishUploadRequestSchema,
  GetRunRequestSchema,
  JoinRequestSchema,
  ListRunsRequestSchema,
  NearestRequestSchema,
  ReadMergedRequestSchema,
  ReadNodeSpaceRequestSchema,
  WatchRunRequestSchema,
} from '@rlsa/proto';
import type { MergedChunk, ReadMergedRequest, ReadNodeSpaceRequest, RunStatus } from '@rlsa/proto';
import {
  encodeMatrix,
  encodingFromName,
  modelCardMessage,
  nodeStatusView,
  roleFromName,
  runConfigMessage,
  runConfigView,
  runStatusView,
  spaceFromName,
  toSampleId,
  toSampleIds,
} from '@rlsa/wire';
import type { EncodingName, ModelCardView, NodeStatusView, RunConfigInput, RunConfigView, RunStatusView, SampleIdInput, SampleIdsInput, SpaceName } from '@rlsa/wire';
import { fetchAnchorSet, uploadAnchorSet } from './anchor-set-transfer.ts';
import type { AnchorSetChunkView, AnchorSetFetch, AnchorSetUpload, AnchorSetUploadResult } from './anchor-set-transfer.ts';
import { AggregatorCallError } from './client-error.ts';
import { openConnection } from './connection.ts';
import type { CallSettings, Connection, ConnectionOptions } from './connection.ts';
import { DEFAULT_UPLOAD_RETRY, NO_RETRY, withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';
import { assembleRows } from './space-rows.ts';
import type { SpaceRows } from './space-rows.ts';
import { uploadChunks } from './upload.ts';
import type { UploadOptions, UploadResult } from './upload.ts';

export type { CallSettings } from './connection.ts';
export type { SpaceRows } from './space-rows.ts';

export interface AggregatorClientOptions extends ConnectionOptions {
  /**
   * The retry policy of the idempotent calls: Join, FinishUpload, opening WatchRun (until its first
   * status) and an upload's reconnects (under the upload's own `retry`). Default: Join,
   * FinishUpload and WatchRun fail at once; uploads reconnect per DEFAULT_UPLOAD_RETRY.
   */
  retry?: RetryPolicy;
  /** Hears each retried failure (for a log line): which call, why, the attempt about to be made and the delay before it. */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  /** The RPC retried, e.g. 'Join', 'Upload'. */
  method: string;
  error: unknown;
  attempt: number;
  delayMs: number;
}

export interface JoinInput {
  runId: string;
  nodeId: string;
  taskId?: string;
  role: NodeRoleName;
  model: ModelCardView;
  anchorFingerprint: string;
  /** Width of the relative vectors (the run's anchor count). */
  relativeWidth: number;
}

export interface JoinResult {
  config: RunConfigView;
  /** Highest acknowledged seq per space, -1 when none: pass it as `startAfterSeq` to resume. */
  lastRelativeSeq: number;
  lastAbsoluteSeq: number;
}

export interface CkaScoreView {
  /** 'merged' or a trainer's node id. */
  subject: string;
  /** Samples shared with the reference. */
  n: number;
  linearBiased: number;
  linearDebiased: number;
}

export interface EvaluateResult {
  referenceNodeId: string;
  scores: CkaScoreView[];
}

export interface NeighborView {
  sampleId: bigint;
  similarity: number;
  label: number;
}

export type NearestQuery = { sampleId: SampleIdInput } | { vector: ArrayLike<number> };

export interface ReadMergedOptions {
  /** These samples, in this order (at most a few thousand: one request); default: every merged sample, ascending. */
  sampleIds?: SampleIdsInput;
  /** Every merged sample after this id (exclusive): resumes a read that stopped after it. Not with `sampleIds`. */
  afterSampleId?: SampleIdInput;
  encoding?: EncodingName;
  maxRowsPerChunk?: number;
}

export interface DeleteRunResult {
  run: RunStatusView;
  bytesFreed: number;
}

export interface AggregatorClient {
  join(request: JoinInput, settings?: CallSettings): Promise<JoinResult>;
  /** Resumable upload with backpressure; see `UploadOptions`. */
  upload(options: UploadOptions): Promise<UploadResult>;
  finish(runId: string, nodeId: string, settings?: CallSettings): Promise<NodeStatusView>;
  readMerged(runId: string, options?: ReadMergedOptions): Promise<SpaceRows>;
  /**
   * The merged space as it streams, one batch per message (at most `maxRowsPerChunk` rows), in
   * ascending id order (or `sampleIds`' order): memory is one batch however large the run. Leaving
   * the loop (or `signal`) cancels the stream; resume with `afterSampleId` = the last id read.
   */
  readMergedBatches(runId: string, options?: ReadMergedOptions & { signal?: AbortSignal }): AsyncIterable<SpaceRows>;
  readNodeSpace(runId: string, nodeId: string, space?: SpaceName, options?: { maxRowsPerChunk?: number }): Promise<SpaceRows>;
  /** One node's space as it streams, one batch per message (admin token); see `readMergedBatches`. */
  readNodeSpaceBatches(runId: string, nodeId: string, space?: SpaceName, options?: { maxRowsPerChunk?: number; signal?: AbortSignal }): AsyncIterable<SpaceRows>;
  evaluate(runId: string, settings?: CallSettings): Promise<EvaluateResult>;
  nearest(runId: string, query: NearestQuery, k: number, settings?: CallSettings): Promise<NeighborView[]>;
  /** The run's status now, then one per change; breaking out of the loop cancels the stream. */
  watchRun(runId: string, options?: { signal?: AbortSignal }): AsyncIterable<RunStatusView>;
  /** The run's anchor set in pieces, in order (bounded memory; resumable from `offset`; reopened after the last byte on a retried status). */
  fetchAnchorSet(runId: string, options?: AnchorSetFetch): AsyncIterable<AnchorSetChunkView>;
  createRun(config: RunConfigInput, settings?: CallSettings): Promise<RunStatusView>;
  getRun(runId: string, settings?: CallSettings): Promise<RunStatusView>;
  listRuns(settings?: CallSettings): Promise<RunStatusView[]>;
  closeRun(runId: string, settings?: CallSettings): Promise<RunStatusView>;
  /** Deletes a run's data; `confirm` must be true. */
  deleteRun(runId: string, confirm: boolean, settings?: CallSettings): Promise<DeleteRunResult>;
  /** Stores an anchor set on the aggregator (admin), streamed in chunks under the message limit; idempotent by fingerprint. */
  uploadAnchorSet(upload: AnchorSetUpload, settings?: CallSettings): Promise<AnchorSetUploadResult>;
  close(): void;
}

const RPC = { ...AggregatorService.method, ...AdminService.method };

type RetryHook = (error: unknown, attempt: number, delayMs: number) => void;

/**
 * A typed client of the aggregator (AggregatorService and AdminService) over one channel.
 * Failed calls reject with `AggregatorCallError` (gRPC status name in `code`); the idempotent ones
 * are retried per `options.retry`.
 */
export function createAggregatorClient(options: AggregatorClientOptions): AggregatorClient {
  const c = openConnection(options);
  const retry = options.retry ?? NO_RETRY;
  const heard = (method: string) => (error: unknown, attempt: number, delayMs: number) => options.onRetry?.({ method, error, attempt, delayMs });
  return {
    join: (request, settings) => withRetry(() => join(c, request, settings), retry, heard(RPC.join.name)),
    upload: (upload) => uploadChunks(c.openUpload, upload, c.waitReady, options.retry ?? DEFAULT_UPLOAD_RETRY, heard(RPC.upload.name)),
    finish: (runId, nodeId, settings) => withRetry(() => finish(c, runId, nodeId, settings), retry, heard(RPC.finishUpload.name)),
    readMerged: (runId, read = {}) => collectRows(c.aggregator.readMerged(readMergedRequest(runId, read), c.setup()), RPC.readMerged.name),
    readMergedBatches: (runId, read = {}) => rowBatches(() => c.aggregator.readMerged(readMergedRequest(runId, read), c.setup()), RPC.readMerged.name, read.signal),
    readNodeSpace: (runId, nodeId, space = 'relative', read = {}) =>
      collectRows(c.aggregator.readNodeSpace(readNodeSpaceRequest(runId, nodeId, space, read), c.setup()), RPC.readNodeSpace.name),
    readNodeSpaceBatches: (runId, nodeId, space = 'relative', read = {}) =>
      rowBatches(() => c.aggregator.readNodeSpace(readNodeSpaceRequest(runId, nodeId, space, read), c.setup()), RPC.readNodeSpace.name, read.signal),
    evaluate: (runId, settings) => evaluate(c, runId, settings),
    nearest: (runId, query, k, settings) => nearest(c, runId, { query, k }, settings),
    watchRun: (runId, watch = {}) => watchRun(c, runId, watch.signal, { policy: retry, onRetry: heard(RPC.watchRun.name) }),
    createRun: async (config, settings) =>
      runStatusView(await called(RPC.createRun.name, c.admin.createRun(create(CreateRunRequestSchema, { config: runConfigMessage(config) }), c.setup(settings)))),
    getRun: async (runId, settings) => runStatusView(await called(RPC.getRun.name, c.admin.getRun(create(GetRunRequestSchema, { runId }), c.setup(settings)))),
    listRuns: async (settings) => (await called(RPC.listRuns.name, c.admin.listRuns(create(ListRunsRequestSchema, {}), c.setup(settings)))).runs.map(runStatusView),
    closeRun: async (runId, settings) => runStatusView(await called(RPC.closeRun.name, c.admin.closeRun(create(CloseRunRequestSchema, { runId }), c.setup(settings)))),
    deleteRun: (runId, confirm, settings) => deleteRun(c, { runId, confirm }, settings),
    fetchAnchorSet: (runId, fetch = {}) => fetchAnchorSet(c, runId, fetch, retry),
    uploadAnchorSet: (upload, settings) => uploadAnchorSet(c, upload, settings),
    close: () => c.close(),
  };
}

/** A call's result, its failure as an AggregatorCallError naming the RPC. */
async function called<T>(method: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error: unknown) {
    throw AggregatorCallError.fromCall(error, method);
  }
}

async function join(c: Connection, request: JoinInput, settings?: CallSettings): Promise<JoinResult> {
  const message = create(JoinRequestSchema, {
    runId: request.runId,
    nodeId: request.nodeId,
    taskId: request.taskId ?? '',
    role: roleFromName(request.role),
    model: modelCardMessage(request.model),
    anchorFingerprint: request.anchorFingerprint,
    relativeWidth: request.relativeWidth,
  });
  const response = await called(RPC.join.name, c.aggregator.join(message, c.setup(settings)));
  return { config: runConfigView(response.config), lastRelativeSeq: Number(response.lastRelativeSeq), lastAbsoluteSeq: Number(response.lastAbsoluteSeq) };
}

async function finish(c: Connection, runId: string, nodeId: string, settings?: CallSettings): Promise<NodeStatusView> {
  const response = await called(RPC.finishUpload.name, c.aggregator.finishUpload(create(FinishUploadRequestSchema, { runId, nodeId }), c.setup(settings)));
  if (response.node === undefined) throw new AggregatorCallError('INTERNAL', status.INTERNAL, 'no node status in the response', RPC.finishUpload.name);
  return nodeStatusView(response.node);
}

function readMergedRequest(runId: string, read: ReadMergedOptions): ReadMergedRequest {
  return create(ReadMergedRequestSchema, {
    runId,
    sampleIds: read.sampleIds === undefined ? [] : Array.from(toSampleIds(read.sampleIds)),
    encoding: read.encoding === undefined ? Encoding.FLOAT32 : encodingFromName(read.encoding),
    maxRowsPerChunk: read.maxRowsPerChunk ?? 0,
    ...(read.afterSampleId !== undefined ? { afterSampleId: toSampleId(read.afterSampleId) } : {}),
  });
}

function readNodeSpaceRequest(runId: string, nodeId: string, space: SpaceName, read: { maxRowsPerChunk?: number }): ReadNodeSpaceRequest {
  return create(ReadNodeSpaceRequestSchema, { runId, nodeId, space: spaceFromName(space), maxRowsPerChunk: read.maxRowsPerChunk ?? 0 });
}

/** A streamed read as batches of rows, one per message, pulled as the caller consumes them; leaving the loop or `signal` cancels it. */
function rowBatches(open: () => ClientReadableStream<MergedChunk>, method: string, signal: AbortSignal | undefined): AsyncIterable<SpaceRows> {
  return {
    async *[Symbol.asyncIterator]() {
      const stream = open();
      const onAbort = (): void => stream.cancel();
      signal?.addEventListener('abort', onAbort);
      try {
        for await (const chunk of stream) yield assembleRows([chunk as MergedChunk]);
      } catch (error: unknown) {
        throw AggregatorCallError.fromCall(error, method);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stream.cancel();
      }
    },
  };
}

async function deleteRun(c: Connection, request: { runId: string; confirm: boolean }, settings?: CallSettings): Promise<DeleteRunResult> {
  const response = await called(RPC.deleteRun.name, c.admin.deleteRun(create(DeleteRunRequestSchema, request), c.setup(settings)));
  if (response.run === undefined) throw new AggregatorCallError('INTERNAL', status.INTERNAL, 'no run status in the response', RPC.deleteRun.name);
  return { run: runStatusView(response.run), bytesFreed: Number(response.bytesFreed) };
}

async function collectRows(stream: ClientReadableStream<MergedChunk>, method: string): Promise<SpaceRows> {
  const parts: MergedChunk[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk as MergedChunk);
  } catch (error: unknown) {
    throw AggregatorCallError.fromCall(error, method);
  }
  return assembleRows(parts);
}

async function evaluate(c: Connection, runId: string, settings?: CallSettings): Promise<EvaluateResult> {
  const response = await called(RPC.evaluate.name, c.aggregator.evaluate(create(EvaluateRequestSchema, { runId }), c.setup(settings)));
  return {
    referenceNodeId: response.referenceNodeId,
    scores: response.scores.map((s) => ({ subject: s.subject, n: Number(s.n), linearBiased: s.linearBiased, linearDebiased: s.linearDebiased })),
  };
}

async function nearest(c: Connection, runId: string, { query, k }: { query: NearestQuery; k: number }, settings?: CallSettings): Promise<NeighborView[]> {
  const request =
    'sampleId' in query
      ? create(NearestRequestSchema, { runId, k, query: { case: 'sampleId', value: toSampleId(query.sampleId) } })
      : create(NearestRequestSchema, {
          runId,
          k,
          query: { case: 'vector', value: encodeMatrix({ rows: 1, cols: query.vector.length, data: Float32Array.from(query.vector) }, 'float32') },
        });
  const response = await called(RPC.nearest.name, c.aggregator.nearest(request, c.setup(settings)));
  return response.neighbors.map((n) => ({ sampleId: n.sampleId, similarity: n.similarity, label: n.label }));
}

/** WatchRun: opening it (until its first status) is retried per the policy; then one status per change until cancelled. */
function watchRun(c: Connection, runId: string, signal: AbortSignal | undefined, retry: { policy: RetryPolicy; onRetry: RetryHook }): AsyncIterable<RunStatusView> {
  return {
    async *[Symbol.asyncIterator]() {
      const opened = await withRetry(() => openWatch(c, runId), retry.policy, retry.onRetry, undefined, signal);
      const onAbort = (): void => opened.stream.cancel();
      signal?.addEventListener('abort', onAbort);
      try {
        if (signal?.aborted === true) return;
        yield runStatusView(opened.first);
        for (;;) {
          const next = await opened.iterator.next();
          if (next.done === true) return;
          yield runStatusView(next.value as RunStatus);
        }
      } catch (error: unknown) {
        const wrapped = AggregatorCallError.fromCall(error, RPC.watchRun.name);
        // Cancelling (abort or leaving the loop) ends the stream quietly.
        if (wrapped.grpcCode !== status.CANCELLED) throw wrapped;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        opened.stream.cancel();
      }
    },
  };
}

/** Opens WatchRun and reads its first status (a failure cancels the stream). */
async function openWatch(c: Connection, runId: string): Promise<{ stream: ClientReadableStream<RunStatus>; iterator: AsyncIterator<unknown>; first: RunStatus }> {
  const stream = c.aggregator.watchRun(create(WatchRunRequestSchema, { runId }), c.setup());
  const iterator = stream[Symbol.asyncIterator]();
  try {
    const first = await iterator.next();
    if (first.done === true) throw new AggregatorCallError('INTERNAL', status.INTERNAL, 'the watch ended before its first status', RPC.watchRun.name);
    return { stream, iterator, first: first.value as RunStatus };
  } catch (error: unknown) {
    stream.cancel();
    throw AggregatorCallError.fromCall(error, RPC.watchRun.name);
  }
}
