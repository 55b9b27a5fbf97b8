import { describe, expect, it } from 'vitest';
import { randomFloat, RlsaError, seededRng } from '@rlsa/core';
import { nativeLinalgStatus, nativeTrainingKernels, SIMD_LEVELS, type NativeTrainingKernels, type SimdLevel } from '../src/index.ts';

/**
 * Relative tolerance of float32 results against a float64 reference: |got − want| ≤ 1e-5 ·
 * max(|want|, √k) for a k-term sum of values in [-1, 1) (as in native-linalg.spec.ts: an entry near
 * 0 still carries the rounding of its k float32 terms, ~√k·2⁻²⁴ each).
 */
const FLOAT32_TOLERANCE = 1e-5;

const status = nativeLinalgStatus();
const available = status.available;
const why = status.available ? '' : status.reason;
const levels: SimdLevel[] = status.available ? SIMD_LEVELS.slice(0, SIMD_LEVELS.indexOf(status.cpuLevel) + 1) : [];

function randomValues(n: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * randomFloat(rng) - 1;
  return out;
}

function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const bound = FLOAT32_TOLERANCE * Math.max(Math.abs(want[i]!), floor);
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) expect.fail(`element ${i}: ${got[i]} is not within ${bound} of ${want[i]}`);
  }
}

interface Conv {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: [number, number];
  pad: 'same' | 'valid' | [number, number];
}

/** tfjs's geometry rules: 'same' pads (total − 1) / 2 on top/left, the rest on bottom/right. */
function geometry(c: Conv): Int32Array {
  const [n, h, w, cin] = c.x;
  const [fh, fw, , cout] = c.f;
  const [sh, sw] = c.stride;
  let oh: number, ow: number, pt: number, pl: number;
  if (c.pad === 'same') {
    oh = Math.ceil(h / sh);
    ow = Math.ceil(w / sw);
    pt = Math.floor(Math.max(0, (oh - 1) * sh + fh - h) / 2);
    pl = Math.floor(Math.max(0, (ow - 1) * sw + fw - w) / 2);
  } else {
    [pt, pl] = c.pad === 'valid' ? [0, 0] : c.pad;
    oh = Math.floor((h + 2 * pt - fh) / sh) + 1;
    ow = Math.floor((w + 2 * pl - fw) / sw) + 1;
  }
  return Int32Array.of(n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl);
}

/** y, dx and dW of one convolution in float64, by the definition (the taps that fall inside the image). */
function referenceConv(g: Int32Array, x: Float32Array, w: Float32Array, dy: Float32Array, bias: Float32Array) {
  const [n, h, wd, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl] = Array.from(g) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number];
  const y = new Float64Array(n * oh * ow * cout);
  const dx = new Float64Array(n * h * wd * cin);
  const dw = new Float64Array(fh * fw * cin * cout);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * cout;
        for (let co = 0; co < cout; co++) y[o + co] = bias[co]!;
        for (let ky = 0; ky < fh; ky++)
          for (let kx = 0; kx < fw; kx++) {
            const iy = oy * sh + ky - pt;
            const ix = ox * sw + kx - pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (let ci = 0; ci < cin; ci++) {
              const xi = ((b * h + iy) * wd + ix) * cin + ci;
              for (let co = 0; co < cout; co++) {
                const wi = ((ky * fw + kx) * cin + ci) * cout + co;
                y[o + co] = y[o + co]! + x[xi]! * w[wi]!;
                dx[xi] = dx[xi]! + dy[o + co]! * w[wi]!;
                dw[wi] = dw[wi]! + x[xi]! * dy[o + co]!;
              }
            }
          }
      }
  return { y, dx, dw };
}

