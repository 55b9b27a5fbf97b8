import type { Worker } from 'node:worker_threads';
import { AggregatorError } from '../errors.ts';
import { startThread } from '../worker-thread.ts';
import type { ChunkSink, Committed } from './chunk-sink.ts';
import type { OutgoingChunk, WriterReply, WriterRequest, WriterThreadData } from './chunk-writer-thread.ts';
import type { ChunkRow, Durability } from './schema.ts';

interface Pending {
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
}

/** Chunks per SQLite transaction, at most (group commit). */
export const MAX_CHUNKS_PER_COMMIT = 16;

/**
 * The writer's state: `running`; `failed` once a transaction failed (every later write is refused
 * with the same error; the thread still runs and closes its connection on stop); `exited` once the
 * thread died (nothing to stop).
 */
type WriterState = { kind: 'running' } | { kind: 'failed'; error: AggregatorError } | { kind: 'exited'; error: AggregatorError };

/**
 * Commits chunks in a worker thread with its own SQLite connection, in the order handed over,
 * so that the event loop decodes, validates and merges the next chunks while others are being
 * written. Chunks handed over in one event-loop turn travel in one message, and the thread
 * inserts the chunks waiting for it in one transaction (group commit, at most
 * MAX_CHUNKS_PER_COMMIT); a chunk is acknowledged only when its promise resolved, i.e. after the
 * transaction holding it committed. A storage failure rejects the chunks of that transaction
 * and every later one with `internal` (none of them is stored: the transaction rolled back).
 */
export class ChunkWriter implements ChunkSink {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private state: WriterState = { kind: 'running' };
  private drainWaiters: (() => void)[] = [];
  private outbox: OutgoingChunk[] = [];
  private outboxTransfer: ArrayBuffer[] = [];
  private flushScheduled = false;

  constructor(databasePath: string, durability: Durability) {
    const data: WriterThreadData = { path: databasePath, durability, maxBatch: MAX_CHUNKS_PER_COMMIT };
    this.worker = startThread(new URL('./chunk-writer-thread.ts', import.meta.url), { ...data });
    this.worker.on('message', (reply: WriterReply) => this.settleReply(reply));
    this.worker.on('error', (error: Error) => this.die(error.message));
    this.worker.on('exit', (code) => this.die(`exit ${code}`));
  }

  write(row: ChunkRow, lend = false): Promise<Committed> {
    if (this.state.kind !== 'running') return Promise.reject(this.state.error);
    const id = this.nextId++;
    return new Promise<Committed>((resolve, reject) => {
      // Lent: the payload's buffer moves to the thread and back, no copy of the megabyte.
      // Otherwise it is copied once into a fresh buffer that moves (a structured clone would
      // copy it twice), and the caller's buffers stay its own.
      const data = lend ? new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) : new Uint8Array(row.data);
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, lent: lend, row: { ...row, data: data as Buffer } });
      this.outboxTransfer.push(data.buffer as ArrayBuffer);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  drain(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Waits for the writes in flight, then closes the thread's connection (nothing to do once the thread died). */
  async stop(): Promise<void> {
    await this.drain();
    if (this.state.kind === 'exited') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.worker.on('message', (reply: WriterReply) => {
        if (reply.kind !== 'stopped') return;
        clearTimeout(timer);
        this.worker.removeAllListeners('exit');
        void this.worker.terminate().then(() => resolve());
      });
      this.post({ kind: 'stop' });
    });
  }

  private settleReply(reply: WriterReply): void {
    if (reply.kind === 'stopped') return;
    if (reply.kind === 'failed' && this.state.kind === 'running') {
      this.state = { kind: 'failed', error: new AggregatorError('internal', `storing a chunk failed: ${reply.message}`) };
    }
    reply.ids.forEach((id, k) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (waiter === undefined) return;
      if (reply.kind === 'failed') {
        waiter.reject(this.state.kind === 'running' ? new AggregatorError('internal', reply.message) : this.state.error);
        return;
      }
      const data = reply.data[k];
      waiter.resolve(data === null || data === undefined ? { seconds: reply.seconds } : { seconds: reply.seconds, data });
    });
    this.settle();
  }

  private die(reason: string): void {
    if (this.state.kind !== 'exited') {
      const error = this.state.kind === 'failed' ? this.state.error : new AggregatorError('internal', `the chunk writer stopped: ${reason}`);
      this.state = { kind: 'exited', error };
    }
    for (const waiter of this.pending.values()) waiter.reject(this.state.error);
    this.pending.clear();
    this.outbox = [];
    this.outboxTransfer = [];
    this.settle();
  }

  /** Hands the chunks of this event-loop turn to the thread in one message. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const items = this.outbox;
    const transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    this.post({ kind: 'write', items }, transfer);
  }

  private post(request: WriterRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private settle(): void {
    if (this.pending.size > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
