import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnchorSetSummarySchema } from '@rlsa/proto';
import { anchorSetSummaryMessage, anchorSetSummaryView } from '@rlsa/wire';
import type { AnchorSetSummaryView } from '@rlsa/wire';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isStorageFull } from './storage-full.ts';
import { AggregatorError } from '../errors.ts';

/** An anchor set's encoding, at most: what an upload can make the aggregator store and a node fetch. */
export const MAX_ANCHOR_SET_BYTES = 1 << 30;
/** Bytes per fetched message when the caller does not say: far under any message limit. */
export const DEFAULT_ANCHOR_CHUNK_BYTES = 1 << 20;
/** Bytes per fetched message, at most (a caller asking for more gets this). */
export const MAX_ANCHOR_CHUNK_BYTES = 4 << 20;

/** A piece of an encoded set: its bytes from `offset` on. */
export interface AnchorSetPiece {
  readonly offset: number;
  readonly data: Uint8Array;
}

const SUMMARY_SUFFIX = '.summary';
const PARTIAL_PREFIX = '.partial-';

/**
 * The anchor sets of this aggregator, content-addressed: `<data-dir>/anchor-sets/<fingerprint>`
 * holds a set's canonical encoding exactly (so `sha256sum` of the file is its name) and
 * `<fingerprint>.summary` its summary (rlsa.v2.AnchorSetSummary, binary). A set is stored once:
 * its bytes go to a partial file as they arrive, hashed on the way, and become the set only when
 * complete, of the announced size and hash (written to disk, then renamed: a crash leaves a
 * partial file, removed at the next start, never a wrong set). Reads go by ranges: memory stays
 * one chunk whatever the set's size.
 */
