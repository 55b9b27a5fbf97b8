import { jsLinalg, type Matrix } from '@rlsa/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTfjsLinalg, TfjsLinalg, type TfjsLinalgInfo } from '../src/index.ts';

/** Float32 products against the float64 reference: relative to the magnitude of the entries. */
const FLOAT32_TOLERANCE = 1e-5;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function random(rows: number, cols: number, seed: number, kind: 'f32' | 'f64' = 'f32'): Matrix {
  const next = seeded(seed);
  const data = kind === 'f32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { rows, cols, data };
}

/** max |a − b| / max(1, max |b|) */
function relativeError(a: Matrix, b: Matrix): number {
  expect([a.rows, a.cols]).toEqual([b.rows, b.cols]);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i]! - b.data[i]!));
    scale = Math.max(scale, Math.abs(b.data[i]!));
  }
  return diff / scale;
}

let info: TfjsLinalgInfo;
let linalg: TfjsLinalg;

beforeAll(async () => {
  // Two threads: exercises the work-around that starts the threaded wasm build under Node
  // (it falls back to one thread by itself if the workers cannot start).
  ({ linalg, info } = await createTfjsLinalg({ threads: 2, minWork: 0 }));
});

describe('TfjsLinalg on the wasm backend', () => {
  it('runs on wasm, initialised by this call', () => {
    expect(info.backend).toBe('wasm');
    expect(info.initialised).toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });

  it('matmulABt equals the pure-JS product (float32 result), across row blocks', () => {
    const small = new TfjsLinalg({ blockRows: 7, minWork: 0 });
    for (const [m, n, k] of [
      [1, 1, 1],
      [33, 17, 5],
      [300, 64, 129],
    ] as const) {
      const a = random(m, k, m + k);
      const b = random(n, k, n * 7);
      const want = jsLinalg.matmulABt(a, b);
      for (const impl of [linalg, small]) {
        const got = impl.matmulABt(a, b);
        expect(got.data).toBeInstanceOf(Float32Array);
        expect(relativeError(got, want)).toBeLessThan(FLOAT32_TOLERANCE);
      }
    }
    small.dispose();
  });

  it('matmulABt keeps Bᵀ only while the same B (same array, same values) comes back', () => {
    const a = random(50, 8, 1);
    const b1 = random(10, 8, 2);
    const b2 = random(10, 8, 3);
    expect(relativeError(linalg.matmulABt(a, b1), jsLinalg.matmulABt(a, b1))).toBeLessThan(FLOAT32_TOLERANCE);
    expect(relativeError(linalg.matmulABt(a, b2), jsLinalg.matmulABt(a, b2))).toBeLessThan(FLOAT32_TOLERANCE);
    expect(relativeError(linalg.matmulABt(a, b1), jsLinalg.matmulABt(a, b1))).toBeLessThan(FLOAT32_TOLERANCE);
    // The same array refilled with other values must not hit the cache.
    b1.data.set(b2.data);
    expect(relativeError(linalg.matmulABt(a, b1), jsLinalg.matmulABt(a, b2))).toBeLessThan(FLOAT32_TOLERANCE);
  });

  it('matmulAtB equals the pure-JS product in float64, for A ≠ B and for Gram matrices (odd widths, several blocks)', () => {
    const blocked = new TfjsLinalg({ reduceRows: 64, minWork: 0 });
    for (const [m, k, n] of [
      [2, 1, 1],
      [200, 9, 5],
      [500, 33, 20],
    ] as const) {
      const a = random(m, k, 11 * m + k);
      const b = random(m, n, 13 * m + n, 'f64');
      for (const impl of [linalg, blocked]) {
        const ab = impl.matmulAtB(a, b);
        expect(ab.data).toBeInstanceOf(Float64Array);
        expect(relativeError(ab, jsLinalg.matmulAtB(a, b))).toBeLessThan(FLOAT32_TOLERANCE);
        const gram = impl.matmulAtB(a, a);
        expect(relativeError(gram, jsLinalg.matmulAtB(a, a))).toBeLessThan(FLOAT32_TOLERANCE);
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) expect(gram.data[i * k + j]).toBe(gram.data[j * k + i]);
      }
    }
    blocked.dispose();
  });

  it('does not mutate its inputs and refuses mismatched shapes', () => {
    const a = random(40, 6, 5);
    const b = random(40, 4, 6);
    const before = [Float32Array.from(a.data), Float32Array.from(b.data)];
    linalg.matmulAtB(a, b);
    linalg.matmulABt(a, random(3, 6, 7));
    expect(a.data).toEqual(before[0]);
    expect(b.data).toEqual(before[1]);
    expect(() => linalg.matmulAtB(a, random(39, 4, 1))).toThrow(/matmulAtB/);
    expect(() => linalg.matmulABt(a, random(3, 5, 1))).toThrow(/matmulABt/);
  });

  it('sends small products to the pure-JS path by default', () => {
    const fallback = new TfjsLinalg();
    const a = random(4, 3, 9);
    const b = random(5, 3, 10);
    expect(fallback.matmulABt(a, b).data).toEqual(jsLinalg.matmulABt(a, b).data);
  });
});
