import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnchorSetAssembler, chunkAnchorSet, reassembleAnchorSet, sha256Hex } from '../../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const encoded = new Uint8Array(readFileSync(path.join(FIXTURES, 'anchors/images.rlsa')));
const expected = { size: encoded.length, fingerprint: sha256Hex(encoded) };

describe('chunkAnchorSet and reassembleAnchorSet', () => {
  it('cut into chunks under the limit and put back together give the same bytes, for any limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: encoded.length + 10 }), (limit) => {
        const chunks = chunkAnchorSet(encoded, limit);
        expect(chunks.every((c) => c.bytes.length <= limit && c.bytes.length > 0)).toBe(true);
        expect(chunks.length).toBe(Math.ceil(encoded.length / limit));
        expect(reassembleAnchorSet(chunks, expected, 'aggregator')).toEqual(encoded);
      }),
    );
  });

  it('refuse a chunk out of order, a repeated one, one past the announced size, and an incomplete set (bad_format)', () => {
    const chunks = chunkAnchorSet(encoded, 100);
    const refusals = [
      [chunks[1]!, chunks[0]!],
      [chunks[0]!, chunks[0]!],
      [...chunks, { offset: encoded.length, bytes: Uint8Array.of(1) }],
      chunks.slice(0, -1),
    ];
    for (const sequence of refusals) {
      expect(() => reassembleAnchorSet(sequence, expected, 'aggregator')).toThrow(expect.objectContaining({ code: 'bad_format', file: 'aggregator' }));
    }
  });

  it('refuse a set whose bytes do not hash to the fingerprint (failed_precondition)', () => {
    const tampered = Uint8Array.from(encoded);
    tampered[500]! ^= 1;
    expect(() => reassembleAnchorSet(chunkAnchorSet(tampered, 256), expected, 'aggregator')).toThrow(expect.objectContaining({ code: 'failed_precondition' }));
  });

  it('bound the buffer by the announced size before any chunk arrives', () => {
    expect(() => new AnchorSetAssembler({ size: 2 ** 31, fingerprint: expected.fingerprint }, 'aggregator')).toThrow(expect.objectContaining({ code: 'bad_format' }));
    expect(() => chunkAnchorSet(encoded, 0)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
