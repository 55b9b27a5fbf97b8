import { create } from '@bufbuild/protobuf';
import { Metadata, credentials, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import type { CallOptions, ChannelCredentials, ChannelOptions, Client, ClientDuplexStream, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { RlsaError } from '@rlsa/core';
import {
  AdminService,
  AggregatorService,
  CreateRunRequestSchema,
  Encoding,
  EvaluateRequestSchema,
  FinishUploadRequestSchema,
  GetRunRequestSchema,
  JoinRequestSchema,
  ListRunsRequestSchema,
  ModelCardSchema,
  NearestRequestSchema,
  ReadMergedRequestSchema,
  ReadNodeSpaceRequestSchema,
  WatchRunRequestSchema,
  grpcServiceDefinition,
} from '@rlsa/proto';
import type {
  EvaluateResponse,
  FinishUploadResponse,
  JoinResponse,
  ListRunsResponse,
  MergedChunk,
  NearestResponse,
  RunStatus,
  UploadAck,
} from '@rlsa/proto';
import { AggregatorCallError } from './client-error.ts';
import { decodeMatrix, encodeMatrix, encodingFromName, nodeStatusView, roleFromName, runConfigMessage, runConfigView, runStatusView, spaceFromName } from '@rlsa/wire';
import type { DecodedMatrix, EncodingName, NodeStatusView, RoleName, RunConfigInput, RunConfigView, RunStatusView, SpaceName } from '@rlsa/wire';
import { uploadChunks } from './upload.ts';
import type { UploadOptions, UploadResult } from './upload.ts';

export interface AggregatorClientOptions {
  /** 'host:port' */
  address: string;
  /** Bearer token sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: `ca` to trust (default: system roots); `cert` + `key` for mTLS. Absent: plaintext. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Largest message the client accepts (default 64 MiB). */
  maxReceiveBytes?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

export interface JoinInput {
  runId: string;
  nodeId: string;
  taskId?: string;
  role: RoleName;
  model: { architecture: string; embeddingWidth: number; taskAccuracy?: number };
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

/** A space read back: rows in ascending sample id order (or the order asked for). */
export interface SpaceRows {
  sampleIds: Uint32Array;
  values: DecodedMatrix;
  /** Trainer spaces averaged into each row (1 for a node's own space). */
  counts: Uint32Array;
  /** Label per row, -1 where unknown. */
  labels: Int32Array;
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
  sampleId: number;
  similarity: number;
  label: number;
}

export type NearestQuery = { sampleId: number } | { vector: ArrayLike<number> };

export interface CallSettings {
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
  /**
   * Wait for the connection (up to the deadline) instead of failing at once with UNAVAILABLE
   * while the aggregator is unreachable, e.g. restarting. Use with `timeoutMs`.
   */
  waitForReady?: boolean;
}

export interface AggregatorClient {
  join(request: JoinInput, settings?: CallSettings): Promise<JoinResult>;
  /** Resumable upload with backpressure; see `UploadOptions`. */
  upload(options: UploadOptions): Promise<UploadResult>;
  finish(runId: string, nodeId: string, settings?: CallSettings): Promise<NodeStatusView>;
  readMerged(runId: string, options?: { sampleIds?: ArrayLike<number>; encoding?: EncodingName; maxRowsPerChunk?: number }): Promise<SpaceRows>;
  readNodeSpace(runId: string, nodeId: string, space?: SpaceName, options?: { maxRowsPerChunk?: number }): Promise<SpaceRows>;
  evaluate(runId: string, settings?: CallSettings): Promise<EvaluateResult>;
  nearest(runId: string, query: NearestQuery, k: number, settings?: CallSettings): Promise<NeighborView[]>;
  /** The run's status now, then one per change; breaking out of the loop cancels the stream. */
  watchRun(runId: string, options?: { signal?: AbortSignal }): AsyncIterable<RunStatusView>;
  createRun(config: RunConfigInput, settings?: CallSettings): Promise<RunStatusView>;
  getRun(runId: string, settings?: CallSettings): Promise<RunStatusView>;
  listRuns(settings?: CallSettings): Promise<RunStatusView[]>;
  close(): void;
}

type Callback<T> = (error: ServiceError | null, value?: T) => void;
type UnaryMethod = (request: unknown, metadata: Metadata, options: CallOptions, callback: Callback<unknown>) => void;
type ServerStreamMethod = (request: unknown, metadata: Metadata, options: CallOptions) => ClientReadableStream<unknown>;
type BidiMethod = (metadata: Metadata, options: CallOptions) => ClientDuplexStream<unknown, unknown>;

const AggregatorClientCtor = makeGenericClientConstructor(grpcServiceDefinition(AggregatorService), 'AggregatorService');
const AdminClientCtor = makeGenericClientConstructor(grpcServiceDefinition(AdminService), 'AdminService');
/** Upload alone, taking pre-serialized chunks (each is encoded once and kept for a resend). */
const UploadClientCtor = (() => {
  const upload = grpcServiceDefinition(AggregatorService)['upload'];
  if (upload === undefined) throw new Error('AggregatorService has no Upload method');
  return makeGenericClientConstructor({ upload: { ...upload, requestSerialize: (bytes: Buffer) => bytes } }, 'AggregatorService');
})();

/**
 * A typed client of the aggregator (AggregatorService and AdminService) over one channel.
 * Failed calls reject with `AggregatorCallError` (gRPC status name in `code`).
 */
export function createAggregatorClient(options: AggregatorClientOptions): AggregatorClient {
  const channelCredentials = channelCredentialsFor(options.tls);
  const channelOptions: ChannelOptions = {
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? 64 * 1024 * 1024,
    'grpc.max_send_message_length': -1,
    // Reconnect within seconds after an aggregator restart (grpc-js backs off up to 120 s by default).
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5000,
    ...options.channelOptions,
  };
  const aggregator = new AggregatorClientCtor(options.address, channelCredentials, channelOptions) as unknown as Client &
    Record<string, UnaryMethod & ServerStreamMethod & BidiMethod>;
  // The admin client shares the channel of the first one.
  const admin = new AdminClientCtor(options.address, channelCredentials, {
    ...channelOptions,
    channelOverride: aggregator.getChannel(),
  }) as unknown as Client & Record<string, UnaryMethod>;

  const uploader = new UploadClientCtor(options.address, channelCredentials, {
    ...channelOptions,
    channelOverride: aggregator.getChannel(),
  }) as unknown as Client & Record<string, BidiMethod>;

  const metadata = (settings?: CallSettings): Metadata => {
    const m = new Metadata(settings?.waitForReady === true ? { waitForReady: true } : {});
    if (options.token !== undefined) m.set('authorization', `Bearer ${options.token}`);
    return m;
  };
  const callOptions = (settings?: CallSettings): CallOptions =>
    settings?.timeoutMs === undefined ? {} : { deadline: Date.now() + settings.timeoutMs };

  const unary = <T>(client: Record<string, UnaryMethod>, method: string, label: string, request: unknown, settings?: CallSettings): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const fn = client[method] as UnaryMethod;
      fn.call(client, request, metadata(settings), callOptions(settings), (error, value) => {
        if (error !== null) reject(AggregatorCallError.fromCall(error, label));
        else resolve(value as T);
      });
    });

  const collectRows = async (stream: ClientReadableStream<unknown>, label: string): Promise<SpaceRows> => {
    const parts: MergedChunk[] = [];
    try {
      for await (const chunk of stream) parts.push(chunk as MergedChunk);
    } catch (error: unknown) {
      throw AggregatorCallError.fromCall(error, label);
    }
    return assembleRows(parts);
  };

  return {
    async join(request, settings) {
      const response = await unary<JoinResponse>(
        aggregator,
        'join',
        'Join',
        create(JoinRequestSchema, {
          runId: request.runId,
          nodeId: request.nodeId,
          taskId: request.taskId ?? '',
          role: roleFromName(request.role),
          model: create(ModelCardSchema, {
            architecture: request.model.architecture,
            embeddingWidth: request.model.embeddingWidth,
            ...(request.model.taskAccuracy !== undefined ? { taskAccuracy: request.model.taskAccuracy } : {}),
          }),
          anchorFingerprint: request.anchorFingerprint,
          relativeWidth: request.relativeWidth,
        }),
        settings,
      );
      return {
        config: runConfigView(response.config),
        lastRelativeSeq: Number(response.lastRelativeSeq),
        lastAbsoluteSeq: Number(response.lastAbsoluteSeq),
      };
    },

    upload(uploadOptions) {
      const open = (): ClientDuplexStream<Buffer, UploadAck> =>
        (uploader['upload'] as BidiMethod).call(uploader, metadata(), {}) as ClientDuplexStream<Buffer, UploadAck>;
      const waitReady = (deadlineMs: number): Promise<void> =>
        new Promise((resolve) => aggregator.waitForReady(deadlineMs, () => resolve()));
      return uploadChunks(open, uploadOptions, waitReady);
    },

    async finish(runId, nodeId, settings) {
      const response = await unary<FinishUploadResponse>(
        aggregator,
        'finishUpload',
        'FinishUpload',
        create(FinishUploadRequestSchema, { runId, nodeId }),
        settings,
      );
      if (response.node === undefined) throw new AggregatorCallError('INTERNAL', status.INTERNAL, 'no node status in the response', 'FinishUpload');
      return nodeStatusView(response.node);
    },

    readMerged(runId, readOptions = {}) {
      const request = create(ReadMergedRequestSchema, {
        runId,
        sampleIds: readOptions.sampleIds === undefined ? [] : Array.from(readOptions.sampleIds),
        encoding: readOptions.encoding === undefined ? Encoding.FLOAT32 : encodingFromName(readOptions.encoding),
        maxRowsPerChunk: readOptions.maxRowsPerChunk ?? 0,
      });
      const stream = (aggregator['readMerged'] as ServerStreamMethod).call(aggregator, request, metadata(), {});
      return collectRows(stream, 'ReadMerged');
    },

    readNodeSpace(runId, nodeId, space = 'relative', readOptions = {}) {
      const request = create(ReadNodeSpaceRequestSchema, {
        runId,
        nodeId,
        space: spaceFromName(space),
        maxRowsPerChunk: readOptions.maxRowsPerChunk ?? 0,
      });
      const stream = (aggregator['readNodeSpace'] as ServerStreamMethod).call(aggregator, request, metadata(), {});
      return collectRows(stream, 'ReadNodeSpace');
    },

    async evaluate(runId, settings) {
      const response = await unary<EvaluateResponse>(aggregator, 'evaluate', 'Evaluate', create(EvaluateRequestSchema, { runId }), settings);
      return {
        referenceNodeId: response.referenceNodeId,
        scores: response.scores.map((s) => ({
          subject: s.subject,
          n: Number(s.n),
          linearBiased: s.linearBiased,
          linearDebiased: s.linearDebiased,
        })),
      };
    },

    async nearest(runId, query, k, settings) {
      const request =
        'sampleId' in query
          ? create(NearestRequestSchema, { runId, k, query: { case: 'sampleId', value: query.sampleId } })
          : create(NearestRequestSchema, {
              runId,
              k,
              query: {
                case: 'vector',
                value: encodeMatrix({ rows: 1, cols: query.vector.length, data: Float32Array.from(query.vector) }, 'float32'),
              },
            });
      const response = await unary<NearestResponse>(aggregator, 'nearest', 'Nearest', request, settings);
      return response.neighbors.map((n) => ({ sampleId: n.sampleId, similarity: n.similarity, label: n.label }));
    },

    watchRun(runId, watchOptions = {}) {
      return {
        async *[Symbol.asyncIterator]() {
          const stream = (aggregator['watchRun'] as ServerStreamMethod).call(
            aggregator,
            create(WatchRunRequestSchema, { runId }),
            metadata(),
            {},
          );
          const onAbort = (): void => stream.cancel();
          watchOptions.signal?.addEventListener('abort', onAbort);
          try {
            for await (const message of stream) yield runStatusView(message as RunStatus);
          } catch (error: unknown) {
            const wrapped = AggregatorCallError.fromCall(error, 'WatchRun');
            // Cancelling (abort or leaving the loop) ends the stream quietly.
            if (wrapped.grpcCode !== status.CANCELLED) throw wrapped;
          } finally {
            watchOptions.signal?.removeEventListener('abort', onAbort);
            stream.cancel();
          }
        },
      };
    },

    async createRun(config, settings) {
      const run = await unary<RunStatus>(
        admin,
        'createRun',
        'CreateRun',
        create(CreateRunRequestSchema, { config: runConfigMessage(config) }),
        settings,
      );
      return runStatusView(run);
    },

    async getRun(runId, settings) {
      return runStatusView(await unary<RunStatus>(admin, 'getRun', 'GetRun', create(GetRunRequestSchema, { runId }), settings));
    },

    async listRuns(settings) {
      const response = await unary<ListRunsResponse>(admin, 'listRuns', 'ListRuns', create(ListRunsRequestSchema, {}), settings);
      return response.runs.map(runStatusView);
    },

    close() {
      uploader.close();
      admin.close();
      aggregator.close();
    },
  };
}

function channelCredentialsFor(tls: AggregatorClientOptions['tls']): ChannelCredentials {
  if (tls === undefined) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new RlsaError('invalid_argument', 'mTLS needs both a client certificate and its key');
  }
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** Concatenates streamed chunks into one set of rows. */
function assembleRows(parts: readonly MergedChunk[]): SpaceRows {
  let total = 0;
  let cols = 0;
  for (const part of parts) {
    total += part.sampleIds.length;
    if (part.values !== undefined && part.values.cols > 0) cols = part.values.cols;
  }
  const sampleIds = new Uint32Array(total);
  const counts = new Uint32Array(total);
  const labels = new Int32Array(total).fill(-1);
  const data = new Float32Array(total * cols);
  let offset = 0;
  for (const part of parts) {
    const n = part.sampleIds.length;
    if (n === 0) continue;
    if (part.values === undefined) throw new RlsaError('invalid_argument', 'a streamed chunk has sample ids but no values');
    const values = decodeMatrix(part.values, { expectedCols: cols });
    if (values.rows !== n) throw new RlsaError('shape_mismatch', `a streamed chunk has ${n} ids for ${values.rows} rows`);
    sampleIds.set(part.sampleIds, offset);
    if (part.contributors.length === n) counts.set(part.contributors, offset);
    if (part.labels.length === n) labels.set(part.labels, offset);
    data.set(values.data, offset * cols);
    offset += n;
  }
  return { sampleIds, values: { rows: total, cols, data }, counts, labels };
}
