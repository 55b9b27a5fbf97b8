import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HEADER_FIXED_BYTES, TRAILER_BYTES, decodeRecord, encodeRecord } from '../../src/storage/chunk-record.ts';
import type { RecordExpectation } from '../../src/storage/chunk-record.ts';
import type { ChunkRow } from '../../src/storage/schema.ts';

const bytes = (length: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: length, maxLength: length }).map((u) => Buffer.from(u));

/** A chunk row as the ingest makes one: ids 4 bytes per row, float32 values, optional scales, labels and counted flags. */
const chunkRows: fc.Arbitrary<ChunkRow> = fc
  .record({ rows: fc.integer({ min: 0, max: 6 }), cols: fc.integer({ min: 1, max: 5 }), scales: fc.boolean(), labels: fc.boolean(), counted: fc.boolean(), seq: fc.nat({ max: 2 ** 40 }) })
  .chain(({ rows, cols, scales, labels, counted, seq }) =>
    fc.record({
      runId: fc.stringMatching(/^[a-z][a-z0-9._:-]{0,20}$/),
      nodeId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/),
      space: fc.constantFrom(1, 2),
      seq: fc.constant(seq),
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      encoding: fc.constantFrom(1, 2, 3),
      sampleIds: bytes(rows * 4),
      data: bytes(rows * cols * 4),
      rowScales: scales ? bytes(rows * 4) : fc.constant(null),
      labels: labels ? bytes(rows * 4) : fc.constant(null),
      counted: counted ? bytes(rows) : fc.constant(null),
      countedRows: fc.integer({ min: 0, max: rows }),
    }),
  );

function recordOf(row: ChunkRow): { record: Buffer; expected: RecordExpectation } {
  const encoded = encodeRecord(row);
  const record = Buffer.concat(encoded.parts);
  const { runId, nodeId, space, seq, rows, cols, encoding, countedRows } = row;
  return { record, expected: { runId, nodeId, space, seq, rows, cols, encoding, countedRows, checksum: encoded.checksum } };
}

describe('chunk records (segment file format)', () => {
  it('round-trips every field, null sections staying null, with the header a multiple of 8 bytes', () => {
    fc.assert(
      fc.property(chunkRows, (row) => {
        const { record, expected } = recordOf(row);
        expect(record.length).toBe(encodeRecord(row).bytes);
        expect(record.readUInt16LE(6) % 8).toBe(0);
        expect(decodeRecord(record, expected)).toEqual(row);
      }),
    );
  });

  it('its trailer is zlib CRC-32 of everything before it (what rlsa backup checks with the index alone)', () => {
    fc.assert(
      fc.property(chunkRows, (row) => {
        const { record, expected } = recordOf(row);
        expect(crc32(record.subarray(0, record.length - TRAILER_BYTES))).toBe(expected.checksum);
        expect(record.readUInt32LE(record.length - TRAILER_BYTES)).toBe(expected.checksum);
      }),
    );
  });

  it('any one bit flipped anywhere in a record is a fault, never a row', () => {
    fc.assert(
      fc.property(chunkRows, fc.nat(), fc.integer({ min: 0, max: 7 }), (row, at, bit) => {
        const { record, expected } = recordOf(row);
        const position = at % record.length;
        record[position] = (record[position] as number) ^ (1 << bit);
        expect(decodeRecord(record, expected)).toHaveProperty('kind');
      }),
    );
  });

  it('a record that is intact but not the one the index describes is a header fault naming the field', () => {
    const row: ChunkRow = {
      runId: 'r',
      nodeId: 'n1',
      space: 1,
      seq: 7,
      rows: 1,
      cols: 2,
      encoding: 1,
      sampleIds: Buffer.alloc(4, 1),
      data: Buffer.alloc(8, 2),
      rowScales: null,
      labels: null,
      counted: null,
      countedRows: 1,
    };
    const { record, expected } = recordOf(row);
    expect(decodeRecord(record, { ...expected, seq: 8 })).toEqual({ kind: 'header', field: 'seq' });
    expect(decodeRecord(record, { ...expected, nodeId: 'n2' })).toEqual({ kind: 'header', field: 'node id' });
    expect(decodeRecord(record, { ...expected, checksum: expected.checksum ^ 1 })).toMatchObject({ kind: 'checksum' });
    // Cut short (a segment that ends early): shorter than any record, or a checksum that no longer matches.
    expect(decodeRecord(record.subarray(0, HEADER_FIXED_BYTES), expected)).toEqual({ kind: 'length', expected: HEADER_FIXED_BYTES + TRAILER_BYTES, actual: HEADER_FIXED_BYTES });
    expect(decodeRecord(record.subarray(0, record.length - 1), expected)).toMatchObject({ kind: 'checksum' });
  });
});
