import { status } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { RlsaError } from '@rlsa/core';
import type { UploadAck } from '@rlsa/proto';
import { encodeMatrix, encodeUploadChunk, spaceFromName, toSampleIds } from '@rlsa/wire';
import type { DenseMatrix, EncodingName, SampleIdsInput, SpaceName } from '@rlsa/wire';
import { AggregatorCallError } from './client-error.ts';
import { DEFAULT_UPLOAD_RETRY, withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/** One chunk of a node's space: `values.rows` rows, one sample id (and label, if known) per row. */
export interface UploadChunkInput {
  /** 64-bit ids, or a built-in data set's 32-bit ids (widened once, when the chunk is encoded). */
  sampleIds: SampleIdsInput;
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
   * Reconnects (on UNAVAILABLE by default: aggregator restarting, network cut): the unacknowledged
   * chunks are sent again on a new stream; the server acknowledges already-stored ones as
   * duplicates. Over the client's policy, else DEFAULT_UPLOAD_RETRY (10 attempts, 200 ms up to
   * 5 s, full jitter). `{ attempts: 0 }` fails at once.
   */
  retry?: Partial<RetryPolicy>;
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

/**
 * Streams chunks with backpressure in both directions: `write()` returning false waits for
 * 'drain', and no more than `maxInFlight` chunks are outstanding without an acknowledgement.
 * Acknowledgements come in seq order, each after the server's transaction committed. A stream
 * that fails with a status the retry policy names is opened again (after the channel is ready)
 * and resumes after the last acknowledged chunk.
 */
export async function uploadChunks(
  /** Opens an Upload stream that takes serialized UploadChunk messages. */
  openStream: () => ClientDuplexStream<Buffer, UploadAck>,
  options: UploadOptions,
  /** Resolves when the channel is connected or the deadline (epoch ms) passed; used before reconnecting. */
  waitReady?: (deadlineMs: number) => Promise<void>,
  /** The client's retry policy, under the upload's own `retry`. */
  clientRetry: RetryPolicy = DEFAULT_UPLOAD_RETRY,
  /** Hears each reconnect's cause, attempt and delay. */
  onReconnect?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<UploadResult> {
  const policy: RetryPolicy = { ...clientRetry, ...options.retry };
  const queue = new ChunkQueue(options);
  const result: UploadResult = { lastSeq: queue.startAfter, rowsStored: 0, chunksAcknowledged: 0, duplicates: 0, reconnects: 0 };
  const attempt = async (n: number): Promise<void> => {
    // A fresh stream on a channel still in reconnect backoff would fail at once; wait for it.
    if (n > 0) await waitReady?.(Date.now() + Math.max(policy.maxDelayMs, 1000));
    await new UploadAttempt(openStream(), queue, options, result).run();
  };
  const onRetry = (error: unknown, n: number, delayMs: number): void => {
    result.reconnects += 1;
    onReconnect?.(error, n, delayMs);
  };
  try {
    await withRetry(attempt, policy, onRetry, undefined, options.signal);
    return result;
  } catch (error: unknown) {
    await queue.close();
    throw error;
  }
}

/**
 * The chunks of an upload between the source and the acknowledgements: encoded lazily, once,
 * kept until acknowledged (a new stream sends them again); the buffers of acknowledged chunks
 * are written over by the next ones (grpc-js copied them into its frames long before, and fresh
 * megabytes cost page faults).
 */
class ChunkQueue {
  readonly startAfter: number;
  readonly maxInFlight: number;
  /** Encoded, not yet acknowledged, in seq order. */
  readonly pending: Pending[] = [];
  sourceDone = false;
  private readonly source: AsyncIterator<UploadChunkInput>;
  private readonly spare: Buffer[] = [];
  private nextSeq = 0;

  constructor(private readonly options: UploadOptions) {
    this.startAfter = options.startAfterSeq ?? -1;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 8);
    this.source = toAsyncIterator(options.chunks);
  }

  /** Encodes the next chunk to send into `pending` (false when the source is done). */
  async encodeNext(): Promise<boolean> {
    for (;;) {
      const next = await this.source.next();
      if (next.done === true) {
        this.sourceDone = true;
        return false;
      }
      const chunk = next.value;
      const seq = chunk.seq ?? this.nextSeq;
      if (!Number.isSafeInteger(seq) || seq < this.nextSeq) {
        throw new RlsaError('invalid_argument', `chunk seq ${seq} is not an integer ≥ ${this.nextSeq} (seqs increase without gaps)`);
      }
      this.nextSeq = seq + 1;
      if (seq <= this.startAfter) continue;
      this.pending.push(this.encode(seq, chunk));
      return true;
    }
  }

  /** Drops the chunks up to `seq` (acknowledged); returns how many. */
  acknowledge(seq: number): number {
    let removed = 0;
    while (this.pending.length > 0 && (this.pending[0] as Pending).seq <= seq) {
      const acknowledged = this.pending.shift() as Pending;
      if (this.spare.length < this.maxInFlight) this.spare.push(acknowledged.storage);
      removed += 1;
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }

  private encode(seq: number, chunk: UploadChunkInput): Pending {
    if (chunk.sampleIds.length !== chunk.values.rows) {
      throw new RlsaError('shape_mismatch', `chunk ${seq}: ${chunk.sampleIds.length} sample ids for ${chunk.values.rows} rows`);
    }
    if (chunk.labels !== undefined && chunk.labels.length > 0 && chunk.labels.length !== chunk.values.rows) {
      throw new RlsaError('shape_mismatch', `chunk ${seq}: ${chunk.labels.length} labels for ${chunk.values.rows} rows`);
    }
    // One buffer, one copy of the values (encodeUploadChunk writes what toBinary would).
    const reuse = this.spare.pop();
    const message = encodeUploadChunk(
      {
        runId: this.options.runId,
        nodeId: this.options.nodeId,
        space: spaceFromName(this.options.space ?? 'relative'),
        seq,
        sampleIds: toSampleIds(chunk.sampleIds),
        // float32 values are not read for NaN/±Inf here: the aggregator checks every value it
        // decodes (INVALID_ARGUMENT naming the row and column), and a second pass over each
        // megabyte was a tenth of the upload's CPU on the node's side.
        values: encodeMatrix(chunk.values, this.options.encoding ?? 'float32', { copy: false, checkFinite: false }),
        labels: chunk.labels ?? [],
      },
      reuse,
    );
    return { seq, message, storage: reuse !== undefined && message.buffer === reuse.buffer ? reuse : message };
  }
}

/** One Upload stream: sends what is pending and what the source yields, until the source ends and every chunk is acknowledged. */
class UploadAttempt {
  private settled = false;
  private pumping = false;
  private waitingDrain = false;
  private halfClosed = false;
  /** Entries of `pending` written on this stream (a new stream sends them all again). */
  private written = 0;
  private resolve: () => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;
  private readonly onAbort = (): void => this.finish(new AggregatorCallError('CANCELLED', status.CANCELLED, 'upload aborted', 'Upload'));

  constructor(
    private readonly call: ClientDuplexStream<Buffer, UploadAck>,
    private readonly queue: ChunkQueue,
    private readonly options: UploadOptions,
    private readonly result: UploadResult,
  ) {}

  run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.options.signal?.aborted === true) {
      this.onAbort();
      return done;
    }
    this.options.signal?.addEventListener('abort', this.onAbort);
    this.call.on('data', (ack: UploadAck) => this.acknowledged(ack));
    this.call.on('drain', () => {
      this.waitingDrain = false;
      void this.pump();
    });
    this.call.on('error', (error: unknown) => this.finish(AggregatorCallError.fromCall(error, 'Upload')));
    this.call.on('status', (s: { code: number }) => {
      if (s.code !== status.OK) return; // 'error' reports it
      const unacknowledged = this.queue.pending.length;
      if (unacknowledged === 0 && this.queue.sourceDone) this.finish();
      else this.finish(new AggregatorCallError('INTERNAL', status.INTERNAL, `stream closed with ${unacknowledged} chunks unacknowledged`, 'Upload'));
    });
    void this.pump();
    return done;
  }

  private finish(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (error === undefined) {
      this.resolve();
      return;
    }
    this.call.cancel();
    this.reject(error);
  }

  /** Writes pending chunks and encodes more while the window allows; half-closes once all are sent. */
  private async pump(): Promise<void> {
    if (this.pumping || this.settled) return;
    this.pumping = true;
    try {
      const queue = this.queue;
      while (!this.settled && !this.waitingDrain) {
        if (this.written < queue.pending.length) {
          const entry = queue.pending[this.written] as Pending;
          this.written += 1;
          if (!this.call.write(entry.message)) this.waitingDrain = true;
        } else if (queue.sourceDone) {
          this.halfClose();
          break;
        } else if (queue.pending.length >= queue.maxInFlight) {
          break;
        } else {
          await queue.encodeNext();
        }
      }
    } catch (error: unknown) {
      this.finish(error);
    } finally {
      this.pumping = false;
    }
  }

  private halfClose(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    this.call.end();
  }

  private acknowledged(ack: UploadAck): void {
    const seq = Number(ack.seq);
    this.written = Math.max(0, this.written - this.queue.acknowledge(seq));
    const result = this.result;
    result.lastSeq = Math.max(result.lastSeq, seq);
    result.rowsStored = Number(ack.rowsStored);
    result.chunksAcknowledged += 1;
    if (ack.duplicate) result.duplicates += 1;
    this.options.onAck?.({ seq, rowsStored: result.rowsStored, duplicate: ack.duplicate });
    void this.pump();
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
