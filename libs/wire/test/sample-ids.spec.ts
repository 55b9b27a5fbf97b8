import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SAMPLE_ID, sampleIdBytes, sampleIdOf, sampleIdWords, sampleIdsFromBytes, toBuiltinIds, toSampleId, toSampleIds } from '../src/sample-ids.ts';

/** The little-endian bytes of `ids`, written one by one with DataView (an independent encoder). */
function littleEndian(ids: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ids.length * 8);
  const view = new DataView(out.buffer);
  ids.forEach((id, i) => view.setBigUint64(i * 8, id, true));
  return out;
}

describe('sample id columns', () => {
  it('are the little-endian uint64 bytes of the ids, both ways, at any alignment', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: MAX_SAMPLE_ID }), { maxLength: 50 }), fc.integer({ min: 0, max: 7 }), (ids, shift) => {
        const expected = littleEndian(ids);
        expect([...sampleIdBytes(BigUint64Array.from(ids))]).toEqual([...expected]);
        // The column as it sits in a received message: `shift` bytes into a buffer.
        const message = new Uint8Array(expected.length + shift);
        message.set(expected, shift);
        const column = message.subarray(shift);
        const read = sampleIdsFromBytes(column);
        expect([...read]).toEqual(ids);
        // Aligned: a view of the message's memory; unaligned: a copy.
        expect(read.buffer === message.buffer).toBe(shift === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a column that is not a whole number of ids', () => {
    expect(() => sampleIdsFromBytes(new Uint8Array(12))).toThrow(expect.objectContaining({ code: 'shape_mismatch' }));
  });

  it('gives each id as its two 32-bit halves, viewing the same memory', () => {
    const ids = BigUint64Array.from([0n, 1n, 2n ** 32n, 2n ** 53n + 1n, MAX_SAMPLE_ID]);
    const words = sampleIdWords(ids);
    expect(words.buffer).toBe(ids.buffer);
    for (let i = 0; i < ids.length; i += 1) {
      expect(sampleIdOf(words[2 * i] as number, words[2 * i + 1] as number)).toBe(ids[i]);
      expect(BigInt(words[2 * i] as number)).toBe((ids[i] as bigint) & 0xffffffffn);
      expect(BigInt(words[2 * i + 1] as number)).toBe((ids[i] as bigint) >> 32n);
    }
  });

  it('widens 32-bit ids once and passes 64-bit ones through', () => {
    const built = Uint32Array.from([0, 7, 1_000_000, 0xffffffff]);
    expect([...toSampleIds(built)]).toEqual([0n, 7n, 1_000_000n, 0xffffffffn]);
    const wide = BigUint64Array.from([2n ** 60n]);
    expect(toSampleIds(wide)).toBe(wide);
    expect([...toSampleIds([5n, MAX_SAMPLE_ID])]).toEqual([5n, MAX_SAMPLE_ID]);
  });

  it("narrows a built-in data set's ids back to 32 bits, refusing any id of 2^32 or more", () => {
    const built = Uint32Array.from([0, 7, 1_000_000, 0xffffffff]);
    expect(toBuiltinIds(toSampleIds(built))).toEqual(built);
    expect(() => toBuiltinIds(BigUint64Array.from([1n, 2n ** 32n]))).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringMatching(/4294967296 at row 1/) }));
  });

  // Moved from upload-chunk-encoder.spec.ts (the encoder took number ids then): ids out of range are refused.
  it('refuses ids that are not integers in [0, 2^64)', () => {
    for (const id of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => toSampleId(id)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    for (const id of [-1n, 2n ** 64n]) {
      expect(() => toSampleId(id)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
      expect(() => toSampleIds([id])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
    expect(toSampleId(2 ** 53 - 1)).toBe(2n ** 53n - 1n);
  });
});
