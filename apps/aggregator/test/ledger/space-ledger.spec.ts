import { describe, expect, it } from 'vitest';
import { SpaceLedger } from '../../src/ledger/space-ledger.ts';

/** A chunk's id column. */
const ids = (values: readonly (number | bigint)[]): BigUint64Array => BigUint64Array.from(values, (v) => BigInt(v));

/** The ledger's observable state, to assert that a refusal changed nothing. */
function snapshot(ledger: SpaceLedger, sampleIds: readonly number[]): unknown {
  return { lastSeq: ledger.lastSeq, chunks: ledger.chunks, rows: ledger.rows, owned: sampleIds.map((id) => ledger.locate(BigInt(id)) ?? null) };
}

describe('SpaceLedger: one node space, scenario by scenario', () => {
  it('accepts seqs in order: a chunk is reserved while it commits and counted once committed', () => {
    const ledger = new SpaceLedger('n1');
    expect(ledger.admitSeq(0)).toBe('next');
    expect(ledger.earlierRows(0, ids([10, 11]))).toEqual([]);
    const first = ledger.reserve(0, ids([10, 11]), null);
    expect(first).toEqual({ seq: 0, sampleIds: ids([10, 11]), bytes: 0 });
    // Reserved, not yet committed: the node resumes from before it, and nothing is counted.
    expect(ledger.lastSeq).toBe(-1);
    expect(ledger.rows).toBe(0);
    expect(ledger.locate(11n)).toEqual({ seq: 0, row: 1 });
    // The next chunk is checked while the first commits.
    expect(ledger.admitSeq(1)).toBe('next');
    const second = ledger.reserve(1, ids([12]), null);
    ledger.commit(first);
    ledger.commit(second);
    expect({ lastSeq: ledger.lastSeq, chunks: ledger.chunks, rows: ledger.rows }).toEqual({ lastSeq: 1, chunks: 2, rows: 3 });
  });

  it('holds the bytes of reserved and committed chunks (the byte quotas), frees those of a rolled-back chunk, and replays them', () => {
    const ledger = new SpaceLedger('n1');
    const first = ledger.reserve(0, ids([1, 2]), null, 100);
    const second = ledger.reserve(1, ids([3]), null, 40);
    expect(ledger.bytes).toBe(140);
    ledger.commit(first);
    ledger.rollback(second);
    expect(ledger.bytes).toBe(100);
    const replayed = new SpaceLedger('n1');
    replayed.replay(0, ids([1, 2]), null, 100);
    replayed.replayUnread(1, 5, 64);
    expect({ bytes: replayed.bytes, rows: replayed.rows, samples: replayed.samples }).toEqual({ bytes: 164, rows: 7, samples: 2 });
  });

  it('a seq still committing is UNAVAILABLE; once committed it is `stored` (the caller compares content)', () => {
    const ledger = new SpaceLedger('n1');
    const reservation = ledger.reserve(0, ids([1, 2]), null);
    const before = snapshot(ledger, [1, 2]);
    expect(() => ledger.admitSeq(0)).toThrow(expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/chunk 0 of node n1 is being stored/) }));
    expect(snapshot(ledger, [1, 2])).toEqual(before);
    ledger.commit(reservation);
    expect(ledger.admitSeq(0)).toBe('stored');
  });

  it('a gap is FAILED_PRECONDITION naming the next expected seq', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, ids([1]), null);
    expect(() => ledger.admitSeq(2)).toThrow(expect.objectContaining({ code: 'failed_precondition', message: expect.stringMatching(/next expected seq is 1/) }));
  });

  it('a sample whose chunk is still committing is UNAVAILABLE; committed, its row is returned to compare', () => {
    const ledger = new SpaceLedger('n1');
    const reservation = ledger.reserve(0, ids([5, 6, 7]), null);
    expect(() => ledger.earlierRows(1, ids([8, 6]))).toThrow(
      expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/sample 6 is in chunk 0 of node n1, still being stored/) }),
    );
    ledger.commit(reservation);
    expect(ledger.earlierRows(1, ids([8, 6]))).toEqual([{ row: 1, sampleId: 6n, stored: { seq: 0, row: 1 } }]);
  });

  it('an id twice in one chunk is INVALID_ARGUMENT', () => {
    const ledger = new SpaceLedger('n1');
    expect(() => ledger.earlierRows(0, ids([3, 4, 3]))).toThrow(expect.objectContaining({ code: 'invalid_argument', message: 'sample id 3 appears twice in chunk 0' }));
  });

  it('rows not counted (sent before with the same values) keep their first location and are not counted again', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, ids([1, 2]), null);
    const counted = Uint8Array.from([0, 1]);
    const reservation = ledger.reserve(1, ids([2, 3]), counted);
    expect(reservation.sampleIds).toEqual(ids([3]));
    ledger.commit(reservation);
    expect(ledger.rows).toBe(3);
    expect(ledger.locate(2n)).toEqual({ seq: 0, row: 1 });
    expect(ledger.locate(3n)).toEqual({ seq: 1, row: 1 });
  });

  it('a failed commit rolls its reservations back: the seq and its samples are free again, nothing is counted', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, ids([1]), null);
    const before = snapshot(ledger, [1, 2, 3]);
    const reservation = ledger.reserve(1, ids([2, 3]), null);
    expect(() => ledger.earlierRows(2, ids([3]))).toThrow(expect.objectContaining({ code: 'unavailable' }));
    ledger.rollback(reservation);
    expect(snapshot(ledger, [1, 2, 3])).toEqual(before);
    // The node sends it again: it is the next seq, and its samples are new.
    expect(ledger.admitSeq(1)).toBe('next');
    expect(ledger.earlierRows(1, ids([2, 3]))).toEqual([]);
  });

  it('takes 64-bit ids: ids that differ only above bit 32, or above 2^53, are distinct samples', () => {
    const ledger = new SpaceLedger('n1');
    const wide = ids([5, 5n + 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]);
    expect(ledger.earlierRows(0, wide)).toEqual([]);
    ledger.commit(ledger.reserve(0, wide, null));
    expect(ledger.rows).toBe(5);
    expect(ledger.locate(2n ** 53n + 1n)).toEqual({ seq: 0, row: 3 });
    expect(ledger.locate(2n ** 64n - 1n)).toEqual({ seq: 0, row: 4 });
    expect(ledger.locate(6n)).toBeUndefined();
    expect(ledger.earlierRows(1, ids([2n ** 53n + 1n]))).toEqual([{ row: 0, sampleId: 2n ** 53n + 1n, stored: { seq: 0, row: 3 } }]);
    expect(() => ledger.earlierRows(1, ids([2n ** 64n - 1n, 7, 2n ** 64n - 1n]))).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: 'sample id 18446744073709551615 appears twice in chunk 1' }),
    );
  });
});
