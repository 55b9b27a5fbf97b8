import { describe, expect, it } from 'vitest';
import { SpaceLedger } from '../../src/ledger/space-ledger.ts';

/** The ledger's observable state, to assert that a refusal changed nothing. */
function snapshot(ledger: SpaceLedger, ids: readonly number[]): unknown {
  return { lastSeq: ledger.lastSeq, chunks: ledger.chunks, rows: ledger.rows, owned: ids.map((id) => ledger.locate(id) ?? null) };
}

describe('SpaceLedger: one node space, scenario by scenario', () => {
  it('accepts seqs in order: a chunk is reserved while it commits and counted once committed', () => {
    const ledger = new SpaceLedger('n1');
    expect(ledger.admitSeq(0)).toBe('next');
    expect(ledger.earlierRows(0, [10, 11])).toEqual([]);
    const first = ledger.reserve(0, [10, 11], null);
    expect(first).toEqual({ seq: 0, sampleIds: [10, 11] });
    // Reserved, not yet committed: the node resumes from before it, and nothing is counted.
    expect(ledger.lastSeq).toBe(-1);
    expect(ledger.rows).toBe(0);
    expect(ledger.locate(11)).toEqual({ seq: 0, row: 1 });
    // The next chunk is checked while the first commits.
    expect(ledger.admitSeq(1)).toBe('next');
    const second = ledger.reserve(1, [12], null);
    ledger.commit(first);
    ledger.commit(second);
    expect({ lastSeq: ledger.lastSeq, chunks: ledger.chunks, rows: ledger.rows }).toEqual({ lastSeq: 1, chunks: 2, rows: 3 });
  });

  it('a seq still committing is UNAVAILABLE; once committed it is `stored` (the caller compares content)', () => {
    const ledger = new SpaceLedger('n1');
    const reservation = ledger.reserve(0, [1, 2], null);
    const before = snapshot(ledger, [1, 2]);
    expect(() => ledger.admitSeq(0)).toThrow(expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/chunk 0 of node n1 is being stored/) }));
    expect(snapshot(ledger, [1, 2])).toEqual(before);
    ledger.commit(reservation);
    expect(ledger.admitSeq(0)).toBe('stored');
  });

  it('a gap is FAILED_PRECONDITION naming the next expected seq', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, [1], null);
    expect(() => ledger.admitSeq(2)).toThrow(expect.objectContaining({ code: 'failed_precondition', message: expect.stringMatching(/next expected seq is 1/) }));
  });

  it('a sample whose chunk is still committing is UNAVAILABLE; committed, its row is returned to compare', () => {
    const ledger = new SpaceLedger('n1');
    const reservation = ledger.reserve(0, [5, 6, 7], null);
    expect(() => ledger.earlierRows(1, [8, 6])).toThrow(
      expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/sample 6 is in chunk 0 of node n1, still being stored/) }),
    );
    ledger.commit(reservation);
    expect(ledger.earlierRows(1, [8, 6])).toEqual([{ row: 1, sampleId: 6, stored: { seq: 0, row: 1 } }]);
  });

  it('an id twice in one chunk is INVALID_ARGUMENT', () => {
    const ledger = new SpaceLedger('n1');
    expect(() => ledger.earlierRows(0, [3, 4, 3])).toThrow(expect.objectContaining({ code: 'invalid_argument', message: 'sample id 3 appears twice in chunk 0' }));
  });

  it('rows not counted (sent before with the same values) keep their first location and are not counted again', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, [1, 2], null);
    const counted = Uint8Array.from([0, 1]);
    const reservation = ledger.reserve(1, [2, 3], counted);
    expect(reservation.sampleIds).toEqual([3]);
    ledger.commit(reservation);
    expect(ledger.rows).toBe(3);
    expect(ledger.locate(2)).toEqual({ seq: 0, row: 1 });
    expect(ledger.locate(3)).toEqual({ seq: 1, row: 1 });
  });

  it('a failed commit rolls its reservations back: the seq and its samples are free again, nothing is counted', () => {
    const ledger = new SpaceLedger('n1');
    ledger.replay(0, [1], null);
    const before = snapshot(ledger, [1, 2, 3]);
    const reservation = ledger.reserve(1, [2, 3], null);
    expect(() => ledger.earlierRows(2, [3])).toThrow(expect.objectContaining({ code: 'unavailable' }));
    ledger.rollback(reservation);
    expect(snapshot(ledger, [1, 2, 3])).toEqual(before);
    // The node sends it again: it is the next seq, and its samples are new.
    expect(ledger.admitSeq(1)).toBe('next');
    expect(ledger.earlierRows(1, [2, 3])).toEqual([]);
  });
});
