import { create } from '@bufbuild/protobuf';
import { Encoding, MatrixSchema } from '@rlsa/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLOAT16_RELATIVE_ERROR,
  decodeMatrix,
  encodeMatrix,
  float16ErrorBound,
  int8ErrorBound,
} from '../src/index.ts';
import { float32ToFloat16Bits } from '@rlsa/core';

function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  // Small LCG: deterministic values in [-scale, scale).
  let state = seed >>> 0;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

describe('float16 bits', () => {
  it('matches IEEE binary16 for known values (round to nearest even)', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(1 / 3)).toBe(0x3555);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to Infinity
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
  });
});

describe('encodeMatrix / decodeMatrix', () => {
  it('float32 round trips exactly', () => {
    const data = randomMatrix(7, 5, 1, 3);
    const decoded = decodeMatrix(encodeMatrix({ rows: 7, cols: 5, data }, 'float32'));
    expect(decoded.rows).toBe(7);
    expect(decoded.cols).toBe(5);
    expect(Array.from(decoded.data)).toEqual(Array.from(data));
  });

  it('float16 round trip stays within the stated bound (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -60000, max: 60000, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 }), (values) => {
        const data = Float32Array.from(values);
        const decoded = decodeMatrix(encodeMatrix({ rows: 1, cols: data.length, data }, 'float16'));
        for (let i = 0; i < data.length; i += 1) {
          expect(Math.abs((decoded.data[i] as number) - (data[i] as number))).toBeLessThanOrEqual(float16ErrorBound(data[i] as number));
        }
      }),
    );
  });

  it('float16 error on cosine-like values is at most 2^-11 relative', () => {
    const data = randomMatrix(32, 64, 7);
    const decoded = decodeMatrix(encodeMatrix({ rows: 32, cols: 64, data }, 'float16'));
    let worst = 0;
    for (let i = 0; i < data.length; i += 1) {
      const x = data[i] as number;
      if (Math.abs(x) >= 2 ** -14) worst = Math.max(worst, Math.abs((decoded.data[i] as number) - x) / Math.abs(x));
    }
    expect(worst).toBeLessThanOrEqual(FLOAT16_RELATIVE_ERROR);
    expect(worst).toBeGreaterThan(FLOAT16_RELATIVE_ERROR / 4); // the bound is tight, not vacuous
  });

  it('int8 round trip stays within max|row|/254 per element', () => {
    const rows = 16;
    const cols = 100;
    const data = randomMatrix(rows, cols, 3, 5);
    data.fill(0, 2 * cols, 3 * cols); // an all-zero row decodes to zeros
    const wire = encodeMatrix({ rows, cols, data }, 'int8');
    expect(wire.data.byteLength).toBe(rows * cols);
    expect(wire.rowScales.byteLength).toBe(rows * 4);
    const decoded = decodeMatrix(wire);
    for (let r = 0; r < rows; r += 1) {
      let maxAbs = 0;
      for (let c = 0; c < cols; c += 1) maxAbs = Math.max(maxAbs, Math.abs(data[r * cols + c] as number));
      for (let c = 0; c < cols; c += 1) {
        const i = r * cols + c;
        expect(Math.abs((decoded.data[i] as number) - (data[i] as number))).toBeLessThanOrEqual(int8ErrorBound(maxAbs));
      }
    }
    expect(Array.from(decoded.data.subarray(2 * cols, 3 * cols)).every((v) => v === 0)).toBe(true);
  });

  it('refuses NaN, Inf, values too large for float16 and wrong lengths when encoding', () => {
    expect(() => encodeMatrix({ rows: 1, cols: 2, data: Float32Array.of(1, Number.NaN) })).toThrow(expect.objectContaining({ code: 'non_finite' }));
    expect(() => encodeMatrix({ rows: 1, cols: 1, data: Float32Array.of(Number.POSITIVE_INFINITY) }, 'int8')).toThrow(
      expect.objectContaining({ code: 'non_finite' }),
    );
    expect(() => encodeMatrix({ rows: 1, cols: 1, data: Float32Array.of(70000) }, 'float16')).toThrow(expect.objectContaining({ code: 'too_large' }));
    expect(() => encodeMatrix({ rows: 2, cols: 2, data: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'shape_mismatch' }));
  });

  it('with checkFinite: false sends float32 NaN/±Inf bit for bit (the receiver checks), and float16 and int8 still refuse them', () => {
    const data = Float32Array.of(1, Number.NaN, Number.NEGATIVE_INFINITY, 2);
    const wire = encodeMatrix({ rows: 2, cols: 2, data }, 'float32', { checkFinite: false });
    expect(Array.from(new Uint32Array(wire.data.slice().buffer))).toEqual(Array.from(new Uint32Array(data.buffer)));
    expect(() => decodeMatrix(wire)).toThrow(expect.objectContaining({ code: 'non_finite', message: expect.stringContaining('row 0, column 1') }));
    expect(() => encodeMatrix({ rows: 2, cols: 2, data }, 'float16', { checkFinite: false })).toThrow(expect.objectContaining({ code: 'non_finite' }));
    expect(() => encodeMatrix({ rows: 2, cols: 2, data }, 'int8', { checkFinite: false })).toThrow(expect.objectContaining({ code: 'non_finite' }));
  });

  it('names the exact row and column of a NaN or ±Inf at every position (the check reads four values at a time)', () => {
    const rows = 3;
    const cols = 5;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (let at = 0; at < rows * cols; at += 1) {
        const data = randomMatrix(rows, cols, at + 1);
        data[at] = bad;
        if (at + 2 < data.length) data[at + 2] = Number.NaN; // a later one must not be reported first
        const wire = create(MatrixSchema, { rows, cols, encoding: Encoding.FLOAT32, data: new Uint8Array(data.buffer) });
        expect(() => decodeMatrix(wire)).toThrow(`value at row ${Math.floor(at / cols)}, column ${at % cols} is ${bad}`);
        expect(() => encodeMatrix({ rows, cols, data })).toThrow(`value at index ${at} is ${bad}`);
      }
    }
    // The largest finite values, -0 and subnormals are finite.
    const edge = Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38, -0, 1e-45, -1e-45);
    expect(decodeMatrix(encodeMatrix({ rows: 1, cols: 5, data: edge })).data).toEqual(edge);
  });

  it('checks the values as decoded, after the arithmetic, for every encoding, naming the row and column', () => {
    // int8: every byte and every scale finite, the product q·scale past float32's largest value.
    const maxFloat32 = 3.4028234663852886e38;
    const scales = Float32Array.of(1, maxFloat32 / 100);
    const q = Int8Array.of(1, -1, 5, 127, -3, 0);
    expect(Number.isFinite(scales[1] as number)).toBe(true);
    const int8 = create(MatrixSchema, { rows: 2, cols: 3, encoding: Encoding.INT8, data: new Uint8Array(q.buffer), rowScales: new Uint8Array(scales.buffer) });
    expect(() => decodeMatrix(int8)).toThrow(expect.objectContaining({ code: 'non_finite', message: 'int8 value at row 1, column 0 is Infinity as decoded' }));
    // -127 · scale: -Inf.
    const negative = create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.INT8, data: new Uint8Array(Int8Array.of(0, -127).buffer), rowScales: new Uint8Array(Float32Array.of(maxFloat32 / 64).buffer) });
    expect(() => decodeMatrix(negative)).toThrow('int8 value at row 0, column 1 is -Infinity as decoded');
    // A product just under float32's largest value is accepted, as it is.
    const fits = create(MatrixSchema, { rows: 1, cols: 1, encoding: Encoding.INT8, data: new Uint8Array(Int8Array.of(127).buffer), rowScales: new Uint8Array(Float32Array.of(maxFloat32 / 128).buffer) });
    expect(decodeMatrix(fits).data[0]).toBe(Math.fround(127 * Math.fround(maxFloat32 / 128)));
    // float16: every Inf and NaN bit pattern (exponent all ones), either sign, at the position it is.
    for (const bits of [0x7c00, 0xfc00, 0x7c01, 0x7e00, 0xffff]) {
      const halves = Uint16Array.of(0x3c00, 0x3c00, 0x3c00, bits);
      const wire = create(MatrixSchema, { rows: 2, cols: 2, encoding: Encoding.FLOAT16, data: new Uint8Array(halves.buffer) });
      expect(() => decodeMatrix(wire)).toThrow(expect.objectContaining({ code: 'non_finite', message: expect.stringContaining('float16 value at row 1, column 1 is') }));
    }
    // float32: NaN and ±Inf sent as such.
    const nan = create(MatrixSchema, { rows: 1, cols: 3, encoding: Encoding.FLOAT32, data: new Uint8Array(Float32Array.of(0, 0, Number.NaN).buffer) });
    expect(() => decodeMatrix(nan)).toThrow('float32 value at row 0, column 2 is NaN as decoded');
    // Into a scratch buffer too (the ingest's pooled buffers).
    expect(() => decodeMatrix(int8, { scratch: new Float32Array(6) })).toThrow(expect.objectContaining({ code: 'non_finite' }));
  });

  it('validates wire matrices: length, encoding, non-finite values and scales, expected width', () => {
    const nanBytes = new Uint8Array(Float32Array.of(1, Number.NaN).buffer);
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.FLOAT32, data: nanBytes }))).toThrow(
      expect.objectContaining({ code: 'non_finite' }),
    );
    const infHalf = new Uint8Array(Uint16Array.of(0x3c00, 0x7c00).buffer);
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.FLOAT16, data: infHalf }))).toThrow(
      expect.objectContaining({ code: 'non_finite' }),
    );
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.FLOAT32, data: new Uint8Array(7) }))).toThrow(
      expect.objectContaining({ code: 'shape_mismatch' }),
    );
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.UNSPECIFIED, data: new Uint8Array(8) }))).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(() =>
      decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.INT8, data: new Uint8Array(2), rowScales: new Uint8Array(Float32Array.of(Number.NaN).buffer) })),
    ).toThrow(expect.objectContaining({ code: 'non_finite' }));
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.INT8, data: new Uint8Array(2) }))).toThrow(
      expect.objectContaining({ code: 'shape_mismatch' }),
    );
    expect(() => decodeMatrix(create(MatrixSchema, { rows: 1, cols: 2, encoding: Encoding.FLOAT32, data: new Uint8Array(8) }), { expectedCols: 3 })).toThrow(
      expect.objectContaining({ code: 'shape_mismatch' }),
    );
  });

  it('decodes into a caller scratch buffer when given one (same values, no allocation)', () => {
    const data = randomMatrix(3, 4, 9);
    const scratch = new Float32Array(20).fill(7);
    for (const encoding of ['float32', 'float16', 'int8'] as const) {
      const wire = encodeMatrix({ rows: 3, cols: 4, data }, encoding);
      const decoded = decodeMatrix(wire, { scratch });
      expect(decoded.data.buffer).toBe(scratch.buffer);
      expect(Array.from(decoded.data)).toEqual(Array.from(decodeMatrix(wire).data));
      expect(scratch[12]).toBe(7); // nothing written past rows × cols
    }
  });

  it('copies unaligned bytes before viewing them as floats', () => {
    const values = Float32Array.of(1.5, -2.25, 3.125);
    const backing = new Uint8Array(13);
    backing.set(new Uint8Array(values.buffer), 1); // byteOffset 1: not 4-aligned
    const wire = create(MatrixSchema, { rows: 1, cols: 3, encoding: Encoding.FLOAT32, data: backing.subarray(1) });
    expect(Array.from(decodeMatrix(wire).data)).toEqual([1.5, -2.25, 3.125]);
  });
});
