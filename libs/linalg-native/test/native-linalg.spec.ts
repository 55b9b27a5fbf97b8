import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsLinalg, linearCka, LinearCkaAccumulator, randomFloat, relativeProjection, RlsaError, seededRng, type Matrix } from '@rlsa/core';
import { loadAddon } from '../src/addon.ts';
import { NativeLinalg, nativeLinalgStatus, SIMD_LEVELS, type SimdLevel } from '../src/index.ts';

/**
 * Relative tolerance of float32 results (the core's FLOAT32_TOLERANCE): |got − want| ≤ 1e-5 · max(|want|, floor).
 * For products, the floor is √k, the typical size of a k-term dot product of values uniform in
 * [-1, 1): an entry near 0 still carries the rounding of its k float32 terms (~√k·2⁻²⁴ each).
 */
const FLOAT32_TOLERANCE = 1e-5;

const status = nativeLinalgStatus();
const available = status.available;
const why = status.available ? '' : status.reason;

// Under CI the addon must have been built by `npm ci`: a missing addon is a failure there, not a skip.
describe.runIf(!available && process.env['CI'] === 'true')('@rlsa/linalg-native under CI', () => {
  it('has a built addon', () => {
    expect.fail(`@rlsa/linalg-native is unavailable under CI=true, so its kernels were not tested: ${why}`);
  });
});

const fixtureDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rlsa-core/test/fixtures');
const readFixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as T;

function randomMatrix(rows: number, cols: number, seed: number, type: 'f32' | 'f64' = 'f32'): Matrix {
  // Uniform values in [-1, 1) from the project's seeded generator, reproducible per seed.
  const rng = seededRng(seed);
  const data = type === 'f32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = 2 * randomFloat(rng) - 1;
  return { rows, cols, data };
}

function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, floor = 1): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const bound = rtol * Math.max(Math.abs(want[i]!), floor);
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) expect.fail(`element ${i}: ${got[i]} is not within ${bound} of ${want[i]}`);
  }
}

function rlsaError(fn: () => unknown): RlsaError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RlsaError);
    return error as RlsaError;
  }
  return expect.fail('expected an RlsaError');
}

/** The float32 block the core builds for cosine: ((x − shift)·scale) in float64, rounded once. */
function preparedRows(x: Matrix, shift: Float64Array | null, scale: Float64Array | null): Matrix {
  const out = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++)
    for (let c = 0; c < x.cols; c++) out[i * x.cols + c] = (x.data[i * x.cols + c]! - (shift ? shift[c]! : 0)) * (scale ? scale[i]! : 1);
  return { rows: x.rows, cols: x.cols, data: out };
}

function shifted(x: Matrix, shift: Float64Array): Matrix {
  const out = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.data.length; i++) out[i] = x.data[i]! - shift[i % x.cols]!;
  return { rows: x.rows, cols: x.cols, data: out };
}

/** Levels this CPU can run: on an AVX-512 machine every path (AVX-512, AVX2+FMA, portable) is tested. */
const levels: SimdLevel[] = status.available ? SIMD_LEVELS.slice(0, SIMD_LEVELS.indexOf(status.cpuLevel) + 1) : [];

/** Shapes around the micro-kernel sizes (12×32, 6×16, 4×8), the 256-row reduction blocks and the thread split. */
const ABT_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 1],
  [13, 33, 7],
  [37, 19, 300],
  [97, 61, 257],
  [131, 67, 513],
  [301, 101, 263], // 8·10⁶ multiply-adds: two threads
];
const ATB_SHAPES: [number, number, number][] = [
  // [rows (reduced), cols of A, cols of B]
  [1, 1, 1],
  [3, 2, 5],
  [255, 13, 33],
  [256, 37, 19],
  [257, 61, 97],
  [1037, 71, 33],
  [2 * 256 * 2 + 3, 131, 67], // several blocks per thread
];

