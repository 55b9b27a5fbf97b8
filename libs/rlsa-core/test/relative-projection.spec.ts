import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/relative-projection.json' with { type: 'json' };
import { jsLinalg, type Linalg } from '../src/linalg.ts';
import { matrix, type Matrix } from '../src/matrix.ts';
import { relativeProjection, type Similarity } from '../src/relative-projection.ts';
import { expectAllClose, f32, FLOAT32_TOLERANCE, fusedReferenceLinalg, multiply, orthogonal, randomMatrix, rlsaError, snapshot } from './helpers.ts';

// Reference: scripts/fixtures/core_fixtures.py (NumPy, float64 on float32 inputs).
describe('relativeProjection against NumPy', () => {
  const x = f32(fixture.x);
  const anchors = f32(fixture.anchors);
  for (const c of fixture.cases) {
    it(`${c.similarity}${c.center ? ', centered' : ''}`, () => {
      const r = relativeProjection(x, anchors, { similarity: c.similarity as Similarity, center: c.center });
      expect([r.rows, r.cols]).toEqual([fixture.rows, fixture.anchorsRows]);
      expect(r.data).toBeInstanceOf(Float32Array);
      expectAllClose(r.data, c.expected.flat(), FLOAT32_TOLERANCE);
    });
  }

  it('gives exactly the self-similarity for a sample equal to an anchor (row 3 = anchor 2)', () => {
    const at = (s: Similarity) => relativeProjection(x, anchors, { similarity: s }).data[3 * fixture.anchorsRows + 2];
    expect(at('euclidean')).toBe(-0);
    expect(at('l1')).toBe(-0);
    expect(at('cosine')).toBeCloseTo(1, 6);
  });

  it('is the same whatever the row block size', () => {
    for (const similarity of ['cosine', 'euclidean'] as const) {
      const whole = relativeProjection(x, anchors, { similarity });
      expect(relativeProjection(x, anchors, { similarity, blockRows: 5 }).data).toEqual(whole.data);
    }
  });

  it('routes the product through the given Linalg', () => {
    let calls = 0;
    const counting: Linalg = { ...jsLinalg, matmulABt: (a, b) => (calls++, jsLinalg.matmulABt(a, b)) };
    relativeProjection(x, anchors, { linalg: counting, blockRows: 10 });
    expect(calls).toBe(3);
  });
});

describe('relativeProjection invariances (fast-check)', () => {
  const setup = fc.record({ n: fc.integer({ min: 1, max: 30 }), a: fc.integer({ min: 2, max: 12 }), d: fc.integer({ min: 2, max: 16 }), seed: fc.integer(), scale: fc.double({ min: 1e-3, max: 1e3, noNaN: true }) });

  it('cosine and angular (optionally centered) are unchanged when X and the anchors are rotated and scaled together', () => {
    fc.assert(
      fc.property(setup, fc.boolean(), fc.constantFrom<Similarity>('cosine', 'angular'), ({ n, a, d, seed, scale }, center, similarity) => {
        const x = randomMatrix(n, d, seed);
        const anchors = randomMatrix(a, d, seed + 1);
        const q = orthogonal(d, seed + 2);
        const base = relativeProjection(x, anchors, { similarity, center });
        const moved = relativeProjection(multiply(x, q, scale), multiply(anchors, q, scale), { similarity, center });
        expectAllClose(moved.data, base.data, FLOAT32_TOLERANCE);
      }),
      { numRuns: 60 },
    );
  });

  it('euclidean and centered cosine are unchanged by a common translation; euclidean scales with the data', () => {
    fc.assert(
      fc.property(setup, ({ n, a, d, seed, scale }) => {
        const x = randomMatrix(n, d, seed);
        const anchors = randomMatrix(a, d, seed + 1);
        const shift = randomMatrix(1, d, seed + 2).data;
        const translate = (m: Matrix): Matrix => ({ ...m, data: m.data.map((v, i) => v + 3 * shift[i % d]!) });
        const e = relativeProjection(x, anchors, { similarity: 'euclidean' });
        expectAllClose(relativeProjection(translate(x), translate(anchors), { similarity: 'euclidean' }).data, e.data, FLOAT32_TOLERANCE);
        const scaled = relativeProjection(multiply(x, orthogonal(d, seed), scale), multiply(anchors, orthogonal(d, seed), scale), { similarity: 'euclidean' });
        expectAllClose(scaled.data, e.data.map((v) => v * scale), FLOAT32_TOLERANCE, scale);
        const c = relativeProjection(x, anchors, { center: true });
        expectAllClose(relativeProjection(translate(x), translate(anchors), { center: true }).data, c.data, FLOAT32_TOLERANCE);
      }),
      { numRuns: 40 },
    );
  });

  it('never mutates its inputs', () => {
    for (const similarity of ['cosine', 'euclidean', 'l1', 'angular'] as const) {
      const x = randomMatrix(7, 5, 1, true);
      const anchors = randomMatrix(3, 5, 2, true);
      const [x0, a0] = [snapshot(x), snapshot(anchors)];
      relativeProjection(x, anchors, { similarity, center: true });
      expect(x).toEqual(x0);
      expect(anchors).toEqual(a0);
    }
  });
});

