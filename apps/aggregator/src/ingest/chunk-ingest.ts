import { Encoding } from '@rlsa/proto';
import type { UploadChunk } from '@rlsa/proto';
import { sampleIdWords, spaceFromName, spaceName } from '@rlsa/wire';
import type { DecodedMatrix, SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { NodeEntry } from '../ledger/run-ledger.ts';
import type { Reservation, SpaceLedger } from '../ledger/space-ledger.ts';
import type { RunDirectory, RunRecord } from '../runs/run-directory.ts';
import { bytesOf } from '../storage/buffers.ts';
import type { DamagedNodes } from '../storage/chunk-damage.ts';
import type { ChunkSink } from '../storage/chunk-sink.ts';
import type { ChunkRow } from '../storage/schema.ts';
import type { Storage } from '../storage/storage.ts';
import { DEFAULT_SERVER_QUOTAS } from '../limits.ts';
import type { ServerQuotas } from '../limits.ts';
import { BufferPool } from './buffer-pool.ts';
import { checkChunkShape, chunkSampleIds, decodeChunk } from './chunk-checks.ts';
import { checkChunkQuotas, checkMergeQuota, effectiveQuotas, storedBytes } from './quotas.ts';
import type { EffectiveQuotas } from './quotas.ts';
import { mergeAtCommit, merges } from './chunk-merge.ts';
import type { ChunkMerger, ChunkRows } from './chunk-merge.ts';
import { StoredRows, sameChunk } from './stored-chunks.ts';
import type { ChunkContent } from './stored-chunks.ts';

/** What an accepted (or duplicate) chunk did, for the acknowledgement and the metrics. */
export interface ChunkOutcome {
  space: SpaceName;
  seq: number;
  /** Counted rows of the node's space after this chunk. */
  rowsStored: number;
  duplicate: boolean;
  /** Rows newly counted by this chunk. */
  rowsCounted: number;
  payloadBytes: number;
  /** Seconds spent in the SQLite commit (0 for a duplicate). */
  commitSeconds: number;
}

/** The run, node and space a chunk is for. */
interface Target {
  run: RunRecord;
  node: NodeEntry;
  space: SpaceName;
  ledger: SpaceLedger;
  cols: number;
}

/**
 * Takes uploaded chunks: checks each completely in arrival order (the ledger's protocol, the
 * chunk's shape and values), hands it to the sink, and once it is durable counts it in the ledger
 * and hands it to the merger (`ChunkMerger`: at once, or trailing the commits). A refusal changes
 * nothing; a failed commit releases the chunk's reservations.
 */
export class ChunkIngest {
  private readonly pool = new BufferPool();

  constructor(
    private readonly runs: RunDirectory,
    private readonly storage: Pick<Storage, 'getChunk'>,
    private readonly sink: ChunkSink,
    /** The nodes with a damaged chunk: their uploads are refused with DATA_LOSS (their rows are out of the merge). */
    private readonly damage: Pick<DamagedNodes, 'check'> = { check: () => {} },
    /** What a run's quota fields mean when 0. */
    private readonly serverQuotas: ServerQuotas = DEFAULT_SERVER_QUOTAS,
    /** How committed chunks reach the merged space: at the commit (default), or trailing it (`DeferredMerge`). */
    private readonly merger: ChunkMerger = mergeAtCommit,
  ) {}

  /** Resolves when every accepted chunk has been committed (or failed). */
  drain(): Promise<void> {
    return this.sink.drain();
  }

  /**
   * Stores one chunk and merges it, or refuses it with nothing changed.
   *
   * - seq ≤ last stored: identical content → acknowledged as a duplicate, not counted again;
   *   other content → ALREADY_EXISTS. seq > last + 1 → FAILED_PRECONDITION (a gap).
   * - A sample this node stored before: same values (and label) → the row is kept but not
   *   counted again; other values → ALREADY_EXISTS (a node's row for a sample is immutable;
   *   not INVALID_ARGUMENT, because the chunk alone is well formed: it conflicts with state).
   * - Shapes, encodings, NaN/Inf, duplicate ids within the chunk → INVALID_ARGUMENT.
   * - A seq (or a sample of this node) whose chunk is still being committed → UNAVAILABLE:
   *   resend it after (it will then be a duplicate, or refused as above).
   * - A node with a damaged stored chunk → DATA_LOSS (its rows are out of the merge).
   * - Past a quota of the run (samples of the node's space or of the merged space, bytes of the
   *   node or the run: `quotas.ts`) → RESOURCE_EXHAUSTED, before anything is reserved or stored.
   * - The disk full → UNAVAILABLE from the sink (nothing stored; resend after the last
   *   acknowledged chunk once the disk has room); any other storage failure → INTERNAL.
   * Checks happen at once, in arrival order; the returned promise resolves after the chunk
   * committed (the sink), and only then is the chunk counted and handed to the merger.
   */
  uploadChunk(chunk: UploadChunk): Promise<ChunkOutcome> {
    const target = this.target(chunk);
    const seq = Number(chunk.seq);
    const wire = chunk.values;
    if (wire === undefined) throw new AggregatorError('invalid_argument', `chunk ${seq} has no values`);
    const payloadBytes = wire.data.byteLength + wire.rowScales.byteLength + chunk.sampleIds.byteLength + chunk.labels.length * 4;
    const sampleIds = chunkSampleIds(chunk, seq);
    const content: ChunkContent = {
      wire,
      sampleIds: bytesOf(sampleIds),
      labels: chunk.labels.length === 0 ? null : bytesOf(Int32Array.from(chunk.labels)),
    };
    if (target.ledger.admitSeq(seq) === 'stored') return Promise.resolve(this.resent(target, seq, content, payloadBytes));
    if (target.node.finished) throw new AggregatorError('failed_precondition', `node ${target.node.nodeId} finished its upload`);
    const config = target.run.ledger.config;
    checkChunkShape(chunk, wire, { runId: config.runId, seq, space: target.space, acceptedEncodings: config.acceptedEncodings, cols: target.cols });
    // The stored data goes into a buffer the sink reads in place; float32 values are decoded
    // straight into it (they are the received bytes, aligned), other encodings' values into a
    // pooled buffer of their own. Both live until the chunk is merged after its commit.
    const stored = this.sink.payloads.take(wire.data.byteLength);
    const float32 = wire.encoding === Encoding.FLOAT32;
    const buffer = float32 ? new Float32Array(stored.buffer, stored.byteOffset, stored.byteLength >>> 2) : this.pool.take(wire.rows * target.cols);
    const release = (): void => {
      this.sink.payloads.give(stored);
      if (!float32) this.pool.give(buffer);
    };
    try {
      const values = decodeChunk(wire, target.cols, seq, buffer);
      if (!float32) stored.set(wire.data);
      return this.accept(target, chunk, { seq, sampleIds, values, stored, release, content, payloadBytes });
    } catch (error: unknown) {
      // Refused before it was handed to the sink: the buffers are free again.
      release();
      throw error;
    }
  }

  private target(chunk: UploadChunk): Target {
    const run = this.runs.run(chunk.runId);
    const node = run.ledger.node(chunk.nodeId);
    this.damage.check(chunk.runId, chunk.nodeId);
    const space = spaceName(chunk.space);
    if (space === undefined) throw new AggregatorError('invalid_argument', 'space must be SPACE_KIND_RELATIVE or SPACE_KIND_ABSOLUTE');
    if (space === 'absolute' && !run.ledger.config.allowAbsolute) {
      throw new AggregatorError('failed_precondition', `run ${run.ledger.config.runId} does not accept absolute embeddings`);
    }
    return { run, node, space, ledger: node.spaces[space], cols: run.ledger.columns(node, space) };
  }

  /** A committed seq sent again: a duplicate when identical, ALREADY_EXISTS otherwise. */
  private resent(target: Target, seq: number, content: ChunkContent, payloadBytes: number): ChunkOutcome {
    const stored = this.storage.getChunk(target.run.ledger.config.runId, target.node.nodeId, spaceFromName(target.space), seq);
    if (stored === undefined || !sameChunk(stored, content)) {
      throw new AggregatorError('already_exists', `chunk ${seq} of node ${target.node.nodeId} was stored before with other content`);
    }
    target.node.lastSeenMs = Date.now();
    return { space: target.space, seq, rowsStored: target.ledger.rows, duplicate: true, rowsCounted: 0, payloadBytes, commitSeconds: 0 };
  }

  /** Reserves the chunk in the ledger (and room in the merged space) and hands it to the sink; counts it and hands it to the merger once durable. */
  private accept(target: Target, chunk: UploadChunk, accepted: Accepted): Promise<ChunkOutcome> {
    const { seq, sampleIds, values, stored, release, content, payloadBytes } = accepted;
    const counted = this.countedRows(target, chunk, { seq, sampleIds, values });
    const countedRows = counted === null ? values.rows : counted.reduce((sum, c) => sum + c, 0);
    const row = chunkRow(target, seq, content, stored, counted, countedRows);
    const quotas = effectiveQuotas(target.run.ledger.config.quotas, this.serverQuotas);
    const bytes = storedBytes(row);
    checkChunkQuotas(target.run, target.node, { seq, space: target.space, newSamples: countedRows, bytes }, quotas);
    // Accepted: the seq and the samples are reserved now, so that the chunks behind it can be
    // checked while it is being committed; the merged space makes room for its new samples now,
    // so that merging after the commit allocates nothing and cannot fail.
    const reservation = target.ledger.reserve(seq, sampleIds, counted, bytes);
    let newSamples: number;
    try {
      newSamples = reserveMergeRoom(target, reservation, quotas);
    } catch (error: unknown) {
      target.ledger.rollback(reservation);
      throw error;
    }
    target.node.lastSeenMs = Date.now();
    // The callbacks below keep what they need, not `chunk` or `content`: their payload views the
    // received message's buffer, which should die young (a megabyte per chunk kept until the
    // commit was promoted to the old generation, costing a full GC every few dozen chunks).
    const { labels } = chunk;
    return this.sink.write(row).then(
      (committed) => {
        const outcome = this.committed(target, reservation, { sampleIds, labels, counted, values }, { payloadBytes, commitSeconds: committed.seconds });
        target.run.merged.release(newSamples);
        // Handed to the merger (which keeps no view of them): the buffers are free for the next chunk.
        release();
        return outcome;
      },
      (error: unknown) => {
        // Not stored: release the reservations. The sink refuses every later chunk too (a full
        // disk until a probe write succeeds, UNAVAILABLE; any other failure for good, INTERNAL),
        // so no later seq is stored behind this one.
        target.ledger.rollback(reservation);
        target.run.merged.release(newSamples);
        release();
        throw error;
      },
    );
  }

  /** Committed: the ledger counts the chunk and the merger takes its rows (nothing here can fail on valid input). */
  private committed(target: Target, reservation: Reservation, rows: ChunkRows, sizes: { payloadBytes: number; commitSeconds: number }): ChunkOutcome {
    target.ledger.commit(reservation);
    this.merger.committed(target.run, target.node, target.space, reservation.seq, rows);
    this.runs.changed(target.run);
    const rowsCounted = reservation.sampleIds.length;
    return { space: target.space, seq: reservation.seq, rowsStored: target.ledger.rows, duplicate: false, rowsCounted, ...sizes };
  }

  /**
   * Which rows count: a sample this node stored before is kept but not counted again when its
   * values and label are the same (ALREADY_EXISTS otherwise). Null when every row counts.
   */
  private countedRows(target: Target, chunk: UploadChunk, rows: { seq: number; sampleIds: BigUint64Array; values: DecodedMatrix }): Uint8Array | null {
    const { seq, values } = rows;
    const earlier = target.ledger.earlierRows(seq, rows.sampleIds);
    if (earlier.length === 0) return null;
    const runId = target.run.ledger.config.runId;
    const nodeId = target.node.nodeId;
    const stored = new StoredRows((storedSeq) => this.storage.getChunk(runId, nodeId, spaceFromName(target.space), storedSeq));
    const counted = new Uint8Array(values.rows).fill(1);
    for (const { row, sampleId, stored: ref } of earlier) {
      const label = chunk.labels.length === 0 ? -1 : (chunk.labels[row] as number);
      if (!stored.holds(ref, values.data, row * values.cols, label)) {
        throw new AggregatorError('already_exists', `sample ${sampleId} was sent before by node ${nodeId} (chunk ${ref.seq}) with other values`);
      }
      counted[row] = 0;
    }
    return counted;
  }
}

/** A chunk that passed every check, on its way to the sink. */
interface Accepted {
  seq: number;
  sampleIds: BigUint64Array;
  values: DecodedMatrix;
  /** The stored data, in a buffer of the sink's payloads (float32: `values` view the same memory). */
  stored: Uint8Array;
  /** Gives the chunk's buffers back (once nothing reads them: after the merge, or the refusal). */
  release: () => void;
  content: ChunkContent;
  payloadBytes: number;
}

/**
 * Reserves room in the merged space for the chunk's samples it does not hold yet, within the run's
 * samples quota; returns how many (0 when the chunk is not merged).
 */
function reserveMergeRoom(target: Target, reservation: Reservation, quotas: EffectiveQuotas): number {
  if (!merges(target.node, target.space)) return 0;
  const merged = target.run.merged;
  const counted = reservation.sampleIds;
  const words = sampleIdWords(counted);
  let fresh = 0;
  for (let i = 0; i < counted.length; i += 1) if (!merged.holds(words[2 * i] as number, words[2 * i + 1] as number)) fresh += 1;
  checkMergeQuota(target.run, reservation.seq, target.node.nodeId, fresh, quotas);
  merged.reserve(fresh);
  return fresh;
}

/** The row the sink stores: the payload as received (its data in `stored`, one of the sink's payload buffers). */
function chunkRow(target: Target, seq: number, content: ChunkContent, stored: Uint8Array, counted: Uint8Array | null, countedRows: number): ChunkRow {
  const { wire } = content;
  return {
    runId: target.run.ledger.config.runId,
    nodeId: target.node.nodeId,
    space: spaceFromName(target.space),
    seq,
    rows: wire.rows,
    cols: wire.cols,
    encoding: wire.encoding,
    sampleIds: content.sampleIds,
    data: bytesOf(stored),
    rowScales: wire.encoding === Encoding.INT8 ? bytesOf(wire.rowScales) : null,
    labels: content.labels,
    counted: counted === null ? null : bytesOf(counted),
    countedRows,
  };
}