describe.skipIf(!available)(`NativeLinalg${available ? '' : ` (skipped: ${why})`}`, () => {
  for (const level of levels) {
    describe(`${level} kernels`, () => {
      const one = new NativeLinalg({ level, threads: 1 });
      const two = new NativeLinalg({ level, threads: 2 });

      it('matmulABt equals jsLinalg on odd shapes, float32 and float64 inputs, 1 and 2 threads', () => {
        for (const [m, n, k] of ABT_SHAPES) {
          for (const type of ['f32', 'f64'] as const) {
            const a = randomMatrix(m, k, m + 3 * k, type);
            const b = randomMatrix(n, k, n + 7 * k, type);
            const want = jsLinalg.matmulABt(a, b);
            for (const linalg of [one, two]) {
              const got = linalg.matmulABt(a, b);
              expect([got.rows, got.cols]).toEqual([m, n]);
              expect(got.data).toBeInstanceOf(Float32Array);
              expectAllClose(got.data, want.data, FLOAT32_TOLERANCE, Math.sqrt(k));
            }
          }
        }
      });

      it('matmulAtB equals jsLinalg across reduction blocks and thread splits, float64 result', () => {
        for (const [m, k, n] of ATB_SHAPES) {
          const a = randomMatrix(m, k, m + k);
          const b = randomMatrix(m, n, 5 * m + n, 'f64');
          const want = jsLinalg.matmulAtB(a, b);
          for (const linalg of [one, two]) {
            const got = linalg.matmulAtB(a, b);
            expect([got.rows, got.cols]).toEqual([k, n]);
            expect(got.data).toBeInstanceOf(Float64Array);
            expectAllClose(got.data, want.data, FLOAT32_TOLERANCE, Math.sqrt(m));
          }
        }
      });

      it('the symmetric AᵀA path equals the general path on a copy (same array, or a view of the same bytes)', () => {
        for (const [m, k] of [
          [1, 1],
          [300, 45],
          [1037, 71],
        ] as const) {
          const a = randomMatrix(m, k, 2 * m + k);
          const copy: Matrix = { rows: m, cols: k, data: Float32Array.from(a.data) };
          const general = two.matmulAtB(a, copy);
          expect(two.matmulAtB(a, a).data).toEqual(general.data);
          const view: Matrix = { rows: m, cols: k, data: a.data.subarray(0) };
          expect(two.matmulAtB(a, view).data).toEqual(general.data);
          // Symmetric exactly, and equal to the float64 reference within float32 accuracy.
          const sym = two.matmulAtB(a, a).data;
          for (let p = 0; p < k; p++) for (let q = 0; q < p; q++) expect(sym[p * k + q]).toBe(sym[q * k + p]);
          expectAllClose(sym, jsLinalg.matmulAtB(a, a).data, FLOAT32_TOLERANCE, Math.sqrt(m));
        }
      });

      it('matmulAtB sums blocks of rows in float64 (2²⁰ rows of 0.1f: a float32 sum drifts by > 1e-3)', () => {
        const m = 1 << 20;
        const a: Matrix = { rows: m, cols: 1, data: new Float32Array(m).fill(0.1) };
        const b: Matrix = { rows: m, cols: 2, data: new Float32Array(2 * m).fill(1) };
        const exact = m * Math.fround(0.1);
        let float32Sum = 0;
        for (let i = 0; i < m; i++) float32Sum = Math.fround(float32Sum + Math.fround(0.1));
        // A float32 sum of all rows is off by > 1e-3; float32 within 256-row blocks then float64 by ~1e-6.
        expect(Math.abs(float32Sum - exact) / exact).toBeGreaterThan(1e-3);
        for (const v of two.matmulAtB(a, b).data) expect(Math.abs(v - exact) / exact).toBeLessThan(FLOAT32_TOLERANCE);
        const exactSquares = m * Math.fround(0.1) * Math.fround(0.1);
        expect(Math.abs(two.matmulAtB(a, a).data[0]! - exactSquares) / exactSquares).toBeLessThan(FLOAT32_TOLERANCE);
      });

      it('matmulABtInto shifts, scales, clamps and writes only its window of a larger buffer', () => {
        const x = randomMatrix(53, 37, 1);
        const anchors = randomMatrix(29, 37, 2);
        const shift = Float64Array.from({ length: 37 }, (_, c) => 0.01 * c - 0.2);
        const scale = Float64Array.from({ length: 53 }, (_, i) => 0.5 + i / 53);
        const big = new Float32Array(60 * 29).fill(7);
        const window = big.subarray(3 * 29, 56 * 29);
        two.matmulABtInto(x, anchors, window, { aShift: shift, aScale: scale, clamp: [-0.25, 0.25] });
        const want = jsLinalg.matmulABt(preparedRows(x, shift, scale), anchors).data.map((v) => Math.min(0.25, Math.max(-0.25, v)));
        expectAllClose(window, want, FLOAT32_TOLERANCE, Math.sqrt(37));
        expect(big.subarray(0, 3 * 29).every((v) => v === 7)).toBe(true);
        expect(big.subarray(56 * 29).every((v) => v === 7)).toBe(true);
        // A reduction longer than one packed block (k = 600 > 512): the clamp applies to the final sums.
        const xl = randomMatrix(40, 600, 3);
        const al = randomMatrix(35, 600, 4);
        const scaleL = Float64Array.from({ length: 40 }, () => 0.05);
        const outL = new Float32Array(40 * 35);
        two.matmulABtInto(xl, al, outL, { aScale: scaleL, clamp: [-0.5, 0.5] });
        const wantL = jsLinalg.matmulABt(preparedRows(xl, null, scaleL), al).data.map((v) => Math.min(0.5, Math.max(-0.5, v)));
        expect(wantL.some((v) => Math.abs(v) === 0.5)).toBe(true);
        expectAllClose(outL, wantL, FLOAT32_TOLERANCE, Math.sqrt(600));
        // Without options it is matmulABt, written in place.
        const plain = new Float32Array(53 * 29);
        two.matmulABtInto(x, anchors, plain);
        expectAllClose(plain, jsLinalg.matmulABt(x, anchors).data, FLOAT32_TOLERANCE, Math.sqrt(37));
      });

      it('columnSums sums (shifted, float32-rounded for float32 data) columns in float64, odd shapes, 1 and 2 threads', () => {
        for (const [m, k] of [
          [1, 1],
          [3, 7],
          [257, 33],
          [9001, 515], // 4.6·10⁶ values: two threads
        ] as const) {
          for (const type of ['f32', 'f64'] as const) {
            const a = randomMatrix(m, k, m * 3 + k, type);
            const shift = Float64Array.from({ length: k }, (_, c) => 0.1 * Math.sin(c));
            for (const s of [null, shift]) {
              const want = new Float64Array(k);
              for (let i = 0; i < m; i++) {
                for (let c = 0; c < k; c++) {
                  const v = a.data[i * k + c]! - (s ? s[c]! : 0);
                  want[c]! += type === 'f32' ? Math.fround(v) : v;
                }
              }
              for (const linalg of [one, two]) expectAllClose(linalg.columnSums(a, s), want, 1e-12);
            }
          }
        }
      });

      it('accumulateAtB adds the centred product into an existing accumulator (symmetric and general)', () => {
        const x = randomMatrix(700, 23, 3);
        const y = randomMatrix(700, 17, 4, 'f64');
        const sx = Float64Array.from({ length: 23 }, (_, c) => 0.1 - 0.01 * c);
        const sy = Float64Array.from({ length: 17 }, (_, c) => -0.05 + 0.02 * c);
        const acc = new Float64Array(23 * 17).fill(1);
        two.accumulateAtB(x, sx, y, sy, acc);
        const want = jsLinalg.matmulAtB(shifted(x, sx), shifted(y, sy)).data.map((v) => v + 1);
        expectAllClose(acc, want, FLOAT32_TOLERANCE, Math.sqrt(700));
        const accXX = new Float64Array(23 * 23);
        two.accumulateAtB(x, sx, x, Float64Array.from(sx), accXX); // equal shifts, different arrays: still symmetric
        expectAllClose(accXX, jsLinalg.matmulAtB(shifted(x, sx), shifted(x, sx)).data, FLOAT32_TOLERANCE, Math.sqrt(700));
      });
    });
  }

  // Describe bodies run even when skipped: construct only when the addon is there.
  const native = available ? new NativeLinalg({ threads: 2 }) : (undefined as unknown as NativeLinalg);

  it('defaults to the best level of this CPU and can be forced to a lower one (option or RLSA_NATIVE_SIMD)', () => {
    expect(native.level).toBe(status.available ? status.cpuLevel : 'portable');
    expect(new NativeLinalg({}, { RLSA_NATIVE_SIMD: 'portable' }).level).toBe('portable');
    expect(new NativeLinalg({ level: 'portable' }, { RLSA_NATIVE_SIMD: 'avx512' }).level).toBe('portable');
    expect(new NativeLinalg({}, { RLSA_NATIVE_THREADS: '1' }).threads).toBe(1);
  });

  it('handles empty products', () => {
    expect(native.matmulABt(randomMatrix(0, 5, 1), randomMatrix(3, 5, 2))).toEqual({ rows: 0, cols: 3, data: new Float32Array(0) });
    expect(native.matmulABt(randomMatrix(4, 5, 1), randomMatrix(0, 5, 2))).toEqual({ rows: 4, cols: 0, data: new Float32Array(0) });
    expect(native.matmulABt(randomMatrix(4, 0, 1), randomMatrix(3, 0, 2))).toEqual({ rows: 4, cols: 3, data: new Float32Array(12) });
    expect(native.matmulAtB(randomMatrix(0, 4, 1), randomMatrix(0, 3, 2))).toEqual({ rows: 4, cols: 3, data: new Float64Array(12) });
    expect(native.matmulAtB(randomMatrix(5, 0, 1), randomMatrix(5, 3, 2))).toEqual({ rows: 0, cols: 3, data: new Float64Array(0) });
  });

  it('does not mutate its inputs', () => {
    const a = randomMatrix(40, 30, 1);
    const b = randomMatrix(40, 20, 2);
    const [a0, b0] = [Float32Array.from(a.data), Float32Array.from(b.data)];
    native.matmulAtB(a, b);
    native.matmulABt(a, randomMatrix(7, 30, 3));
    native.accumulateAtB(a, new Float64Array(30).fill(0.5), b, null, new Float64Array(600));
    expect(a.data).toEqual(a0);
    expect(b.data).toEqual(b0);
  });

  it('refuses bad input with a coded RlsaError, not a crash', () => {
    expect(rlsaError(() => native.matmulABt(randomMatrix(3, 4, 1), randomMatrix(3, 5, 2))).code).toBe('shape_mismatch');
    expect(rlsaError(() => native.matmulAtB(randomMatrix(3, 4, 1), randomMatrix(4, 4, 2))).code).toBe('shape_mismatch');
    expect(rlsaError(() => native.matmulABt({ rows: 2, cols: 2, data: new Int32Array(4) as unknown as Float32Array }, randomMatrix(2, 2, 1))).code).toBe(
      'invalid_argument',
    );
    expect(rlsaError(() => native.matmulABt({ rows: 2, cols: 3, data: new Float32Array(5) }, randomMatrix(2, 3, 1))).code).toBe('shape_mismatch');
    expect(rlsaError(() => native.matmulABtInto(randomMatrix(2, 3, 1), randomMatrix(4, 3, 2), new Float32Array(7))).code).toBe('shape_mismatch');
    expect(rlsaError(() => native.matmulABtInto(randomMatrix(2, 3, 1), randomMatrix(4, 3, 2), new Float32Array(8), { aScale: new Float64Array(3) })).code).toBe(
      'shape_mismatch',
    );
    expect(rlsaError(() => native.matmulABtInto(randomMatrix(2, 3, 1), randomMatrix(4, 3, 2), new Float32Array(8), { clamp: [1, -1] })).code).toBe(
      'invalid_argument',
    );
    expect(rlsaError(() => native.accumulateAtB(randomMatrix(5, 3, 1), null, randomMatrix(5, 2, 2), null, new Float64Array(5))).code).toBe('shape_mismatch');
    expect(rlsaError(() => native.columnSums(randomMatrix(5, 3, 1), new Float64Array(2))).code).toBe('shape_mismatch');
    expect(rlsaError(() => new NativeLinalg({ level: 'sse9' as SimdLevel })).code).toBe('invalid_argument');
    expect(rlsaError(() => new NativeLinalg({ threads: 0 })).code).toBe('invalid_argument');
  });

  it('the addon itself checks its arguments and throws errors with ERR_RLSA_NATIVE_* codes', () => {
    const addon = loadAddon().addon!;
    const f32 = new Float32Array(6);
    const out = new Float32Array(4);
    const codeOf = (fn: () => void): unknown => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
      return 'no error';
    };
    expect(codeOf(() => addon.gemmAbt(new Int32Array(6) as unknown as Float32Array, 2, 3, f32, 2, out, null, null, null, null, 1, 'portable'))).toBe(
      'ERR_RLSA_NATIVE_DTYPE',
    );
    expect(codeOf(() => addon.gemmAbt(f32, 2, 3, f32, 2, new Float64Array(4) as unknown as Float32Array, null, null, null, null, 1, 'portable'))).toBe(
      'ERR_RLSA_NATIVE_DTYPE',
    );
    expect(codeOf(() => addon.gemmAbt(f32, 2, 4, f32, 2, out, null, null, null, null, 1, 'portable'))).toBe('ERR_RLSA_NATIVE_SHAPE');
    expect(codeOf(() => addon.gemmAbt(f32, -1, 3, f32, 2, out, null, null, null, null, 1, 'portable'))).toBe('ERR_RLSA_NATIVE_ARGUMENT');
    expect(codeOf(() => addon.gemmAbt(f32, 2, 3, f32, 2, out, null, null, 0, null, 1, 'portable'))).toBe('ERR_RLSA_NATIVE_ARGUMENT');
    expect(codeOf(() => addon.gemmAbt(f32, 2, 3, f32, 2, out, null, null, null, null, 0, 'portable'))).toBe('ERR_RLSA_NATIVE_ARGUMENT');
    expect(codeOf(() => addon.gemmAbt(f32, 2, 3, f32, 2, out, null, null, null, null, 1, 'mmx' as SimdLevel))).toBe('ERR_RLSA_NATIVE_LEVEL');
    expect(codeOf(() => addon.gemmAtb(f32, 2, 3, Float32Array.from(f32), 3, new Float64Array(9), null, null, true, 1, 'portable'))).toBe(
      'ERR_RLSA_NATIVE_ARGUMENT',
    );
    expect(codeOf(() => (addon.gemmAtb as unknown as (...args: unknown[]) => void)(f32, 2, 3))).toBe('ERR_RLSA_NATIVE_ARGUMENT');
    expect(codeOf(() => addon.columnSums(f32, 2, 4, null, 1, 'portable'))).toBe('ERR_RLSA_NATIVE_SHAPE');
    expect(codeOf(() => addon.columnSums(f32, 2, 3, new Float32Array(3) as unknown as Float64Array, 1, 'portable'))).toBe('ERR_RLSA_NATIVE_DTYPE');
    expect(codeOf(() => addon.gemmAbt(f32, 2, 3, f32, 2, out, null, null, null, null, 1, 'portable'))).toBe('no error');
  });

  describe('through the core, against the NumPy fixtures (scripts/fixtures/core_fixtures.py, NumPy float64)', () => {
    type RelativeFixture = {
      x: number[][];
      anchors: number[][];
      cases: { similarity: string; center: boolean; expected: number[][] }[];
    };
    type CkaFixture = { cases: { name: string; x: number[][]; y: number[][]; linear?: number; linearDebiased?: number; [key: string]: unknown }[] };
    const toMatrix = (rows: number[][]): Matrix => ({ rows: rows.length, cols: rows[0]!.length, data: Float32Array.from(rows.flat()) });

    it('relativeProjection (cosine, with and without centring) through the fused product', () => {
      const fixture = readFixture<RelativeFixture>('relative-projection.json');
      const cosine = fixture.cases.filter((c) => c.similarity === 'cosine');
      expect(cosine.length).toBeGreaterThan(0);
      for (const c of cosine) {
        for (const level of levels) {
          const got = relativeProjection(toMatrix(fixture.x), toMatrix(fixture.anchors), { linalg: new NativeLinalg({ level }), center: c.center, blockRows: 5 });
          expectAllClose(got.data, c.expected.flat(), FLOAT32_TOLERANCE);
        }
      }
    });

    it('linearCka (biased: fused centred products; debiased: plain products) matches NumPy', () => {
      const fixture = readFixture<CkaFixture>('cka.json');
      let checked = 0;
      for (const c of fixture.cases) {
        const x = toMatrix(c.x);
        const y = toMatrix(c.y);
        for (const [key, debiased] of [
          ['linear', false],
          ['linearDebiased', true],
        ] as const) {
          const want = c[key];
          if (typeof want !== 'number') continue;
          for (const level of levels) {
            const got = linearCka(x, y, { linalg: new NativeLinalg({ level }), debiased, blockRows: 7 });
            expect(Math.abs(got - want)).toBeLessThan(FLOAT32_TOLERANCE);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(0);
    });

    it('the streaming accumulator gives the same CKA as jsLinalg for any chunking', () => {
      const x = randomMatrix(1500, 40, 9);
      const noise = randomMatrix(1500, 40, 10);
      const y: Matrix = { rows: 1500, cols: 40, data: x.data.map((v, i) => v + 0.5 * noise.data[i]!) };
      const want = linearCka(x, y, { linalg: jsLinalg });
      const acc = new LinearCkaAccumulator(40, 40, { linalg: native, blockRows: 300 });
      for (const [r0, r1] of [
        [0, 1],
        [1, 700],
        [700, 1500],
      ] as const) {
        acc.addRows({ rows: r1 - r0, cols: 40, data: x.data.subarray(r0 * 40, r1 * 40) }, { rows: r1 - r0, cols: 40, data: y.data.subarray(r0 * 40, r1 * 40) });
      }
      expect(Math.abs(acc.value() - want)).toBeLessThan(1e-6);
      expect(Math.abs(linearCka(x, x, { linalg: native }) - 1)).toBeLessThan(1e-6);
    });
  });
});