describe('relativeProjection errors', () => {
  const x = matrix(3, 2, [1, 0, 0, 0, 0, 1]);
  const anchors = matrix(2, 2, [1, 1, -1, 2]);

  it('names a zero-norm sample row for cosine and angular instead of returning NaN', () => {
    for (const similarity of ['cosine', 'angular'] as const) {
      const err = rlsaError(() => relativeProjection(x, anchors, { similarity }));
      expect(err.code).toBe('zero_norm');
      expect(err.message).toContain('x row 1 has zero norm');
    }
    // Distances are defined for a zero row.
    expect(Array.from(relativeProjection(x, anchors, { similarity: 'l1' }).data.subarray(2, 4))).toEqual([-2, -3]);
  });

  it('names a zero-norm anchor, including one that is zero only after centering', () => {
    const err = rlsaError(() => relativeProjection(matrix(1, 2, [1, 1]), matrix(2, 2, [0, 0, 1, 2])));
    expect(err.code).toBe('zero_norm');
    expect(err.message).toContain('anchor row 0');
    const centered = rlsaError(() => relativeProjection(matrix(1, 2, [1, 1]), matrix(1, 2, [3, 4]), { center: true }));
    expect(centered.code).toBe('zero_norm');
    expect(centered.message).toContain('anchor row 0 has zero norm after centering');
  });

  it('rejects NaN and Inf with non_finite, naming the position', () => {
    const err = rlsaError(() => relativeProjection(matrix(2, 2, [1, 2, 3, NaN]), anchors));
    expect(err.code).toBe('non_finite');
    expect(err.message).toContain('row 1, column 1');
    expect(rlsaError(() => relativeProjection(x, matrix(2, 2, [1, Infinity, 1, 1]), { similarity: 'l1' })).code).toBe('non_finite');
  });

  it('rejects mismatched widths, empty anchors and unknown similarities', () => {
    expect(rlsaError(() => relativeProjection(x, matrix(2, 3, [1, 2, 3, 4, 5, 6]))).code).toBe('shape_mismatch');
    expect(rlsaError(() => relativeProjection(x, matrix(0, 2))).code).toBe('invalid_argument');
    expect(rlsaError(() => relativeProjection(x, anchors, { similarity: 'dot' as Similarity })).code).toBe('invalid_argument');
  });

  it('returns an empty N×A result for no samples', () => {
    const r = relativeProjection(matrix(0, 2), anchors);
    expect([r.rows, r.cols, r.data.length]).toEqual([0, 2, 0]);
  });
});

