import type { Worker } from 'node:worker_threads';
import { AggregatorError } from '../errors.ts';
import { startThread } from '../worker-thread.ts';
import type { ChunkSink, Committed } from './chunk-sink.ts';
import type { OutgoingChunk, WriteFailure, WriterReply, WriterRequest, WriterThreadData } from './chunk-writer-thread.ts';
import type { ChunkRow, Durability } from './schema.ts';
import { SharedPayloads } from './shared-payloads.ts';

interface Pending {
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
  bytes: number;
}

/** Chunks per batch, at most (group commit: one index transaction, one sync under `full`). */
export const MAX_CHUNKS_PER_COMMIT = 16;
/** The first probe write after the disk filled, then twice as long each time it fails, up to PROBE_MAX_MS. */
export const PROBE_INITIAL_MS = 100;
export const PROBE_MAX_MS = 5000;
/** A probe writes at least this much (and twice the largest chunk refused), so that a success means real room. */
const PROBE_MIN_BYTES = 1024 * 1024;

/** Whether chunks can be stored now: `writable`; `full` (no space: refused with UNAVAILABLE until a probe write succeeds); `failed` (a storage error: for good). */
export type WriteStatus = 'writable' | 'full' | 'failed';

/** A WAL checkpoint done by the writer (or why it failed). */
export interface CheckpointEvent {
  kind: 'checkpoint' | 'error';
  walBytes?: number;
  ms?: number;
  message?: string;
}

/** What the writer tells its owner: each change of status, chunks refused for lack of space, checkpoints. */
export interface WriterEvents {
  status?(status: WriteStatus, reason: string): void;
  refused?(chunks: number): void;
  checkpoint?(event: CheckpointEvent): void;
}

const EMPTY = Buffer.alloc(0);

type WriterState = { kind: 'running' } | { kind: 'full'; reason: string } | { kind: 'failed'; error: AggregatorError } | { kind: 'exited'; error: AggregatorError };