/** op(A)·op(B) + bias in float64 for one batch of matrices. */
function referenceMatmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, dims: number[]): Float64Array {
  const [batch, batchA, batchB, m, n, k, ta, tb] = dims as [number, number, number, number, number, number, number, number];
  const c = new Float64Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    const ao = (i % batchA) * m * k;
    const bo = (i % batchB) * k * n;
    for (let r = 0; r < m; r++)
      for (let q = 0; q < n; q++) {
        let s = bias ? bias[q]! : 0;
        for (let p = 0; p < k; p++) s += a[ao + (ta ? p * m + r : r * k + p)]! * b[bo + (tb ? q * k + p : p * n + q)]!;
        c[(i * m + r) * n + q] = s;
      }
  }
  return c;
}

/** Odd shapes around the tiles (12×32, 6×16, 4×8), strides, 'same'/'valid'/explicit padding, batch 1. */
const CONVS: Conv[] = [
  { x: [1, 1, 1, 1], f: [1, 1, 1, 1], stride: [1, 1], pad: 'valid' },
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: [1, 1], pad: 'valid' },
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: [2, 2], pad: 'same' },
  { x: [1, 8, 8, 5], f: [5, 5, 5, 2], stride: [1, 1], pad: 'same' },
  { x: [2, 9, 7, 2], f: [2, 4, 2, 3], stride: [2, 1], pad: 'same' },
  { x: [2, 6, 6, 2], f: [3, 3, 2, 3], stride: [2, 2], pad: [1, 1] },
  { x: [3, 13, 11, 7], f: [3, 2, 7, 37], stride: [3, 2], pad: 'same' },
  { x: [1, 10, 10, 33], f: [5, 5, 33, 70], stride: [1, 1], pad: 'same' },
  { x: [5, 12, 12, 3], f: [5, 5, 3, 32], stride: [1, 1], pad: 'same' }, // the VanillaCNN's first layer, small
  { x: [4, 16, 16, 32], f: [5, 5, 32, 48], stride: [1, 1], pad: 'same' }, // 3.9·10⁷ multiply-adds: several threads
];

// Under CI the addon must have been built by `npm ci`: a missing addon is a failure there, not a skip.
describe.runIf(!available && process.env['CI'] === 'true')('native training kernels under CI', () => {
  it('has a built addon', () => {
    expect.fail(`@rlsa/linalg-native is unavailable under CI=true, so its training kernels were not tested: ${why}`);
  });
});

