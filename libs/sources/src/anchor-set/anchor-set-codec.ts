import { createHash } from 'node:crypto';
import { isDatasetName } from '@rlsa/data';
import { SourceError } from '../errors.ts';
import { sampleSize, type SampleShape } from '../sample.ts';
import { anchorCount, type AnchorSet, type ArrayAnchorSet } from './anchor-set.ts';

/** The first 8 bytes of every encoded anchor set. */
export const ANCHOR_SET_MAGIC = 'RLSAANCH';
/** The version of the encoding below; a decoder refuses any other. */
export const ANCHOR_SET_VERSION = 1;
/** At most this many anchors (the relative width; far above the paper's few hundred). */
export const MAX_ANCHORS = 65_536;
/** At most this many bytes in an encoded set: a bound on what a fetch or a decode can allocate. */
export const MAX_ANCHOR_SET_BYTES = 1 << 30;

const KIND_CODES = { images: 1, array: 2, builtin: 3 } as const;
const DTYPE_CODES = { uint8: 1, float32: 2 } as const;
const FLAG_LABELS = 1;
const FLAG_NAMES = 2;

/**
 * The canonical encoding of an anchor set, version 1; its SHA-256 is the run's anchor
 * fingerprint (for `images` and `array` sets). Integers little-endian; nothing is optional or
 * reorderable, so one set has exactly one encoding:
 *
 *     magic    8 bytes  "RLSAANCH"
 *     version  u16      1
 *     kind     u8       1 images, 2 array, 3 builtin
 *     flags    u8       bit 0: labels follow, bit 1: names follow; other bits 0
 *     count    u32      N anchors
 *     array:   dtype u8 (1 uint8, 2 float32), rank u8 (1: [F], 3: [H, W, C]), u16 0, rank × u32 dims
 *     builtin: u32 byte length + UTF-8 data set name
 *     items:   images: N × (u32 byte length + the file's bytes)
 *              array: N × prod(dims) elements
 *              builtin: N × u32 sample ids
 *     labels:  N × i32 (−1 = none), if flagged
 *     names:   N × (u32 byte length + UTF-8), if flagged
 *
 * and no byte after. Anchor order is the order of the relative vectors' columns.
 */
