/**
 * IEEE-754 binary16 conversions (Node 20 has no Float16Array).
 * Encoding rounds to nearest, ties to even; decoding is exact (every half is a float32).
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Largest finite binary16 value. */
export const FLOAT16_MAX = 65504;

/**
 * float32 value → binary16 bits, round to nearest even. Values with |x| ≥ 65520 round to
 * ±Infinity (0x7c00), NaN stays NaN: callers that need finite output check for 0x7c00.
 */
export function float32ToFloat16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: m · 2^-24 with m = (1.mantissa · 2^23) >> (14 - e), rounded.
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const m = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (rest > half || (rest === half && (m & 1) === 1) ? m + 1 : m);
  }
  let h = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
  return h;
}

function float16BitsToNumber(h: number): number {
  const sign = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** All 65,536 halves as float32, so decoding is one table look-up per value. */
export const FLOAT16_TABLE: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h += 1) table[h] = float16BitsToNumber(h);
  return table;
})();

/** binary16 bits → number (exact). */
export function float16BitsToFloat32(bits: number): number {
  return FLOAT16_TABLE[bits & 0xffff] as number;
}
