import type { Logger } from 'pino';
import { createAggregatorClient, type AggregatorClient, type EncodingName, type JoinInput, type JoinResult, type RunConfigView, type UploadChunkInput } from '@rlsa/client';
import type { AggregatorConnection } from './connection.ts';
import { TrainerError } from './errors.ts';
import type { NodeUploadOptions } from './node-options.ts';
import type { SpaceUploadSummary } from './results.ts';
import { DEFAULT_RETRY, withRetries } from './retry.ts';

/** One space's rows to upload: N sample ids, their labels and the N × cols values, row-major. */
export interface SpaceRowsToUpload {
  readonly space: 'relative' | 'absolute';
  readonly ids: Uint32Array;
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
 * A node's conversation with its aggregator. The one place where the node's retry policy wraps the
 * client (back off on a transient status; for an upload, join again and resume after the last
 * acknowledged chunk): the client's own policy replaces it here when it owns retries.
 */
export interface AggregatorSession {
  /** The run's config (anchors, similarity) from the first message of WatchRun, which any node may call. */
  runConfig(runId: string): Promise<RunConfigView>;
  join(input: JoinInput): Promise<JoinResult>;
  /** Uploads one space in chunks, resuming after `afterSeq` (Join's last acknowledged seq for it). */
  uploadSpace(join: JoinInput, rows: SpaceRowsToUpload, afterSeq: number, progress: UploadProgress): Promise<SpaceUploadSummary>;
  finish(runId: string, nodeId: string): Promise<void>;
  close(): void;
}

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

/** Opens a session to `connection` with the node's upload settings (encoding, chunk rows, retry policy, hooks). */
export function openAggregatorSession(connection: AggregatorConnection, upload: NodeUploadOptions, log: Logger): AggregatorSession {
  const client = createAggregatorClient({
    address: connection.address,
    ...(connection.token !== undefined ? { token: connection.token } : {}),
    ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
  });
  const policy = upload.retry ?? DEFAULT_RETRY;
  const onRetry = (error: unknown, attempt: number, delayMs: number): void => log.warn({ attempt, delayMs, err: (error as Error).message }, 'aggregator call failed; retrying');
  const uploadSpace = async (join: JoinInput, rows: SpaceRowsToUpload, afterSeq: number, progress: UploadProgress): Promise<SpaceUploadSummary> => {
    let startAfterSeq = afterSeq;
    let retries = 0;
    const chunks = Math.ceil(rows.ids.length / upload.chunkRows);
    progress.start(rows.space, chunks);
    const result = await withRetries(
      async (attempt) => {
        upload.signal?.throwIfAborted();
        if (attempt > 0) {
          retries++;
          const again = await client.join(join);
          startAfterSeq = rows.space === 'relative' ? again.lastRelativeSeq : again.lastAbsoluteSeq;
          log.info({ space: rows.space, startAfterSeq }, 'resuming the upload after the last acknowledged chunk');
        }
        return client.upload({
          runId: join.runId,
          nodeId: join.nodeId,
          space: rows.space,
          chunks: chunksOf(rows, upload.chunkRows),
          encoding: upload.encoding satisfies EncodingName,
          startAfterSeq,
          ...(upload.signal !== undefined ? { signal: upload.signal } : {}),
          ...(upload.uploadReconnect !== undefined ? { retry: upload.uploadReconnect } : {}),
          onAck: (ack) => progress.acknowledged(rows.space, ack.seq, ack.rowsStored),
        });
      },
      policy,
      onRetry,
    );
    log.info({ space: rows.space, rows: result.rowsStored, lastSeq: result.lastSeq, reconnects: result.reconnects, retries }, `uploaded the ${rows.space} space`);
    return { rows: result.rowsStored, chunks, resumedAfterSeq: afterSeq, lastSeq: result.lastSeq, duplicates: result.duplicates, reconnects: result.reconnects, retries };
  };
  return {
    runConfig: (runId) =>
      withRetries(() => firstRunConfig(client, runId), policy, (error, attempt, delayMs) => log.warn({ attempt, delayMs, err: (error as Error).message }, 'aggregator unavailable; retrying')),
    join: (input) => withRetries(() => client.join(input), policy, onRetry),
    uploadSpace,
    finish: async (runId, nodeId) => {
      await withRetries(() => client.finish(runId, nodeId), policy, onRetry);
    },
    close: () => client.close(),
  };
}
