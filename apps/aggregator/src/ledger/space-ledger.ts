import { sampleIdWords } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import { SampleIndex } from './sample-index.ts';

/** Where a node's row for a sample lives: row `row` of the node's chunk `seq` (of one space). */
export interface ChunkRef {
  readonly seq: number;
  readonly row: number;
}

/** A row of an incoming chunk whose sample the node stored before, and where that earlier row is. */
export interface EarlierRow {
  /** Row of the incoming chunk. */
  readonly row: number;
  readonly sampleId: bigint;
  readonly stored: ChunkRef;
}

/** A chunk accepted and being committed: its seq and the samples it reserved. */
export interface Reservation {
  readonly seq: number;
  /** Samples this chunk counts (reserved while it commits). */
  readonly sampleIds: BigUint64Array;
  /** Stored bytes it takes (its payload), held against the quotas while it commits. */
  readonly bytes: number;
}

/** A ChunkRef packed into one index value: seq · ROW_SPAN + row (exact below 2⁵³: seqs up to 2³³). */
const ROW_SPAN = 2 ** 20;

/** Ids seen in the chunk being checked (reused, sized for each chunk: a chunk's duplicates are found without allocating while chunks keep their size). */
const seenInChunk = new SampleIndex();

/**
 * The upload protocol of one node's space (relative or absolute), synchronous and free of I/O:
 * which seqs are committed and which accepted (being committed), which of the node's samples
 * are stored where, and the reservations of the chunks in flight. Refusals are AggregatorErrors
 * and change nothing.
 *
 * A chunk goes: `admitSeq` (stored before → the caller compares content; being committed →
 * UNAVAILABLE; a gap → FAILED_PRECONDITION) → `earlierRows` (ids twice → INVALID_ARGUMENT; a
 * sample whose chunk is still committing → UNAVAILABLE; the rest: rows to compare with what was
 * stored) → `reserve` → `commit` once durable, or `rollback` when the commit failed.
 */
export class SpaceLedger {
  /** Highest committed seq, -1 when none. */
  private committedSeq = -1;
  /** Highest accepted seq: committed or being committed. */
  private acceptedSeq = -1;
  private chunkCount = 0;
  private rowCount = 0;
  /** Payload bytes of committed and reserved chunks (the byte quotas). */
  private byteCount = 0;
  /** Each sample this node sent in this space: where its (first, counted) row is, packed (ROW_SPAN). */
  private readonly owned = new SampleIndex();

  constructor(
    /** The node's id, for messages. */
    private readonly nodeId: string,
  ) {}

  /** Highest committed seq, -1 when none: where a node resumes. */
  get lastSeq(): number {
    return this.committedSeq;
  }

  /** Committed chunks. */
  get chunks(): number {
    return this.chunkCount;
  }

  /** Counted rows of committed chunks (each sample once). */
  get rows(): number {
    return this.rowCount;
  }

  /** Samples this node sent in this space (committed or reserved). */
  get samples(): number {
    return this.owned.size;
  }

  /** Payload bytes of this space's chunks, committed or reserved. */
  get bytes(): number {
    return this.byteCount;
  }

  /** Where the node's row for `sampleId` is (committed or reserved), if it sent one. */
  locate(sampleId: bigint): ChunkRef | undefined {
    return unpack(this.owned.get(Number(sampleId & 0xffffffffn), Number(sampleId >> 32n)));
  }

  /**
   * `stored` for a committed seq (sent again: the caller compares its content), `next` for the one
   * after the last accepted; UNAVAILABLE for a seq still being committed (send it again later),
   * FAILED_PRECONDITION for a gap.
   */
  admitSeq(seq: number): 'stored' | 'next' {
    if (seq <= this.committedSeq) return 'stored';
    if (seq <= this.acceptedSeq) throw new AggregatorError('unavailable', `chunk ${seq} of node ${this.nodeId} is being stored; send it again later`);
    if (seq !== this.acceptedSeq + 1) {
      throw new AggregatorError('failed_precondition', `chunk seq ${seq} leaves a gap: the next expected seq is ${this.acceptedSeq + 1}`);
    }
    return 'next';
  }

