import { createHash } from 'node:crypto';
import type { NpyDtype } from '@rlsa/npy';
import { dtypeDescr } from '@rlsa/npy';
import { SourceError } from './errors.ts';
import type { SampleId } from './sample.ts';

/** The version tag that starts the canonical bytes of an NPY row (bump it if the rule ever changes). */
export const NPY_ROW_TAG = 'rlsa-npy-row-v1';

/**
 * The id of content: the first 8 bytes of its SHA-256, read as a big-endian unsigned integer
 * (so its 16 hex digits are the first 16 of the hex digest: `sha256sum FILE | cut -c1-16`).
 * Two parties holding the same bytes get the same id without talking to each other; any other
 * bytes (a re-encoded image) get another id, except with probability about n²/2⁶⁵ for n samples.
 */
export function contentId(...parts: readonly Uint8Array[]): SampleId {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest().readBigUInt64BE(0);
}

/**
 * The header of an NPY row's canonical bytes: ASCII `rlsa-npy-row-v1 <descr> <d1,d2,...>\n`,
 * with NumPy's little-endian descr of the file's dtype (`|u1`, `<f4`, `<f8`, ...) and the shape
 * of one row (`28,28,1`, `512`). The canonical bytes are this header followed by the row's
 * elements in little-endian C order (whatever the file's byte order). In Python:
 *
 *     header = f"rlsa-npy-row-v1 {x.dtype.newbyteorder('<').str} {','.join(map(str, x.shape[1:]))}\n".encode()
 *     id = int.from_bytes(hashlib.sha256(header + x[i].astype(x.dtype.newbyteorder('<')).tobytes()).digest()[:8], 'big')
 *
 * The header keeps the same bytes under another dtype or shape (784 uint8 pixels, 196 float32
 * features) from sharing an id.
 */
export function npyRowHeader(dtype: NpyDtype, rowShape: readonly number[]): Uint8Array {
  return new TextEncoder().encode(`${NPY_ROW_TAG} ${dtypeDescr(dtype)} ${rowShape.join(',')}\n`);
}

/** The content id of one NPY row (see `npyRowHeader` for the canonical bytes). */
export function npyRowId(header: Uint8Array, littleEndianRow: Uint8Array): SampleId {
  return contentId(header, littleEndianRow);
}

/**
 * How a source names its samples (`--ids`): by content (`content`, the default of image folders),
 * by an image file's name (`filename`, image folders only, see `filenameId`), or by the ids file
 * the user gave (`file`: `ids.npy` beside `x.npy`, NPY folders only). Each source refuses the
 * schemes it cannot apply.
 */
export const ID_SCHEMES = ['content', 'filename', 'file'] as const;
export type IdScheme = (typeof ID_SCHEMES)[number];

const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * The user-given id of an image file (`--ids filename`), from its path relative to the source's
 * folder (POSIX separators, e.g. `train/cat/00123.png`):
 * - a file name whose stem is all decimal digits names its id (`00123.png` → 123, below 2⁶⁴);
 * - any other name: the first 8 bytes of the SHA-256 of the UTF-8 relative path, big-endian.
 * Two files with one id must hold the same bytes (checked by the source: `id_conflict`).
 */
export function filenameId(relativePath: string): SampleId {
  const base = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  if (/^[0-9]+$/.test(stem)) {
    const value = BigInt(stem);
    if (value > MAX_UINT64) throw new SourceError('invalid_argument', `the file name's number does not fit in 64 bits`, { file: relativePath });
    return value;
  }
  return contentId(new TextEncoder().encode(relativePath));
}

/** An id as 16 hex digits (how logs and messages print content ids). */
export function formatSampleId(id: SampleId): string {
  return id.toString(16).padStart(16, '0');
}