export class AnchorSetStore {
  readonly dir: string;
  private readonly summaries = new Map<string, AnchorSetSummaryView>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'anchor-sets');
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(PARTIAL_PREFIX)) rmSync(join(this.dir, name), { force: true });
      else if (name.endsWith(SUMMARY_SUFFIX)) this.load(name.slice(0, -SUMMARY_SUFFIX.length));
    }
  }

  /** The summary of a stored set, or undefined. */
  summary(fingerprint: string): AnchorSetSummaryView | undefined {
    return this.summaries.get(fingerprint);
  }

  /**
   * Stores a set from its pieces (offsets contiguous from 0), verified when complete: exactly
   * `summary.size` bytes whose SHA-256 is `fingerprint`, then `check(encoding)` (read back whole:
   * the caller decodes it and compares it with the summary). INVALID_ARGUMENT for a gap, an overrun
   * or a mismatch, with nothing stored; a set stored before is stored again only when this
   * upload completes (the same bytes: the rename replaces a file by an identical one).
   */
  async store(fingerprint: string, summary: AnchorSetSummaryView, pieces: AsyncIterable<AnchorSetPiece>, check: (encoding: Uint8Array) => void): Promise<void> {
    if (summary.size > MAX_ANCHOR_SET_BYTES) throw new AggregatorError('resource_exhausted', `an anchor set of ${summary.size} bytes exceeds the limit of ${MAX_ANCHOR_SET_BYTES}`);
    const partial = join(this.dir, `${PARTIAL_PREFIX}${randomBytes(8).toString('hex')}`);
    const file = await open(partial, 'wx').catch((error: unknown) => {
      throw noRoomOr(error);
    });
    try {
      await receive(file, { fingerprint, size: summary.size }, pieces);
      await file.datasync();
      await file.close();
      check(await readFile(partial));
      const summaryPath = join(this.dir, `${fingerprint}${SUMMARY_SUFFIX}`);
      await writeFile(`${partial}${SUMMARY_SUFFIX}`, toBinary(AnchorSetSummarySchema, anchorSetSummaryMessage(summary)), { flush: true });
      // The data first, the summary last: a summary names only a complete set.
      await rename(partial, join(this.dir, fingerprint));
      await rename(`${partial}${SUMMARY_SUFFIX}`, summaryPath);
      await syncDirectory(this.dir);
      this.summaries.set(fingerprint, summary);
    } catch (error: unknown) {
      throw noRoomOr(error);
    } finally {
      await file.close().catch(() => undefined);
      await rm(partial, { force: true });
      await rm(`${partial}${SUMMARY_SUFFIX}`, { force: true });
    }
  }

  /**
   * The stored set's bytes from `offset` on, in pieces of at most `maxChunkBytes` (0: the default;
   * capped at MAX_ANCHOR_CHUNK_BYTES), read from disk one piece at a time. NOT_FOUND for a set not
   * stored, INVALID_ARGUMENT for an offset past its end.
   */
  async *read(fingerprint: string, offset: number, maxChunkBytes: number): AsyncGenerator<AnchorSetPiece> {
    const summary = this.summaries.get(fingerprint);
    if (summary === undefined) throw new AggregatorError('not_found', `anchor set ${fingerprint.slice(0, 16)}… is not stored`);
    if (offset > summary.size) throw new AggregatorError('invalid_argument', `offset ${offset} is past the anchor set's ${summary.size} bytes`);
    const piece = Math.min(maxChunkBytes === 0 ? DEFAULT_ANCHOR_CHUNK_BYTES : maxChunkBytes, MAX_ANCHOR_CHUNK_BYTES);
    const file = await open(join(this.dir, fingerprint), 'r');
    try {
      for (let at = offset; at < summary.size; ) {
        const data = Buffer.allocUnsafe(Math.min(piece, summary.size - at));
        const { bytesRead } = await file.read(data, 0, data.length, at);
        if (bytesRead !== data.length) throw new AggregatorError('internal', `anchor set ${fingerprint}: ${summary.size} bytes announced, the file ends at ${at + bytesRead}`);
        yield { offset: at, data };
        at += bytesRead;
      }
    } finally {
      await file.close();
    }
  }

  private load(fingerprint: string): void {
    try {
      const summary = anchorSetSummaryView(fromBinary(AnchorSetSummarySchema, readFileSync(join(this.dir, `${fingerprint}${SUMMARY_SUFFIX}`))));
      this.summaries.set(fingerprint, summary);
    } catch (error: unknown) {
      throw new AggregatorError('internal', `anchor set ${fingerprint}: unreadable summary: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Writes the pieces in order, hashing them; checks size and hash at the end. */
async function receive(file: FileHandle, expected: { fingerprint: string; size: number }, pieces: AsyncIterable<AnchorSetPiece>): Promise<void> {
  const hash = createHash('sha256');
  let received = 0;
  for await (const { offset, data } of pieces) {
    if (offset !== received) throw new AggregatorError('invalid_argument', `an anchor set chunk starts at byte ${offset}; ${received} expected`);
    if (received + data.byteLength > expected.size) {
      throw new AggregatorError('invalid_argument', `anchor set chunks exceed the announced ${expected.size} bytes`);
    }
    await file.write(data, 0, data.byteLength, received);
    hash.update(data);
    received += data.byteLength;
  }
  if (received !== expected.size) throw new AggregatorError('invalid_argument', `the anchor set ended after ${received} of the announced ${expected.size} bytes`);
  const actual = hash.digest('hex');
  if (actual !== expected.fingerprint) {
    throw new AggregatorError('invalid_argument', `the anchor set's SHA-256 is ${actual.slice(0, 16)}…, not the announced fingerprint ${expected.fingerprint.slice(0, 16)}…`);
  }
}

/** Makes the renames in `dir` durable (a directory's entries are written by fsync on the directory). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A full data dir is UNAVAILABLE (retryable once space is freed; nothing of the set stays), as for chunks; any other error as it is. */
function noRoomOr(error: unknown): unknown {
  return isStorageFull(error) ? new AggregatorError('unavailable', 'the data dir has no room for the anchor set: retry once space is freed', { cause: error }) : error;
}
