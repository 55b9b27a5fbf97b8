import { SourceError } from '../errors.ts';
import { MAX_ANCHOR_SET_BYTES, sha256Hex } from './anchor-set-codec.ts';
import { fingerprintMismatch } from './anchor-set-fingerprint.ts';

/** One piece of an encoded anchor set: its bytes and where they start in the whole. */
export interface AnchorSetChunk {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * Cuts an encoded anchor set into chunks of at most `maxChunkBytes` (views, no copy), in order,
 * so each fits in one message under the transport's limit.
 */
export function chunkAnchorSet(encoded: Uint8Array, maxChunkBytes: number): AnchorSetChunk[] {
  if (!Number.isInteger(maxChunkBytes) || maxChunkBytes < 1) throw new SourceError('invalid_argument', `the chunk size must be a positive integer, got ${maxChunkBytes}`);
  const chunks: AnchorSetChunk[] = [];
  for (let offset = 0; offset < encoded.length; offset += maxChunkBytes) {
    chunks.push({ offset, bytes: encoded.subarray(offset, offset + maxChunkBytes) });
  }
  return chunks;
}

/** What a node knows of the set before fetching it: its size and fingerprint (from the run's config). */
export interface ExpectedAnchorSet {
  readonly size: number;
  readonly fingerprint: string;
}

/**
 * Puts chunks back together as they arrive, checking that each starts where the previous ended
 * and that the total stays within the announced size (the buffer is allocated once, from the
 * announced size, bounded by `MAX_ANCHOR_SET_BYTES`); `finish` checks the size and the
 * fingerprint. Every refusal names `source` (the aggregator, a file).
 */
export class AnchorSetAssembler {
  private readonly buffer: Uint8Array;
  private received = 0;

  constructor(
    private readonly expected: ExpectedAnchorSet,
    private readonly source: string,
  ) {
    if (!Number.isInteger(expected.size) || expected.size < 1 || expected.size > MAX_ANCHOR_SET_BYTES) {
      throw new SourceError('bad_format', `an anchor set of ${expected.size} bytes (1 to ${MAX_ANCHOR_SET_BYTES} allowed)`, { file: source });
    }
    this.buffer = new Uint8Array(expected.size);
  }

  add(chunk: AnchorSetChunk): void {
    if (chunk.offset !== this.received) {
      throw new SourceError('bad_format', `an anchor set chunk starts at byte ${chunk.offset}, ${this.received} expected`, { file: this.source });
    }
    if (chunk.bytes.length === 0 || this.received + chunk.bytes.length > this.expected.size) {
      throw new SourceError('bad_format', `an anchor set chunk of ${chunk.bytes.length} bytes at ${chunk.offset} does not fit in the announced ${this.expected.size}`, {
        file: this.source,
      });
    }
    this.buffer.set(chunk.bytes, this.received);
    this.received += chunk.bytes.length;
  }

  /** The whole encoded set, once complete and matching the fingerprint (`failed_precondition` otherwise). */
  finish(): Uint8Array {
    if (this.received !== this.expected.size) {
      throw new SourceError('bad_format', `the anchor set ended after ${this.received} of ${this.expected.size} bytes`, { file: this.source });
    }
    const actual = sha256Hex(this.buffer);
    if (actual !== this.expected.fingerprint) throw fingerprintMismatch(actual, this.expected.fingerprint, this.source);
    return this.buffer;
  }
}

/** `AnchorSetAssembler` over chunks already at hand. */
export function reassembleAnchorSet(chunks: Iterable<AnchorSetChunk>, expected: ExpectedAnchorSet, source: string): Uint8Array {
  const assembler = new AnchorSetAssembler(expected, source);
  for (const chunk of chunks) assembler.add(chunk);
  return assembler.finish();
}
