import { RlsaError } from '@rlsa/core';
import type { Matrix as WireMatrix } from '@rlsa/proto';
import { sampleIdBytes } from './sample-ids.ts';

/** The fields of an `rlsa.v2.UploadChunk`, as `encodeUploadChunk` takes them. */
export interface UploadChunkFields {
  runId: string;
  nodeId: string;
  /** SpaceKind */
  space: number;
  /** A non-negative safe integer. */
  seq: number;
  /** One per row; written as little-endian uint64 bytes. */
  sampleIds: BigUint64Array;
  values: WireMatrix;
  /** int32 each; empty when unknown. */
  labels: ArrayLike<number>;
}

/**
 * Serializes an UploadChunk into one buffer in one pass: the same bytes as protobuf-es's
 * `toBinary(UploadChunkSchema, create(UploadChunkSchema, fields))` (fields in number order,
 * proto3 defaults left out, packed repeated integers; the spec checks the equality), without its
 * intermediate buffers: toBinary writes the nested Matrix into a buffer of its own and copies it
 * twice more, i.e. two extra allocations and copies of every megabyte a node uploads.
 * With `reuse` (at least the message's size) the message is written into its start and the
 * result is a view of it.
 */
export function encodeUploadChunk(fields: UploadChunkFields, reuse?: Buffer): Buffer {
  const runId = Buffer.byteLength(fields.runId, 'utf8');
  const nodeId = Buffer.byteLength(fields.nodeId, 'utf8');
  const ids = sampleIdBytes(fields.sampleIds);
  const labels = packedLabelsSize(fields.labels);
  const matrix = matrixSize(fields.values);
  const size =
    (runId > 0 ? 1 + varintSize(runId) + runId : 0) +
    (nodeId > 0 ? 1 + varintSize(nodeId) + nodeId : 0) +
    (fields.space !== 0 ? 1 + int32Size(fields.space) : 0) +
    (fields.seq !== 0 ? 1 + varintSize(fields.seq) : 0) +
    (ids.byteLength > 0 ? 1 + varintSize(ids.byteLength) + ids.byteLength : 0) +
    1 +
    varintSize(matrix) +
    matrix +
    (labels > 0 ? 1 + varintSize(labels) + labels : 0);
  // `reuse`, when big enough: a buffer of the caller's that nothing else reads any more.
  const out = reuse !== undefined && reuse.byteLength >= size ? reuse.subarray(0, size) : Buffer.allocUnsafe(size);
  const w = { pos: 0 };
  if (runId > 0) {
    out[w.pos++] = 0x0a; // 1: string
    writeVarint(out, w, runId);
    w.pos += out.write(fields.runId, w.pos, 'utf8');
  }
  if (nodeId > 0) {
    out[w.pos++] = 0x12; // 2: string
    writeVarint(out, w, nodeId);
    w.pos += out.write(fields.nodeId, w.pos, 'utf8');
  }
  if (fields.space !== 0) {
    out[w.pos++] = 0x18; // 3: enum
    writeInt32(out, w, fields.space);
  }
  if (fields.seq !== 0) {
    out[w.pos++] = 0x20; // 4: uint64
    writeVarint(out, w, fields.seq);
  }
  if (ids.byteLength > 0) {
    out[w.pos++] = 0x2a; // 5: bytes (little-endian uint64 per row), copied in one pass
    writeVarint(out, w, ids.byteLength);
    out.set(ids, w.pos);
    w.pos += ids.byteLength;
  }
  out[w.pos++] = 0x32; // 6: Matrix
  writeVarint(out, w, matrix);
  writeMatrix(out, w, fields.values);
  if (labels > 0) {
    out[w.pos++] = 0x3a; // 7: packed int32
    writeVarint(out, w, labels);
    for (let i = 0; i < fields.labels.length; i += 1) writeInt32(out, w, fields.labels[i] as number);
  }
  if (w.pos !== size) throw new Error(`UploadChunk encoding wrote ${w.pos} bytes, expected ${size}`);
  return out;
}

function matrixSize(m: WireMatrix): number {
  return (
    (m.rows !== 0 ? 1 + varintSize(m.rows) : 0) +
    (m.cols !== 0 ? 1 + varintSize(m.cols) : 0) +
    (m.encoding !== 0 ? 1 + int32Size(m.encoding) : 0) +
    (m.data.byteLength > 0 ? 1 + varintSize(m.data.byteLength) + m.data.byteLength : 0) +
    (m.rowScales.byteLength > 0 ? 1 + varintSize(m.rowScales.byteLength) + m.rowScales.byteLength : 0)
  );
}

function writeMatrix(out: Buffer, w: { pos: number }, m: WireMatrix): void {
  if (m.rows !== 0) {
    out[w.pos++] = 0x08; // 1: uint32
    writeVarint(out, w, m.rows);
  }
  if (m.cols !== 0) {
    out[w.pos++] = 0x10; // 2: uint32
    writeVarint(out, w, m.cols);
  }
  if (m.encoding !== 0) {
    out[w.pos++] = 0x18; // 3: enum
    writeInt32(out, w, m.encoding);
  }
  if (m.data.byteLength > 0) {
    out[w.pos++] = 0x22; // 4: bytes
    writeVarint(out, w, m.data.byteLength);
    out.set(m.data, w.pos);
    w.pos += m.data.byteLength;
  }
  if (m.rowScales.byteLength > 0) {
    out[w.pos++] = 0x2a; // 5: bytes
    writeVarint(out, w, m.rowScales.byteLength);
    out.set(m.rowScales, w.pos);
    w.pos += m.rowScales.byteLength;
  }
}

/** Bytes of the packed int32 labels; throws `invalid_argument` on a value that is not an int32. */
function packedLabelsSize(values: ArrayLike<number>): number {
  let size = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] as number;
    if (!(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff)) throw new RlsaError('invalid_argument', `label ${v} at row ${i} is not an int32`);
    size += int32Size(v);
  }
  return size;
}

/** Bytes of a varint of a non-negative safe integer. */
function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 128)) size += 1;
  return size;
}

/** Bytes of an int32 (or enum) varint: a negative one is sign-extended to 64 bits (10 bytes). */
function int32Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

function writeVarint(out: Buffer, w: { pos: number }, value: number): void {
  let v = value;
  while (v >= 0x80) {
    out[w.pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[w.pos++] = v;
}

function writeInt32(out: Buffer, w: { pos: number }, value: number): void {
  if (value >= 0) {
    writeVarint(out, w, value);
    return;
  }
  // Two's complement in 64 bits: the low 32 bits, then ones.
  let low = value >>> 0;
  for (let i = 0; i < 4; i += 1) {
    out[w.pos++] = (low & 0x7f) | 0x80;
    low >>>= 7;
  }
  // Bits 28..31 of the low word and 3 ones of the high word, then the high word's remaining ones.
  out[w.pos++] = (low & 0x0f) | 0x70 | 0x80;
  for (let i = 0; i < 4; i += 1) out[w.pos++] = 0xff;
  out[w.pos++] = 0x01;
}
