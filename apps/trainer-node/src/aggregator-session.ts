import type { Logger } from 'pino';
import {
  TRANSIENT_STATUSES,
  createAggregatorClient,
  type AggregatorClient,
  type AnchorSetChunkView,
  type EncodingName,
  type JoinInput,
  type JoinResult,
  type RetryPolicy,
  type RunConfigView,
  type UploadChunkInput,
} from '@rlsa/client';
import type { AggregatorConnection } from './connection.ts';
import { TrainerError } from './errors.ts';
import type { NodeUploadOptions } from './node-options.ts';
import type { SpaceUploadSummary } from './results.ts';

/** One space's rows to upload: N sample ids (a built-in data set's 32-bit ones, or 64-bit), their labels and the N × cols values, row-major. */
export interface SpaceRowsToUpload {
  readonly space: 'relative' | 'absolute';
  readonly ids: Uint32Array | BigUint64Array;
  readonly labels: Int32Array;
  readonly values: Float32Array;
  readonly cols: number;
}

/** Progress of one space's upload: started with its chunk count, then each acknowledged chunk. */
export interface UploadProgress {
  start(space: 'relative' | 'absolute', chunks: number): void;
  acknowledged(space: 'relative' | 'absolute', seq: number, rowsStored: number): void;
}

/**
 * A node's conversation with its aggregator. Retrying belongs to the client (`@rlsa/client`, the one
 * owner of retry policy): the node hands it its policy once, and the client backs off on transient
 * statuses for Join, FinishUpload and opening WatchRun, and resumes an upload after its last
 * acknowledged chunk.
 */
export interface AggregatorSession {
  /** The run's config (anchors, similarity) from the first message of WatchRun, which any node may call. */
  runConfig(runId: string): Promise<RunConfigView>;
  /** The run's anchor set, in pieces (the client reopens a cut stream after the last byte). */
  fetchAnchorSet(runId: string): AsyncIterable<AnchorSetChunkView>;
  join(input: JoinInput): Promise<JoinResult>;
  /** Uploads one space in chunks, resuming after `afterSeq` (Join's last acknowledged seq for it). */
  uploadSpace(join: JoinInput, rows: SpaceRowsToUpload, afterSeq: number, progress: UploadProgress): Promise<SpaceUploadSummary>;
  finish(runId: string, nodeId: string): Promise<void>;
  close(): void;
}

/** The node's policy when none is given: 8 retries, 250 ms up to 8 s, on every transient status. */
export const DEFAULT_NODE_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 250, maxDelayMs: 8000, retryOn: TRANSIENT_STATUSES };

function* chunksOf(rows: SpaceRowsToUpload, chunkRows: number): Generator<UploadChunkInput> {
  const { ids, values, cols, labels } = rows;
  for (let start = 0; start < ids.length; start += chunkRows) {
    const end = Math.min(ids.length, start + chunkRows);
    yield { sampleIds: ids.subarray(start, end), values: { rows: end - start, cols, data: values.subarray(start * cols, end * cols) }, labels: labels.subarray(start, end) };
  }
}

async function firstRunConfig(client: AggregatorClient, runId: string): Promise<RunConfigView> {
  const abort = new AbortController();
  try {
    for await (const status of client.watchRun(runId, { signal: abort.signal })) return status.config;
  } finally {
    abort.abort();
  }
  throw new TrainerError('unavailable', `the aggregator closed WatchRun(${runId}) without a status`);
}

async function uploadSpace(client: AggregatorClient, upload: NodeUploadOptions, log: Logger, join: JoinInput, rows: SpaceRowsToUpload, afterSeq: number, progress: UploadProgress): Promise<SpaceUploadSummary> {
  const chunks = Math.ceil(rows.ids.length / upload.chunkRows);
  progress.start(rows.space, chunks);
  const result = await client.upload({
    runId: join.runId,
    nodeId: join.nodeId,
    space: rows.space,
    chunks: chunksOf(rows, upload.chunkRows),
    encoding: upload.encoding satisfies EncodingName,
    startAfterSeq: afterSeq,
    ...(upload.signal !== undefined ? { signal: upload.signal } : {}),
    onAck: (ack) => progress.acknowledged(rows.space, ack.seq, ack.rowsStored),
  });
  log.info({ space: rows.space, rows: result.rowsStored, lastSeq: result.lastSeq, reconnects: result.reconnects }, `uploaded the ${rows.space} space`);
  return { rows: result.rowsStored, chunks, resumedAfterSeq: afterSeq, lastSeq: result.lastSeq, duplicates: result.duplicates, reconnects: result.reconnects };
}

/** Opens a session to `connection` with the node's upload settings (encoding, chunk rows, retry policy, hooks). */
export function openAggregatorSession(connection: AggregatorConnection, upload: NodeUploadOptions, log: Logger): AggregatorSession {
  const client = createAggregatorClient({
    address: connection.address,
    ...(connection.token !== undefined ? { token: connection.token } : {}),
    ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
    retry: upload.retry ?? DEFAULT_NODE_RETRY,
    onRetry: ({ method, error, attempt, delayMs }) => log.warn({ method, attempt, delayMs, err: (error as Error).message }, 'aggregator call failed; retrying'),
  });
  return {
    runConfig: (runId) => firstRunConfig(client, runId),
    fetchAnchorSet: (runId) => client.fetchAnchorSet(runId),
    join: (input) => client.join(input),
    uploadSpace: (join, rows, afterSeq, progress) => uploadSpace(client, upload, log, join, rows, afterSeq, progress),
    finish: async (runId, nodeId) => {
      await client.finish(runId, nodeId);
    },
    close: () => client.close(),
  };
}