  /**
   * The rows of chunk `seq` whose sample this node sent before, with where. INVALID_ARGUMENT for an
   * id twice in the chunk; UNAVAILABLE for a sample whose chunk is still being committed (send
   * chunk `seq` again later: its rows can then be compared).
   */
  earlierRows(seq: number, sampleIds: BigUint64Array): EarlierRow[] {
    const words = sampleIdWords(sampleIds);
    const earlier: EarlierRow[] = [];
    seenInChunk.clearFor(sampleIds.length);
    for (let row = 0; row < sampleIds.length; row += 1) {
      const low = words[2 * row] as number;
      const high = words[2 * row + 1] as number;
      if (seenInChunk.has(low, high)) throw new AggregatorError('invalid_argument', `sample id ${sampleIds[row]} appears twice in chunk ${seq}`);
      seenInChunk.set(low, high, row);
      const stored = unpack(this.owned.get(low, high));
      if (stored === undefined) continue;
      if (stored.seq > this.committedSeq) {
        throw new AggregatorError(
          'unavailable',
          `sample ${sampleIds[row]} is in chunk ${stored.seq} of node ${this.nodeId}, still being stored; send chunk ${seq} again later`,
        );
      }
      earlier.push({ row, sampleId: sampleIds[row] as bigint, stored });
    }
    return earlier;
  }

  /**
   * Accepts chunk `seq` (admitted as `next`): its seq and the samples it counts are reserved now,
   * so that the chunks behind it are checked against them while it commits. `counted[i] = 0`
   * marks a row whose sample the node stored before (not counted again); null: every row counts.
   */
  reserve(seq: number, sampleIds: BigUint64Array, counted: Uint8Array | null, bytes = 0): Reservation {
    if (sampleIds.length > ROW_SPAN) throw new AggregatorError('resource_exhausted', `chunk ${seq} has ${sampleIds.length} rows; at most ${ROW_SPAN}`);
    let count = sampleIds.length;
    if (counted !== null) for (let row = 0; row < counted.length; row += 1) count -= counted[row] === 0 ? 1 : 0;
    // Room for every new sample first: a table that cannot grow refuses the chunk with nothing reserved.
    this.owned.reserve(count);
    const reserved = new BigUint64Array(count);
    const out = sampleIdWords(reserved);
    const words = sampleIdWords(sampleIds);
    let k = 0;
    for (let row = 0; row < sampleIds.length; row += 1) {
      if (counted !== null && counted[row] === 0) continue;
      const low = words[2 * row] as number;
      const high = words[2 * row + 1] as number;
      this.owned.set(low, high, seq * ROW_SPAN + row);
      out[2 * k] = low;
      out[2 * k + 1] = high;
      k += 1;
    }
    this.acceptedSeq = seq;
    this.byteCount += bytes;
    return { seq, sampleIds: reserved, bytes };
  }

  /** The reserved chunk is durable: it is stored, and its rows are counted. */
  commit(reservation: Reservation): void {
    this.committedSeq = reservation.seq;
    this.acceptedSeq = Math.max(this.acceptedSeq, reservation.seq);
    this.chunkCount += 1;
    this.rowCount += reservation.sampleIds.length;
  }

  /** The reserved chunk was not stored: its samples and its seq are free again (the node resends it). */
  rollback(reservation: Reservation): void {
    const words = sampleIdWords(reservation.sampleIds);
    for (let i = 0; i < reservation.sampleIds.length; i += 1) this.owned.delete(words[2 * i] as number, words[2 * i + 1] as number);
    this.acceptedSeq = Math.min(this.acceptedSeq, reservation.seq - 1);
    this.byteCount -= reservation.bytes;
  }

  /** Replays a chunk read back from storage (the rebuild at start): reserved and committed at once (no quota is checked: it was accepted). */
  replay(seq: number, sampleIds: BigUint64Array, counted: Uint8Array | null, bytes = 0): void {
    this.commit(this.reserve(seq, sampleIds, counted, bytes));
  }

  /**
   * Replays a chunk known only from its index (its record is damaged, or its node is): counted
   * as committed, so the node resumes after it, with no samples located (the node's uploads are
   * refused anyway while it is damaged).
   */
  replayUnread(seq: number, countedRows: number, bytes = 0): void {
    this.commit({ seq, sampleIds: new BigUint64Array(0), bytes });
    this.rowCount += countedRows;
    this.byteCount += bytes;
  }
}

function unpack(value: number): ChunkRef | undefined {
  if (value < 0) return undefined;
  const row = value % ROW_SPAN;
  return { seq: (value - row) / ROW_SPAN, row };
}
