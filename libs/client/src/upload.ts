import { status } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { RlsaError } from '@rlsa/core';
import type { UploadAck } from '@rlsa/proto';
import { AggregatorCallError } from './client-error.ts';
import { encodeMatrix, encodeUploadChunk, spaceFromName } from '@rlsa/wire';
import type { DenseMatrix, EncodingName, SpaceName } from '@rlsa/wire';

/** One chunk of a node's space: `values.rows` rows, one sample id (and label, if known) per row. */
export interface UploadChunkInput {
  sampleIds: ArrayLike<number>;
  values: DenseMatrix;
  labels?: ArrayLike<number>;
  /** The chunk's number; by default the position in the sequence (0, 1, 2, ...). */
  seq?: number;
}

export interface UploadAckEvent {
  seq: number;
  rowsStored: number;
  duplicate: boolean;
}

export interface UploadOptions {
  runId: string;
  nodeId: string;
  space?: SpaceName;
  /**
   * The node's chunks in order, numbered from 0 (or by their own `seq`). Consumed lazily,
   * at most `maxInFlight` ahead of the acknowledgements.
   */
  chunks: AsyncIterable<UploadChunkInput> | Iterable<UploadChunkInput>;
  encoding?: EncodingName;
  /**
   * Resume point: chunks numbered ≤ this were acknowledged before (Join's last_*_seq) and are
   * skipped without being encoded or sent. -1 (default): send everything.
   */
  startAfterSeq?: number;
  /** Called after each acknowledgement (the chunk is durably stored). */
  onAck?: (ack: UploadAckEvent) => void;
  /** Chunks sent but not yet acknowledged, at most (default 8): bounds memory on both ends. */
  maxInFlight?: number;
  /**
   * Reconnect on UNAVAILABLE (aggregator restarting, network cut): the unacknowledged chunks are
   * sent again on a new stream; the server acknowledges already-stored ones as duplicates.
   * Default: 10 attempts, backoff 200 ms doubling to 5 s. `{ attempts: 0 }` fails at once.
   */
  retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /** Stops the upload (rejects with CANCELLED). */
  signal?: AbortSignal;
}

export interface UploadResult {
  /** Highest acknowledged seq (-1 when nothing was sent and nothing acknowledged before). */
  lastSeq: number;
  /** Rows durably stored for this node and space, per the last acknowledgement. */
  rowsStored: number;
  chunksAcknowledged: number;
  duplicates: number;
  reconnects: number;
}

interface Pending {
  seq: number;
  /** The serialized UploadChunk: encoded once, sent again as is after a reconnect. */
  message: Buffer;
  /** The whole buffer `message` was written into (reused once the chunk is acknowledged). */
  storage: Buffer;
}

const RETRYABLE = new Set<number>([status.UNAVAILABLE]);

/**
 * Streams chunks with backpressure in both directions: `write()` returning false waits for
 * 'drain', and no more than `maxInFlight` chunks are outstanding without an acknowledgement.
 * Acknowledgements come in seq order, each after the server's transaction committed.
 */
