import { checksum as crc } from './checksum.ts';
import type { ChunkKeyAndShape, ChunkRow } from './schema.ts';

/**
 * One chunk as it lies in a segment file: a self-describing record, written once.
 *
 * ```
 * header (HEADER_FIXED_BYTES, then the run and node ids in UTF-8, zero-padded to a multiple of 8)
 *   0 magic "RLSC"  4 format version u16  6 header bytes u16  8 record bytes u32
 *  12 space u8  13 encoding u8  14 flags u8 (1 row scales, 2 labels, 4 counted)  15 zero
 *  16 seq u64  24 rows u32  28 cols u32  32 counted rows u32
 *  36 id bytes u32  40 data bytes u32  44 row-scale bytes u32  48 label bytes u32  52 counted bytes u32
 *  56 run id bytes u16  58 node id bytes u16  60 zero u32
 * payload: sample ids | data | row scales | labels | counted (each as received, bytes)
 * trailer: CRC-32 of header and payload, u32
 * ```
 * All integers little-endian. The index (SQLite) keeps (segment, offset, length, checksum) of each
 * record; the trailer lets a record be checked from the index alone (`checksum` equals it) or
 * from the file alone (a scan reads the header's lengths and checks the trailer).
 */
export const RECORD_MAGIC = 0x43534c52; // "RLSC" read as little-endian u32
export const RECORD_VERSION = 1;
export const HEADER_FIXED_BYTES = 64;
export const TRAILER_BYTES = 4;

const FLAG_ROW_SCALES = 1;
const FLAG_LABELS = 2;
const FLAG_COUNTED = 4;

/** A record made ready to append: its parts (written with one writev) and its checksum. */
export interface EncodedRecord {
  parts: Uint8Array[];
  bytes: number;
  checksum: number;
}

/** The payload sections of a row, in record order (absent sections are empty). */
function sections(row: ChunkRow): Uint8Array[] {
  const none = new Uint8Array(0);
  return [row.sampleIds, row.data, row.rowScales ?? none, row.labels ?? none, row.counted ?? none];
}

/** Encodes `row` as a record: the header is new memory, the payload sections are the row's own buffers (not copied). */
export function encodeRecord(row: ChunkRow): EncodedRecord {
  const runId = Buffer.from(row.runId, 'utf8');
  const nodeId = Buffer.from(row.nodeId, 'utf8');
  const headerBytes = roundUp8(HEADER_FIXED_BYTES + runId.length + nodeId.length);
  const payload = sections(row);
  const payloadBytes = payload.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = headerBytes + payloadBytes + TRAILER_BYTES;
  const header = Buffer.alloc(headerBytes);
  header.writeUInt32LE(RECORD_MAGIC, 0);
  header.writeUInt16LE(RECORD_VERSION, 4);
  header.writeUInt16LE(headerBytes, 6);
  header.writeUInt32LE(bytes, 8);
  header.writeUInt8(row.space, 12);
  header.writeUInt8(row.encoding, 13);
  header.writeUInt8((row.rowScales === null ? 0 : FLAG_ROW_SCALES) | (row.labels === null ? 0 : FLAG_LABELS) | (row.counted === null ? 0 : FLAG_COUNTED), 14);
  header.writeBigUInt64LE(BigInt(row.seq), 16);
  header.writeUInt32LE(row.rows, 24);
  header.writeUInt32LE(row.cols, 28);
  header.writeUInt32LE(row.countedRows, 32);
  payload.forEach((part, k) => header.writeUInt32LE(part.byteLength, 36 + 4 * k));
  header.writeUInt16LE(runId.length, 56);
  header.writeUInt16LE(nodeId.length, 58);
  runId.copy(header, HEADER_FIXED_BYTES);
  nodeId.copy(header, HEADER_FIXED_BYTES + runId.length);
  let checksum = crc(header);
  for (const part of payload) checksum = crc(part, checksum);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(checksum, 0);
  return { parts: [header, ...payload, trailer], bytes, checksum };
}

/** What the index says of a record: read back, the record must agree with every field. */
export interface RecordExpectation extends ChunkKeyAndShape {
  checksum: number;
}