describe.skipIf(!available)(`native training kernels${available ? '' : ` (skipped: ${why})`}`, () => {
  for (const level of levels) {
    describe(`${level} tiles`, () => {
      const kernels = [1, 3].map((threads) => nativeTrainingKernels({ level, threads }) as NativeTrainingKernels);

      it('convolve, and give both gradients, as the definition does (odd shapes, strides, padding, batch 1; 1 and 3 threads)', () => {
        CONVS.forEach((c, i) => {
          const g = geometry(c);
          const [n, h, w, cin, oh, ow, cout, fh, fw] = Array.from(g) as number[] as [number, number, number, number, number, number, number, number, number];
          const x = randomValues(n * h * w * cin, 10 * i + 1);
          const filter = randomValues(fh * fw * cin * cout, 10 * i + 2);
          const dy = randomValues(n * oh * ow * cout, 10 * i + 3);
          const bias = randomValues(cout, 10 * i + 4);
          const want = referenceConv(g, x, filter, dy, bias);
          for (const native of kernels) {
            const y = new Float32Array(want.y.length);
            const dx = new Float32Array(want.dx.length).fill(Number.NaN);
            const dw = new Float32Array(want.dw.length).fill(Number.NaN);
            native.conv2d(x, filter, bias, y, g);
            native.conv2dBackpropInput(dy, filter, dx, g);
            native.conv2dBackpropFilter(x, dy, dw, g);
            expectAllClose(y, want.y, Math.sqrt(fh * fw * cin));
            expectAllClose(dx, want.dx, Math.sqrt(fh * fw * cout));
            expectAllClose(dw, want.dw, Math.sqrt(n * oh * ow));
            const noBias = new Float32Array(want.y.length);
            native.conv2d(x, filter, null, noBias, g);
            expectAllClose(noBias, want.y.map((v, e) => v - bias[e % cout]!), Math.sqrt(fh * fw * cin));
          }
        });
      });

      it('multiply batches of matrices, transposed or not, with a bias, a broadcast side and odd sizes (1 and 3 threads)', () => {
        const cases = [
          [1, 1, 1, 1, 1, 1],
          [1, 1, 1, 13, 33, 7],
          [1, 1, 1, 96, 256, 784], // the MLP's first layer, fewer rows (1.9·10⁷ multiply-adds: two threads)
          [3, 3, 3, 37, 19, 300],
          [4, 1, 4, 25, 70, 41],
          [4, 4, 1, 12, 32, 5],
        ];
        cases.forEach(([batch, batchA, batchB, m, n, k], i) => {
          for (const ta of [0, 1])
            for (const tb of [0, 1]) {
              const dims = [batch!, batchA!, batchB!, m!, n!, k!, ta, tb];
              const a = randomValues(batchA! * m! * k!, 100 * i + 1);
              const b = randomValues(batchB! * k! * n!, 100 * i + 2);
              const bias = i % 2 === 0 ? randomValues(n!, 100 * i + 3) : null;
              const want = referenceMatmul(a, b, bias, dims);
              for (const native of kernels) {
                const c = new Float32Array(batch! * m! * n!).fill(Number.NaN);
                native.matmul(a, b, bias, c, Int32Array.from(dims));
                expectAllClose(c, want, Math.sqrt(k!));
              }
            }
        });
      });
    });
  }

  describe('elementwise, pooling and sums', () => {
    for (const level of levels) {
      const native = nativeTrainingKernels({ level, threads: 3 })!;

      it(`${level}: SiLU and its sigmoid within float32 rounding of e^x in float64, and its gradient`, () => {
        // Past the clamp (±100), around 0, NaN, and 6·10⁵ values over [-30, 30) (several chunks, two threads).
        const x = Float32Array.from([-100, -88, -20, -1e-8, 0, 1e-8, 0.5, 20, 88, 100, Number.NaN, ...randomValues(600_000, 7).map((v) => 30 * v)]);
        const y = new Float32Array(x.length);
        const s = new Float32Array(x.length);
        native.silu(x, y, s);
        const sOnly = new Float32Array(x.length);
        native.silu(x, null, sOnly);
        expect(sOnly).toEqual(s);
        expect([s[9], s[4]]).toEqual([1, 0.5]);
        expect(s[0]).toBeLessThan(1e-38); // clamped at −87.3: e^87.3 is the largest normal e^x used
        expect(Number.isNaN(s[10]!) && Number.isNaN(y[10]!)).toBe(true);
        const dy = randomValues(x.length, 8);
        const dx = new Float32Array(x.length);
        native.siluGrad(dy, s, x, dx);
        for (let i = 0; i < x.length; i++) {
          if (i === 10) continue;
          const sig = 1 / (1 + Math.exp(-x[i]!));
          // A few ulp of the float32 result (e^x within 2 ulp, then a division and a product), and below
          // the clamp (x < −87.3, where sigmoid(x) < 2⁻¹²⁶, the smallest normal float) within 1e-38.
          if (!(Math.abs(s[i]! - sig) <= 4e-7 * sig + 1e-38)) expect.fail(`sigmoid(${x[i]}) = ${s[i]}, expected ${sig}`);
          if (!(Math.abs(y[i]! - x[i]! * sig) <= 4e-7 * Math.abs(x[i]! * sig) + 1e-36)) expect.fail(`silu(${x[i]}) = ${y[i]}, expected ${x[i]! * sig}`);
          const g = dy[i]! * s[i]! * (1 + x[i]! * (1 - s[i]!));
          if (!(Math.abs(dx[i]! - g) <= 1e-6 * Math.max(1, Math.abs(g)))) expect.fail(`silu gradient at ${x[i]}: ${dx[i]}, expected ${g}`);
        }
      });

      it(`${level}: max pooling and its gradient as tfjs's cpu backend defines them (overlap, padding, NaN, −∞)`, () => {
        for (const c of [
          { x: [2, 8, 8, 32], f: [2, 2, 32, 32], stride: [2, 2], pad: 'valid' },
          { x: [3, 7, 5, 5], f: [3, 3, 5, 5], stride: [1, 1], pad: 'same' },
          { x: [1, 9, 6, 3], f: [3, 2, 3, 3], stride: [2, 3], pad: 'same' },
          { x: [4, 64, 64, 32], f: [2, 2, 32, 32], stride: [2, 2], pad: 'valid' }, // 5·10⁵ values: two threads
        ] as Conv[]) {
          const g = geometry(c);
          const [n, h, w, ch, oh, ow, , fh, fw, sh, sw, pt, pl] = Array.from(g) as number[] as number[];
          const x = randomValues(n! * h! * w! * ch!, 9).map((v) => Math.round(4 * v) / 4); // ties: the first maximum wins
          x[0] = Number.NaN;
          x.fill(-Infinity, ch! * w!, 2 * ch! * w!); // a row of −∞
          const dy = randomValues(n! * oh! * ow! * ch!, 10);
          const wantY = new Float32Array(dy.length);
          const wantDx = new Float64Array(x.length);
          for (let b = 0; b < n!; b++)
            for (let oy = 0; oy < oh!; oy++)
              for (let ox = 0; ox < ow!; ox++)
                for (let k = 0; k < ch!; k++) {
                  let best = -Infinity;
                  let at = -1;
                  for (let ky = 0; ky < fh!; ky++)
                    for (let kx = 0; kx < fw!; kx++) {
                      const iy = oy * sh! + ky - pt!;
                      const ix = ox * sw! + kx - pl!;
                      if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
                      const e = ((b * h! + iy) * w! + ix) * ch! + k;
                      if (x[e]! > best) [best, at] = [x[e]!, e];
                    }
                  const o = ((b * oh! + oy) * ow! + ox) * ch! + k;
                  wantY[o] = best;
                  if (at >= 0) wantDx[at] = wantDx[at]! + dy[o]!;
                }
          const y = new Float32Array(dy.length);
          const dx = new Float32Array(x.length).fill(Number.NaN);
          native.maxPool(x, y, g);
          native.maxPoolGrad(x, dy, dx, g);
          expect(y).toEqual(wantY);
          expectAllClose(dx, wantDx, 1);
        }
      });

      it(`${level}: sums rows in float64 over fixed ranges (bias gradients), any shape`, () => {
        for (const [rows, cols] of [[1, 1], [3, 5], [7, 1], [128 * 32 * 32, 32], [1000, 77]] as const) {
          const x = randomValues(rows * cols, rows + cols);
          const want = new Float64Array(cols);
          for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) want[c] = want[c]! + x[r * cols + c]!;
          const out = new Float32Array(cols).fill(Number.NaN);
          native.sumRows(x, rows, cols, out);
          expectAllClose(out, want, Math.sqrt(rows) * 1e-2);
        }
      });
    }
  });

  it('gives the same filter gradient, bit for bit, on any number of threads', () => {
    const c: Conv = { x: [16, 16, 16, 32], f: [5, 5, 32, 64], stride: [1, 1], pad: 'same' };
    const g = geometry(c);
    const x = randomValues(16 * 16 * 16 * 32, 5);
    const dy = randomValues(16 * 16 * 16 * 64, 6);
    const results = [1, 2, 3, 8].map((threads) => {
      const dw = new Float32Array(5 * 5 * 32 * 64);
      nativeTrainingKernels({ threads })!.conv2dBackpropFilter(x, dy, dw, g);
      return dw;
    });
    for (const dw of results.slice(1)) expect(dw).toEqual(results[0]);
  });

  it('sums the filter gradient over pixels in float64 across blocks (2²⁰ pixels of 0.1f: a float32 sum drifts by > 1e-3)', () => {
    const pixels = 1 << 20;
    const g = Int32Array.of(1, 1024, 1024, 1, 1024, 1024, 1, 1, 1, 1, 1, 0, 0);
    const x = new Float32Array(pixels).fill(0.1);
    const dy = new Float32Array(pixels).fill(1);
    const exact = pixels * Math.fround(0.1);
    let float32Sum = 0;
    for (let i = 0; i < pixels; i++) float32Sum = Math.fround(float32Sum + Math.fround(0.1));
    expect(Math.abs(float32Sum - exact) / exact).toBeGreaterThan(1e-3);
    const dw = new Float32Array(1);
    nativeTrainingKernels({ threads: 2 })!.conv2dBackpropFilter(x, dy, dw, g);
    expect(Math.abs(dw[0]! - exact) / exact).toBeLessThan(FLOAT32_TOLERANCE);
  });

  it('refuses wrong sizes, a bad geometry and bad dims with coded errors, writing nothing', () => {
    const native = nativeTrainingKernels({ threads: 1 })!;
    const g = geometry({ x: [1, 4, 4, 2], f: [3, 3, 2, 3], stride: [1, 1], pad: 'same' });
    const x = new Float32Array(32);
    const filter = new Float32Array(54);
    const y = new Float32Array(48).fill(7);
    const codeOf = (fn: () => void): string => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(RlsaError);
        return (error as RlsaError).code;
      }
      return expect.fail('expected an RlsaError');
    };
    expect(codeOf(() => native.conv2d(x.subarray(1), filter, null, y, g))).toBe('shape_mismatch');
    expect(codeOf(() => native.conv2d(x, filter, new Float32Array(2), y, g))).toBe('shape_mismatch');
    expect(codeOf(() => native.conv2dBackpropFilter(x, y, filter.subarray(1), g))).toBe('shape_mismatch');
    // An output row past the padded image, a zero stride, a geometry of the wrong length.
    expect(codeOf(() => native.conv2d(x, filter, null, new Float32Array(1 * 9 * 4 * 3), Int32Array.of(1, 4, 4, 2, 9, 4, 3, 3, 3, 1, 1, 1, 1)))).toBe('invalid_argument');
    expect(codeOf(() => native.conv2d(x, filter, null, y, Int32Array.of(1, 4, 4, 2, 4, 4, 3, 3, 3, 0, 1, 1, 1)))).toBe('invalid_argument');
    expect(codeOf(() => native.conv2d(x, filter, null, y, g.subarray(1)))).toBe('invalid_argument');
    expect(codeOf(() => native.matmul(x, x, null, y, Int32Array.of(2, 3, 1, 1, 1, 1, 0, 0)))).toBe('invalid_argument');
    expect(codeOf(() => native.matmul(x, x, null, y, Int32Array.of(1, 1, 1, 4, 12, 8, 0, 0)))).toBe('shape_mismatch');
    expect(y.every((v) => v === 7)).toBe(true);
  });

  it('takes its threads from RLSA_NATIVE_THREADS, else the CPUs, and refuses bad ones', () => {
    expect(nativeTrainingKernels({}, { RLSA_NATIVE_THREADS: '3' })!.threads).toBe(3);
    expect(nativeTrainingKernels({ threads: 2 }, { RLSA_NATIVE_THREADS: '3' })!.threads).toBe(2);
    expect(nativeTrainingKernels({}, {})!.threads).toBeGreaterThanOrEqual(1);
    expect(() => nativeTrainingKernels({}, { RLSA_NATIVE_THREADS: 'two' })).toThrow(/threads must be a positive integer/);
    expect(() => nativeTrainingKernels({ threads: 65 })).toThrow(/at most 64/);
  });
});