/**
 * Stores chunks from a worker thread (segment files + the SQLite index, with its own connection),
 * in the order handed over, so that the event loop decodes, validates and merges the next chunks
 * while others are written. A payload written into one of `payloads`' buffers reaches the thread
 * as a reference to memory it shares (no copy, no transfer); any other is copied once. Chunks handed over in one event-loop turn travel in one message; the
 * thread stores the chunks waiting for it as one batch (group commit, at most
 * MAX_CHUNKS_PER_COMMIT); a chunk is acknowledged only when its promise resolved, i.e. after its
 * record was written and its index row committed.
 *
 * A full disk refuses the batch and every write after it with `unavailable` (nothing of them is
 * stored; the client resends after its last acknowledged chunk) and turns the status `full`; a
 * probe write on a timer (PROBE_INITIAL_MS doubling to PROBE_MAX_MS) turns it `writable` again.
 * Any other storage failure refuses every later write with `internal` (status `failed`).
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
  private probeTimer: NodeJS.Timeout | undefined;
  private probeDelayMs = PROBE_INITIAL_MS;
  private largestRefusedBytes = 0;
  private readonly runClosed = new Map<string, (() => void)[]>();
  readonly payloads: SharedPayloads;

  constructor(
    options: { dataDir: string; databasePath: string; durability: Durability },
    private readonly events: WriterEvents = {},
  ) {
    const data: WriterThreadData = { ...options, maxBatch: MAX_CHUNKS_PER_COMMIT };
    this.worker = startThread(new URL('./chunk-writer-thread.ts', import.meta.url), { ...data });
    this.worker.on('message', (reply: WriterReply) => this.onReply(reply));
    this.worker.on('error', (error: Error) => this.die(error.message));
    this.worker.on('exit', (code) => this.die(`exit ${code}`));
    this.payloads = new SharedPayloads({
      share: (id, buffer) => this.post({ kind: 'share', id, buffer }),
      unshare: (id) => this.post({ kind: 'unshare', id }),
    });
  }

  /** Whether chunks can be stored now. */
  get status(): WriteStatus {
    return this.state.kind === 'running' ? 'writable' : this.state.kind === 'full' ? 'full' : 'failed';
  }

  write(row: ChunkRow): Promise<Committed> {
    const bytes = row.sampleIds.byteLength + row.data.byteLength;
    if (this.state.kind !== 'running') return Promise.reject(this.refusal(bytes));
    const id = this.nextId++;
    return new Promise<Committed>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, bytes });
      const shared = this.payloads.refOf(row.data);
      if (shared !== undefined) {
        // The thread reads the payload where it lies: only its place travels.
        this.outbox.push({ id, row: { ...row, data: EMPTY }, shared });
      } else {
        // Copied once into a buffer that moves (a structured clone would copy it twice).
        const data = new Uint8Array(row.data);
        this.outbox.push({ id, row: { ...row, data: data as Buffer } });
        this.outboxTransfer.push(data.buffer);
      }
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

  /**
   * A metadata write (on the event loop's connection) found the disk full: chunks are refused
   * too, and the probe starts, as when a chunk's write failed.
   */
  noteFull(reason: string): void {
    if (this.state.kind === 'running') this.becomeFull(reason);
  }

  /** Waits for the writes handed over so far, then closes the run's segment file in the thread (before its files are deleted). */
  closeRun(runId: string): Promise<void> {
    if (this.state.kind === 'exited') return Promise.resolve();
    this.flush();
    return new Promise((resolve) => {
      this.runClosed.set(runId, [...(this.runClosed.get(runId) ?? []), resolve]);
      this.post({ kind: 'close-run', runId });
    });
  }

  /** Waits for the writes in flight, then closes the thread's files and connection (nothing to do once the thread died). */
  async stop(): Promise<void> {
    clearTimeout(this.probeTimer);
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

  private onReply(reply: WriterReply): void {
    if (reply.kind === 'done') this.settleDone(reply);
    else if (reply.kind === 'failed') this.settleFailed(reply);
    else if (reply.kind === 'probed') this.probed(reply.ok, reply.message);
    else if (reply.kind === 'checkpoint') this.events.checkpoint?.({ kind: 'checkpoint', ms: reply.ms, walBytes: reply.walBytes });
    else if (reply.kind === 'checkpoint-failed') this.events.checkpoint?.({ kind: 'error', message: reply.message });
    else if (reply.kind === 'run-closed') {
      const waiters = this.runClosed.get(reply.runId) ?? [];
      this.runClosed.delete(reply.runId);
      for (const waiter of waiters) waiter();
    }
  }

  private settleDone(reply: Extract<WriterReply, { kind: 'done' }>): void {
    for (const id of reply.ids) this.take(id)?.resolve({ seconds: reply.seconds });
    this.settle();
  }

  private settleFailed(reply: Extract<WriterReply, { kind: 'failed' }>): void {
    if (this.state.kind === 'running') this.fail(reply.failure, reply.message);
    for (const id of reply.ids) {
      const waiter = this.take(id);
      if (waiter !== undefined) waiter.reject(this.refusal(waiter.bytes));
    }
    this.settle();
  }

  private fail(failure: WriteFailure, message: string): void {
    if (failure === 'full') {
      this.becomeFull(message);
      return;
    }
    this.state = { kind: 'failed', error: new AggregatorError('internal', `storing a chunk failed: ${message}`) };
    this.events.status?.('failed', message);
  }

  private becomeFull(reason: string): void {
    this.state = { kind: 'full', reason };
    this.probeDelayMs = PROBE_INITIAL_MS;
    this.events.status?.('full', reason);
    this.scheduleProbe();
  }

  /** The error a write gets while the state is not `running` (counting the chunks refused for lack of space). */
  private refusal(bytes: number): AggregatorError {
    if (this.state.kind === 'full') {
      this.largestRefusedBytes = Math.max(this.largestRefusedBytes, bytes);
      this.events.refused?.(1);
      return new AggregatorError('unavailable', `storage full (${this.state.reason}); nothing acknowledged was lost: resend after the last acknowledged chunk`);
    }
    if (this.state.kind === 'running') return new AggregatorError('internal', 'refused while running');
    return this.state.error;
  }

  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => {
      this.post({ kind: 'probe', bytes: Math.max(PROBE_MIN_BYTES, 2 * this.largestRefusedBytes) });
    }, this.probeDelayMs);
    this.probeTimer.unref();
  }

  private probed(ok: boolean, message: string): void {
    if (this.state.kind !== 'full') return;
    if (ok) {
      this.state = { kind: 'running' };
      this.largestRefusedBytes = 0;
      this.events.status?.('writable', 'a probe write succeeded');
      return;
    }
    this.state = { kind: 'full', reason: message };
    this.probeDelayMs = Math.min(2 * this.probeDelayMs, PROBE_MAX_MS);
    this.scheduleProbe();
  }

  private take(id: number): Pending | undefined {
    const waiter = this.pending.get(id);
    this.pending.delete(id);
    return waiter;
  }

  private die(reason: string): void {
    clearTimeout(this.probeTimer);
    if (this.state.kind !== 'exited') {
      const error = this.state.kind === 'failed' ? this.state.error : new AggregatorError('internal', `the chunk writer stopped: ${reason}`);
      this.state = { kind: 'exited', error };
      this.events.status?.('failed', reason);
    }
    for (const waiter of this.pending.values()) waiter.reject(this.state.error);
    this.pending.clear();
    this.outbox = [];
    this.outboxTransfer = [];
    for (const waiters of this.runClosed.values()) for (const waiter of waiters) waiter();
    this.runClosed.clear();
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