/** Why a record read back is not the chunk the index describes (undefined: it is). */
export type RecordFault = { kind: 'checksum'; expected: number; actual: number } | { kind: 'header'; field: string } | { kind: 'length'; expected: number; actual: number };

/**
 * Decodes a record read back into `record` (exactly the index's length), checking the checksum
 * first and then every header field against the index. The returned row's buffers are views of
 * `record` (no copy).
 */
export function decodeRecord(record: Buffer, expected: RecordExpectation): ChunkRow | RecordFault {
  if (record.length < HEADER_FIXED_BYTES + TRAILER_BYTES) return { kind: 'length', expected: HEADER_FIXED_BYTES + TRAILER_BYTES, actual: record.length };
  const stored = record.readUInt32LE(record.length - TRAILER_BYTES);
  const actual = crc(record.subarray(0, record.length - TRAILER_BYTES));
  if (actual !== stored || actual !== expected.checksum) return { kind: 'checksum', expected: expected.checksum, actual };
  const fault = headerFault(record, expected);
  if (fault !== undefined) return fault;
  const headerBytes = record.readUInt16LE(6);
  const flags = record.readUInt8(14);
  let offset = headerBytes;
  const take = (k: number): Buffer => {
    const length = record.readUInt32LE(36 + 4 * k);
    const part = record.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  const [sampleIds, data, rowScales, labels, counted] = [take(0), take(1), take(2), take(3), take(4)];
  if (offset + TRAILER_BYTES !== record.length) return { kind: 'length', expected: record.length, actual: offset + TRAILER_BYTES };
  return {
    runId: expected.runId,
    nodeId: expected.nodeId,
    space: expected.space,
    seq: expected.seq,
    rows: expected.rows,
    cols: expected.cols,
    encoding: expected.encoding,
    sampleIds,
    data,
    rowScales: (flags & FLAG_ROW_SCALES) === 0 ? null : rowScales,
    labels: (flags & FLAG_LABELS) === 0 ? null : labels,
    counted: (flags & FLAG_COUNTED) === 0 ? null : counted,
    countedRows: expected.countedRows,
  };
}

/** The first header field that disagrees with the index (the checksum already matched: a record written for another chunk). */
function headerFault(record: Buffer, expected: RecordExpectation): RecordFault | undefined {
  const headerBytes = record.readUInt16LE(6);
  const runIdBytes = record.readUInt16LE(56);
  const nodeIdBytes = record.readUInt16LE(58);
  const idsEnd = HEADER_FIXED_BYTES + runIdBytes + nodeIdBytes;
  const checks: [string, boolean][] = [
    ['magic', record.readUInt32LE(0) === RECORD_MAGIC],
    ['version', record.readUInt16LE(4) === RECORD_VERSION],
    ['header bytes', headerBytes >= idsEnd && headerBytes <= record.length],
    ['record bytes', record.readUInt32LE(8) === record.length],
    ['space', record.readUInt8(12) === expected.space],
    ['encoding', record.readUInt8(13) === expected.encoding],
    ['seq', record.readBigUInt64LE(16) === BigInt(expected.seq)],
    ['rows', record.readUInt32LE(24) === expected.rows],
    ['cols', record.readUInt32LE(28) === expected.cols],
    ['counted rows', record.readUInt32LE(32) === expected.countedRows],
    ['run id', idsEnd <= record.length && record.toString('utf8', HEADER_FIXED_BYTES, HEADER_FIXED_BYTES + runIdBytes) === expected.runId],
    ['node id', idsEnd <= record.length && record.toString('utf8', HEADER_FIXED_BYTES + runIdBytes, idsEnd) === expected.nodeId],
  ];
  const failed = checks.find(([, ok]) => !ok);
  return failed === undefined ? undefined : { kind: 'header', field: failed[0] };
}

/** One line for people: why a record is not what the index says. */
export function describeFault(fault: RecordFault): string {
  if (fault.kind === 'checksum') return `checksum mismatch (CRC-32 ${hex(fault.actual)}, index says ${hex(fault.expected)})`;
  if (fault.kind === 'length') return `record length ${fault.actual}, expected ${fault.expected}`;
  return `header field "${fault.field}" does not match the index`;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