export function encodeAnchorSet(set: AnchorSet): Uint8Array {
  const count = anchorCount(set);
  checkSet(set, count);
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(16));
  new Uint8Array(header.buffer).set(new TextEncoder().encode(ANCHOR_SET_MAGIC));
  header.setUint16(8, ANCHOR_SET_VERSION, true);
  header.setUint8(10, KIND_CODES[set.kind]);
  header.setUint8(11, (set.labels === undefined ? 0 : FLAG_LABELS) | (set.names === undefined ? 0 : FLAG_NAMES));
  header.setUint32(12, count, true);
  parts.push(new Uint8Array(header.buffer));
  if (set.kind === 'images') for (const file of set.files) parts.push(u32(file.length), file);
  if (set.kind === 'array') parts.push(arrayHeader(set), littleEndianBytes(set.values));
  if (set.kind === 'builtin') {
    const name = new TextEncoder().encode(set.dataset);
    parts.push(u32(name.length), name, littleEndianBytes(set.ids));
  }
  if (set.labels !== undefined) parts.push(littleEndianBytes(set.labels));
  for (const name of set.names ?? []) {
    const bytes = new TextEncoder().encode(name);
    parts.push(u32(bytes.length), bytes);
  }
  const size = parts.reduce((n, p) => n + p.length, 0);
  if (size > MAX_ANCHOR_SET_BYTES) throw new SourceError('invalid_argument', `the anchor set encodes to ${size} bytes, more than the ${MAX_ANCHOR_SET_BYTES} allowed`);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Hex SHA-256 of bytes (of an encoded anchor set: its fingerprint). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decodes an encoded anchor set (`encodeAnchorSet`'s format), checking everything a hostile or
 * damaged copy could get wrong before allocating: magic, version, kind, flags, counts against
 * the bytes present, non-finite floats, trailing bytes (`bad_format`, naming `source`).
 * Decoding then encoding gives the same bytes.
 */
export function decodeAnchorSet(bytes: Uint8Array, source: string): AnchorSet {
  const reader: Reader = new Reader(bytes, source);
  if (new TextDecoder().decode(reader.take(8)) !== ANCHOR_SET_MAGIC) reader.fail('not an anchor set (no RLSAANCH magic)');
  const version = reader.u16();
  if (version !== ANCHOR_SET_VERSION) reader.fail(`anchor set encoding version ${version}; this program reads version ${ANCHOR_SET_VERSION}`);
  const kindCode = reader.u8();
  const flags = reader.u8();
  const count = reader.u32();
  if ((flags & ~(FLAG_LABELS | FLAG_NAMES)) !== 0) reader.fail(`unknown flags ${flags}`);
  if (count < 1 || count > MAX_ANCHORS) reader.fail(`${count} anchors; 1 to ${MAX_ANCHORS} are allowed`);
  let set: AnchorSet;
  if (kindCode === KIND_CODES.images) {
    set = { kind: 'images', files: Array.from({ length: count }, () => reader.take(reader.u32()).slice()) };
  } else if (kindCode === KIND_CODES.array) {
    set = decodeArray(reader, count);
  } else if (kindCode === KIND_CODES.builtin) {
    const dataset = reader.utf8(reader.u32());
    if (!isDatasetName(dataset)) reader.fail(`unknown built-in data set "${dataset}"`);
    set = { kind: 'builtin', dataset, ids: new Uint32Array(reader.take(4 * count).slice().buffer) };
  } else {
    return reader.fail(`unknown anchor set kind ${kindCode}`);
  }
  const labels = (flags & FLAG_LABELS) !== 0 ? new Int32Array(reader.take(4 * count).slice().buffer) : undefined;
  const names = (flags & FLAG_NAMES) !== 0 ? Array.from({ length: count }, () => reader.utf8(reader.u32())) : undefined;
  if (reader.remaining() !== 0) reader.fail(`${reader.remaining()} bytes after the end of the anchor set`);
  const withExtras = { ...set, ...(labels === undefined ? {} : { labels }), ...(names === undefined ? {} : { names }) } as AnchorSet;
  checkSet(withExtras, count, source);
  return withExtras;
}

function decodeArray(reader: Reader, count: number): ArrayAnchorSet {
  const dtype = reader.u8();
  const rank = reader.u8();
  if (reader.u16() !== 0) reader.fail('reserved bytes are not 0');
  if (dtype !== DTYPE_CODES.uint8 && dtype !== DTYPE_CODES.float32) reader.fail(`unknown dtype code ${dtype}`);
  if (rank !== 1 && rank !== 3) reader.fail(`rank ${rank}; 1 (features) or 3 (H, W, C) is allowed`);
  const dims = Array.from({ length: rank }, () => reader.u32());
  if (dims.some((d) => d < 1)) reader.fail(`a dimension of 0 in (${dims.join(', ')})`);
  const shape: SampleShape = rank === 1 ? { kind: 'features', width: dims[0]! } : { kind: 'image', height: dims[0]!, width: dims[1]!, channels: dims[2]! };
  const elements = count * sampleSize(shape);
  const elementBytes = dtype === DTYPE_CODES.uint8 ? 1 : 4;
  if (elements * elementBytes > reader.remaining()) reader.fail(`${count} anchors of ${dims.join('×')} need more bytes than the set has`);
  const raw = reader.take(elements * elementBytes).slice();
  return { kind: 'array', shape, values: dtype === DTYPE_CODES.uint8 ? raw : new Float32Array(raw.buffer) };
}

/** What every set must satisfy, encoded or decoded: lengths agree, floats are finite, labels ≥ −1. */
function checkSet(set: AnchorSet, count: number, source?: string): void {
  const fail = (message: string): never => {
    throw new SourceError(source === undefined ? 'invalid_argument' : 'bad_format', message, source === undefined ? undefined : { file: source });
  };
  if (!Number.isInteger(count) || count < 1 || count > MAX_ANCHORS) fail(`${count} anchors; 1 to ${MAX_ANCHORS} are allowed`);
  if (set.labels !== undefined && set.labels.length !== count) fail(`${set.labels.length} labels for ${count} anchors`);
  if (set.labels?.some((l) => l < -1)) fail('anchor labels must be −1 (none) or a class index');
  if (set.names !== undefined && set.names.length !== count) fail(`${set.names.length} names for ${count} anchors`);
  if (set.kind === 'array' && set.values instanceof Float32Array) {
    const bad = set.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`anchor ${Math.floor(bad / sampleSize(set.shape))} holds ${set.values[bad]}: values must be finite`);
  }
}

function arrayHeader(set: ArrayAnchorSet): Uint8Array {
  const dims = set.shape.kind === 'image' ? [set.shape.height, set.shape.width, set.shape.channels] : [set.shape.width];
  const view = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  view.setUint8(0, set.values instanceof Uint8Array ? DTYPE_CODES.uint8 : DTYPE_CODES.float32);
  view.setUint8(1, dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, true));
  return new Uint8Array(view.buffer);
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (a view on little-endian hosts, the usual case). */
function littleEndianBytes(values: Uint8Array | Float32Array | Int32Array | Uint32Array): Uint8Array {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (HOST_LITTLE_ENDIAN || values.BYTES_PER_ELEMENT === 1) return view;
  const out = view.slice();
  for (let i = 0; i < out.length; i += 4) out.subarray(i, i + 4).reverse();
  return out;
}

/** Sequential reads that refuse to run past the end (`bad_format`). */
class Reader {
  private offset = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    private readonly source: string,
  ) {
    // A plain Uint8Array over the same memory: a Buffer's slice() is a view, and the typed
    // arrays built from taken bytes must own copies of exactly their bytes.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.bytes.length - this.offset;
  }

  take(n: number): Uint8Array {
    if (n > this.remaining()) this.fail(`the anchor set ends early (${n} bytes needed at offset ${this.offset}, ${this.remaining()} left)`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u16(): number {
    const at = this.offset;
    this.take(2);
    return this.view.getUint16(at, true);
  }

  u32(): number {
    const at = this.offset;
    this.take(4);
    return this.view.getUint32(at, true);
  }

  utf8(n: number): string {
    const bytes = this.take(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return this.fail('a name is not valid UTF-8');
    }
  }

  fail(message: string): never {
    throw new SourceError('bad_format', message, { file: this.source });
  }
}
