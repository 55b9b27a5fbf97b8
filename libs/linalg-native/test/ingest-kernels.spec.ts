import { describe, expect, it } from 'vitest';
import { nativeCopyFiniteFloat32, nativeLinalgStatus } from '../src/index.ts';

const status = nativeLinalgStatus();
const why = status.available ? '' : status.reason;
/** CI builds the addon: there a missing one fails instead of skipping. */
const required = process.env['CI'] === 'true';

/** The JavaScript reference: the index of the first float32 whose exponent bits are all set, or -1. */
function firstNonFiniteReference(values: Float32Array): number {
  return values.findIndex((v) => !Number.isFinite(v));
}

/** `values`' bytes at byte offset `shift` of a larger buffer: an unaligned view for shift 1..3. */
function shifted(values: Float32Array, shift: number): Uint8Array {
  const bytes = new Uint8Array(values.byteLength + shift);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), shift);
  return bytes.subarray(shift);
}

describe.skipIf(!status.available && !required)(`nativeCopyFiniteFloat32${status.available ? '' : ` (skipped: ${why})`}`, () => {
  const copy = nativeCopyFiniteFloat32()!;

  it('copies bit for bit from any alignment into shared memory and finds the first NaN/±Inf as the JavaScript scan does', () => {
    // Lengths around the kernel's 1,024-value blocks; the bad value in the first block, the middle and the tail.
    for (const length of [1, 3, 1023, 1024, 1025, 5000]) {
      const values = Float32Array.from({ length }, (_, i) => (i % 7) * 0.37 - 1e30 * (i % 3));
      for (const badAt of [-1, 0, length - 1, Math.floor(length / 2)]) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const input = values.slice();
          if (badAt >= 0) input[badAt] = bad;
          for (const shift of [0, 1, 3]) {
            const dst = new Float32Array(new SharedArrayBuffer(4 * length));
            expect(copy(shifted(input, shift), dst, length)).toBe(firstNonFiniteReference(input));
            // A refused payload's copy may stop at the bad value's block: only a clean one must be whole.
            if (badAt < 0) expect(new Uint32Array(dst.buffer)).toEqual(new Uint32Array(input.buffer));
          }
        }
      }
    }
  });

  it('takes the largest finite floats and subnormals as finite, and NaN payloads of either sign as not', () => {
    const bits = Uint32Array.from([0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x00000000, 0x80000000, 0x7fc00001, 0xffffffff]);
    const values = new Float32Array(bits.buffer);
    expect(copy(new Uint8Array(bits.buffer), new Float32Array(8), 6)).toBe(-1);
    expect(copy(new Uint8Array(bits.buffer, 24), new Float32Array(2), 2)).toBe(0);
    expect(copy(new Uint8Array(bits.buffer, 28), new Float32Array(1), 1)).toBe(0);
    expect(firstNonFiniteReference(values)).toBe(6);
  });

  it('refuses counts that do not fit and an unaligned destination with coded RangeErrors', () => {
    const src = new Uint8Array(40);
    expect(() => copy(src, new Float32Array(9), 10)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_RLSA_NATIVE_SHAPE' }));
    expect(() => copy(src.subarray(4), new Float32Array(10), 10)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_RLSA_NATIVE_SHAPE' }));
    expect(() => copy(src, new Uint8Array(41).subarray(1), 10)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_RLSA_NATIVE_ARGUMENT' }));
    expect(() => copy({} as ArrayBufferView, new Float32Array(1), 1)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_RLSA_NATIVE_DTYPE' }));
    expect(copy(src, new Float32Array(0), 0)).toBe(-1);
  });
});