describe('relativeProjection precision near coincident pairs', () => {
  it('angular and euclidean stay accurate for nearly identical sample and anchor', () => {
    const anchor = [0.3, -1.2, 2.5, 0.7];
    const eps = 1e-3;
    const x = matrix(1, 4, [0.3 + eps, -1.2, 2.5, 0.7]);
    const a = matrix(1, 4, anchor);
    const nx = Math.hypot(0.3 + eps, -1.2, 2.5, 0.7);
    const na = Math.hypot(...anchor);
    const u = [0.3 + eps, -1.2, 2.5, 0.7].map((v) => Math.fround(v) / nx);
    const v = anchor.map((w) => Math.fround(w) / na);
    const theta = 2 * Math.atan2(Math.hypot(...u.map((p, i) => p - v[i]!)), Math.hypot(...u.map((p, i) => p + v[i]!)));
    // θ ≈ 3e-4 rad: arccos of a float32 cosine would be off by ~1e-4 here.
    expect(relativeProjection(x, a, { similarity: 'angular' }).data[0]).toBeCloseTo(1 - theta / Math.PI, 6);
    const dist = Math.abs(Math.fround(0.3 + eps) - Math.fround(0.3));
    expect(-relativeProjection(x, a, { similarity: 'euclidean' }).data[0]!).toBeCloseTo(dist, 7);
  });
});

describe('relativeProjection on a backend with the fused product (Linalg.matmulABtInto)', () => {
  it('gives exactly the plain path result for cosine, centered or not, float32 or float64 data, any block size', () => {
    for (const float32 of [true, false]) {
      const x = randomMatrix(37, 11, 5, float32);
      const anchors = randomMatrix(9, 11, 6, float32);
      for (const center of [false, true]) {
        const plain = relativeProjection(x, anchors, { center, linalg: jsLinalg });
        for (const blockRows of [1, 8, 100]) {
          const fused = fusedReferenceLinalg();
          const r = relativeProjection(x, anchors, { center, linalg: fused, blockRows });
          expect(r).toEqual(plain);
          expect(fused.calls).toEqual({ abt: 0, abtInto: Math.ceil(37 / blockRows), atb: 0, accumulate: 0, sums: 0 });
        }
      }
    }
  });

  it('matches the NumPy fixture and keeps the plain path for the other similarities', () => {
    const fused = fusedReferenceLinalg();
    for (const c of fixture.cases) {
      const r = relativeProjection(f32(fixture.x), f32(fixture.anchors), { similarity: c.similarity as Similarity, center: c.center, linalg: fused });
      expectAllClose(r.data, c.expected.flat(), FLOAT32_TOLERANCE);
    }
    expect(fused.calls.abtInto).toBe(fixture.cases.filter((c) => c.similarity === 'cosine').length);
  });

  it('reports the same errors: non-finite values by position, zero-norm rows (after centering too)', () => {
    const anchors = matrix(2, 2, [1, 0, 0, 1]);
    const fused = fusedReferenceLinalg();
    const nan = rlsaError(() => relativeProjection(matrix(2, 2, [1, 2, 3, NaN]), anchors, { linalg: fused }));
    expect([nan.code, nan.message]).toEqual(['non_finite', 'x has NaN at row 1, column 1']);
    const zero = rlsaError(() => relativeProjection(matrix(3, 2, [1, 2, 0, 0, 1, 1]), anchors, { linalg: fused }));
    expect(zero.code).toBe('zero_norm');
    expect(zero.message).toBe(rlsaError(() => relativeProjection(matrix(3, 2, [1, 2, 0, 0, 1, 1]), anchors)).message);
    const centered = rlsaError(() => relativeProjection(matrix(2, 2, [0.5, 0.5, 1, 2]), anchors, { linalg: fused, center: true }));
    expect(centered.message).toMatch(/x row 0 has zero norm after centering/);
  });
});