export async function uploadChunks(
  /** Opens an Upload stream that takes serialized UploadChunk messages. */
  openStream: () => ClientDuplexStream<Buffer, UploadAck>,
  options: UploadOptions,
  /** Resolves when the channel is connected or the deadline (epoch ms) passed; used before reconnecting. */
  waitReady?: (deadlineMs: number) => Promise<void>,
): Promise<UploadResult> {
  const space = spaceFromName(options.space ?? 'relative');
  const encoding = options.encoding ?? 'float32';
  const startAfter = options.startAfterSeq ?? -1;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 8);
  const attempts = options.retry?.attempts ?? 10;
  const initialDelay = options.retry?.initialDelayMs ?? 200;
  const maxDelay = options.retry?.maxDelayMs ?? 5000;

  const source = toAsyncIterator(options.chunks);
  const pending: Pending[] = [];
  // Buffers of acknowledged chunks, written over by the next ones: grpc-js copied them into its
  // own frames long before the acknowledgement, and fresh megabytes cost page faults.
  const spare: Buffer[] = [];
  let nextSeq = 0;
  let sourceDone = false;
  const result: UploadResult = { lastSeq: startAfter, rowsStored: 0, chunksAcknowledged: 0, duplicates: 0, reconnects: 0 };

  const encodeNext = async (): Promise<Pending | undefined> => {
    for (;;) {
      const next = await source.next();
      if (next.done === true) {
        sourceDone = true;
        return undefined;
      }
      const chunk = next.value;
      const seq = chunk.seq ?? nextSeq;
      if (!Number.isSafeInteger(seq) || seq < nextSeq) {
        throw new RlsaError('invalid_argument', `chunk seq ${seq} is not an integer ≥ ${nextSeq} (seqs increase without gaps)`);
      }
      nextSeq = seq + 1;
      if (seq <= startAfter) continue;
      if (chunk.sampleIds.length !== chunk.values.rows) {
        throw new RlsaError('shape_mismatch', `chunk ${seq}: ${chunk.sampleIds.length} sample ids for ${chunk.values.rows} rows`);
      }
      if (chunk.labels !== undefined && chunk.labels.length > 0 && chunk.labels.length !== chunk.values.rows) {
        throw new RlsaError('shape_mismatch', `chunk ${seq}: ${chunk.labels.length} labels for ${chunk.values.rows} rows`);
      }
      // One buffer, one copy of the values (encodeUploadChunk writes what toBinary would).
      const reuse = spare.pop();
      const message = encodeUploadChunk({
        runId: options.runId,
        nodeId: options.nodeId,
        space,
        seq,
        sampleIds: chunk.sampleIds,
        values: encodeMatrix(chunk.values, encoding, { copy: false }),
        labels: chunk.labels ?? [],
      }, reuse);
      const storage = reuse !== undefined && message.buffer === reuse.buffer ? reuse : message;
      return { seq, message, storage };
    }
  };

  const runStream = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const call = openStream();
      let settled = false;
      let pumping = false;
      let waitingDrain = false;
      let halfClosed = false;
      // Entries of `pending` written on this stream (a new stream re-sends them all).
      let written = 0;

      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else {
          call.cancel();
          reject(error);
        }
      };
      const onAbort = (): void => finish(new AggregatorCallError('CANCELLED', status.CANCELLED, 'upload aborted', 'Upload'));
      if (options.signal?.aborted === true) return onAbort();
      options.signal?.addEventListener('abort', onAbort);

      const pump = async (): Promise<void> => {
        if (pumping || settled) return;
        pumping = true;
        try {
          while (!settled && !waitingDrain) {
            if (written < pending.length) {
              const entry = pending[written] as Pending;
              written += 1;
              if (!call.write(entry.message)) waitingDrain = true;
              continue;
            }
            if (sourceDone) {
              if (!halfClosed) {
                halfClosed = true;
                call.end();
              }
              break;
            }
            if (pending.length >= maxInFlight) break;
            const entry = await encodeNext();
            if (entry !== undefined) pending.push(entry);
          }
        } catch (error: unknown) {
          finish(error);
        } finally {
          pumping = false;
        }
      };

      call.on('data', (ack: UploadAck) => {
        const seq = Number(ack.seq);
        let removed = 0;
        while (pending.length > 0 && (pending[0] as Pending).seq <= seq) {
          const acknowledged = pending.shift() as Pending;
          if (spare.length < maxInFlight) spare.push(acknowledged.storage);
          removed += 1;
        }
        written = Math.max(0, written - removed);
        result.lastSeq = Math.max(result.lastSeq, seq);
        result.rowsStored = Number(ack.rowsStored);
        result.chunksAcknowledged += 1;
        if (ack.duplicate) result.duplicates += 1;
        options.onAck?.({ seq, rowsStored: result.rowsStored, duplicate: ack.duplicate });
        void pump();
      });
      call.on('drain', () => {
        waitingDrain = false;
        void pump();
      });
      call.on('error', (error: unknown) => finish(AggregatorCallError.fromCall(error, 'Upload')));
      call.on('status', (s: { code: number }) => {
        if (s.code !== status.OK) return; // 'error' reports it
        if (pending.length === 0 && sourceDone) finish();
        else finish(new AggregatorCallError('INTERNAL', status.INTERNAL, `stream closed with ${pending.length} chunks unacknowledged`, 'Upload'));
      });
      void pump();
    });

  let delay = initialDelay;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await runStream();
      return result;
    } catch (error: unknown) {
      const retryable = error instanceof AggregatorCallError && RETRYABLE.has(error.grpcCode) && options.signal?.aborted !== true;
      if (!retryable || attempt >= attempts) {
        await source.return?.();
        throw error;
      }
      result.reconnects += 1;
      await new Promise((r) => setTimeout(r, delay));
      // A fresh stream on a channel still in reconnect backoff would fail at once; wait for it.
      await waitReady?.(Date.now() + Math.max(maxDelay, 1000));
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}

function toAsyncIterator<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in items) return (items as AsyncIterable<T>)[Symbol.asyncIterator]();
  const iterator = (items as Iterable<T>)[Symbol.iterator]();
  return {
    next: async () => iterator.next(),
    return: async (value?: unknown) => iterator.return?.(value) ?? { done: true, value: undefined as never },
  };
}
