import { sampleIdWords, spaceFromName } from '@rlsa/wire';
import type { SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { NodeEntry } from '../ledger/run-ledger.ts';
import type { RunRecord } from '../runs/run-directory.ts';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import type { DamagedNodes } from '../storage/chunk-damage.ts';
import type { ChunkRow } from '../storage/schema.ts';
import { merges } from './chunk-merge.ts';
import type { ChunkMerger, ChunkRows } from './chunk-merge.ts';
import { decodeStored } from './stored-chunks.ts';

/** Reads a stored chunk back, checked (undefined when it is not stored); throws ChunkDamageError for a damaged one. */
export type StoredChunkReader = (runId: string, nodeId: string, space: number, seq: number) => ChunkRow | undefined;

export interface DeferredMergeOptions {
  /** Payload bytes committed and not merged past which a commit merges the oldest ones at once (default 1 GiB). */
  maxBehindBytes?: number;
  /** Quiet time after the last commit before the merge catches up by itself (default 100 ms). */
  idleMs?: number;
  /** Event-loop time of one slice of merging before it yields (default 8 ms). */
  sliceMs?: number;
  /** A chunk that could not be read back for the merge for another reason than damage (it is then treated as damaged). */
  onError?: (error: unknown, chunk: { runId: string; nodeId: string; seq: number }) => void;
}

const DEFAULT_MAX_BEHIND_BYTES = 1024 * 1024 * 1024;
const DEFAULT_IDLE_MS = 100;
const DEFAULT_SLICE_MS = 8;

/** A committed chunk whose rows are placed in the merged space and not added yet. */
interface PendingChunk {
  run: RunRecord;
  nodeId: string;
  space: number;
  seq: number;
  /** The merged-space slot of each row, -1 for a row not counted (sent before by the node). */
  slots: Int32Array;
  /** The run's placed slots after this chunk: published once it is merged. */
  placedAfter: number;
  bytes: number;
  forgotten: boolean;
}

/**
 * The merge trailing the commits. A committed chunk's samples get their slots at once (so the
 * quotas and the sample counts are exact), and its rows are added to the float64 sums later, read
 * back from the segment files: when the ingest has been quiet for `idleMs`, when a read of the run
 * needs them (`caughtUp`: every read of a merged space waits for the chunks committed before it),
 * or at once for the oldest chunks when more than `maxBehindBytes` of payload wait. Chunks are
 * merged in commit order, so the sums are the ones an immediate merge would have made, bit for bit.
 *
 * Why: adding each megabyte of rows into the sums (and touching fresh sums memory) was a third
 * of the aggregator's CPU during an upload, and on a machine whose cores the nodes share, CPU is
 * upload time. Acknowledgement still means a durable commit; a merged read still sees every
 * chunk acknowledged before it. Merging runs on the event loop in slices of `sliceMs`, so health
 * checks and other calls are answered between slices.
 */
export class DeferredMerge implements ChunkMerger {
  private readonly queue: PendingChunk[] = [];
  private head = 0;
  private behindBytes = 0;
  /** Chunks queued and merged so far (all runs): a waiter waits for `merged` to reach its mark. */
  private queued = 0;
  private merged = 0;
  private readonly lastQueued = new WeakMap<RunRecord, number>();
  private readonly waiters: { until: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private lastCommitMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private sliceScheduled = false;
  private stopped = false;
  private readonly maxBehindBytes: number;
  private readonly idleMs: number;
  private readonly sliceMs: number;

  constructor(
    private readonly read: StoredChunkReader,
    private readonly damage: Pick<DamagedNodes, 'mark'>,
    private readonly options: DeferredMergeOptions = {},
  ) {
    this.maxBehindBytes = options.maxBehindBytes ?? DEFAULT_MAX_BEHIND_BYTES;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  }

  /** Payload bytes of the chunks committed and not merged yet (a metric). */
  get bytesBehind(): number {
    return this.behindBytes;
  }

  /** Chunks committed and not merged yet. */
  get chunksBehind(): number {
    return this.queue.length - this.head;
  }

  committed(run: RunRecord, node: NodeEntry, space: SpaceName, seq: number, rows: ChunkRows): void {
    // Stopped (the server is going down, storage with it): the next start replays the chunk.
    if (!merges(node, space) || this.stopped) return;
    const { labels, counted } = rows;
    const words = sampleIdWords(rows.sampleIds);
    const slots = new Int32Array(rows.sampleIds.length);
    for (let i = 0; i < slots.length; i += 1) {
      slots[i] = counted !== null && counted[i] === 0 ? -1 : run.merged.place(words[2 * i] as number, words[2 * i + 1] as number, labels.length === 0 ? -1 : (labels[i] as number));
    }
    const bytes = rows.values.data.byteLength;
    this.queue.push({ run, nodeId: node.nodeId, space: spaceFromName(space), seq, slots, placedAfter: run.merged.sampleCount, bytes, forgotten: false });
    this.queued += 1;
    this.lastQueued.set(run, this.queued);
    this.behindBytes += bytes;
    this.lastCommitMs = performance.now();
    // Bounded: the oldest chunks are merged now when too many bytes wait (a read then waits at most for these).
    while (this.behindBytes > this.maxBehindBytes) this.mergeOldest();
    this.scheduleIdle();
  }

  /**
   * Resolves once every chunk of `run` committed before now is merged (at once when none waits);
   * merging goes on in slices until then, whatever the ingest does.
   */
  caughtUp(run: RunRecord): Promise<void> {
    const until = this.lastQueued.get(run) ?? 0;
    if (this.merged >= until) return Promise.resolve();
    if (this.stopped) return Promise.reject(new AggregatorError('unavailable', 'the aggregator is shutting down'));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ until, resolve, reject });
      this.scheduleSlice();
    });
  }

  /** A deleted run: its chunks are not merged (their stored data is going away). */
  forget(runId: string): void {
    for (let i = this.head; i < this.queue.length; i += 1) {
      const chunk = this.queue[i] as PendingChunk;
      if (chunk.run.ledger.config.runId === runId) chunk.forgotten = true;
    }
  }

  /** No more merging: the timer stops and waiting reads get UNAVAILABLE (a restart replays every stored chunk). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new AggregatorError('unavailable', 'the aggregator is shutting down'));
  }

  private scheduleIdle(): void {
    if (this.timer !== undefined || this.sliceScheduled || this.stopped || this.chunksBehind === 0) return;
    this.timer = setTimeout(() => this.onIdleTimer(), this.idleMs);
    this.timer.unref();
  }

  private onIdleTimer(): void {
    this.timer = undefined;
    const quietMs = performance.now() - this.lastCommitMs;
    if (quietMs < this.idleMs) {
      this.timer = setTimeout(() => this.onIdleTimer(), this.idleMs - quietMs);
      this.timer.unref();
      return;
    }
    this.scheduleSlice();
  }

  private scheduleSlice(): void {
    if (this.sliceScheduled || this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sliceScheduled = true;
    setImmediate(() => this.slice());
  }

  /** Merges chunks for up to `sliceMs`; goes on while a read waits or the ingest is quiet, else waits for quiet again. */
  private slice(): void {
    this.sliceScheduled = false;
    if (this.stopped) return;
    const deadline = performance.now() + this.sliceMs;
    while (this.chunksBehind > 0 && (this.waiters.length > 0 || this.quiet()) && performance.now() < deadline) this.mergeOldest();
    if (this.chunksBehind === 0) return;
    if (this.waiters.length > 0 || this.quiet()) this.scheduleSlice();
    else this.scheduleIdle();
  }

  private quiet(): boolean {
    return performance.now() - this.lastCommitMs >= this.idleMs;
  }

  private mergeOldest(): void {
    const chunk = this.queue[this.head] as PendingChunk;
    this.queue[this.head] = undefined as unknown as PendingChunk;
    this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.behindBytes -= chunk.bytes;
    if (!chunk.forgotten) this.mergeChunk(chunk);
    chunk.run.merged.publish(chunk.placedAfter);
    this.merged += 1;
    this.wakeWaiters();
  }

  /** Adds a chunk's counted rows, read back from storage; a chunk that cannot be read is marked damaged and left out. */
  private mergeChunk(chunk: PendingChunk): void {
    const runId = chunk.run.ledger.config.runId;
    try {
      const row = this.read(runId, chunk.nodeId, chunk.space, chunk.seq);
      if (row === undefined) return;
      const values = decodeStored(row);
      for (let i = 0; i < chunk.slots.length; i += 1) {
        const slot = chunk.slots[i] as number;
        if (slot >= 0) chunk.run.merged.addAt(slot, values.data, i);
      }
    } catch (error: unknown) {
      if (error instanceof ChunkDamageError) {
        this.damage.mark(error.damage);
        return;
      }
      this.options.onError?.(error, { runId, nodeId: chunk.nodeId, seq: chunk.seq });
      const reason = `not readable for the merge: ${error instanceof Error ? error.message : String(error)}`;
      this.damage.mark({ runId, nodeId: chunk.nodeId, space: chunk.space, seq: chunk.seq, reason });
    }
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.waiters[i] as (typeof this.waiters)[number];
      if (this.merged >= waiter.until) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
