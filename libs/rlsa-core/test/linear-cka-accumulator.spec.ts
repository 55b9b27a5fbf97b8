import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/cka.json' with { type: 'json' };
import { LinearCkaAccumulator } from '../src/linear-cka-accumulator.ts';
import { linearCka } from '../src/linear-cka.ts';
import { rowSlice, takeRows, type Matrix } from '../src/matrix.ts';
import { expectClose, f32, FLOAT32_TOLERANCE, FLOAT64_TOLERANCE, fusedReferenceLinalg, randomMatrix, rlsaError } from './helpers.ts';

function chunked(x: Matrix, y: Matrix, cuts: number[], debiased: boolean): number {
  const acc = new LinearCkaAccumulator(x.cols, y.cols, { debiased });
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < x.rows).sort((a, b) => a - b), x.rows];
  for (let i = 0; i + 1 < bounds.length; i++) acc.addRows(rowSlice(x, bounds[i]!, bounds[i + 1]!), rowSlice(y, bounds[i]!, bounds[i + 1]!));
  expect(acc.rows).toBe(x.rows);
  return acc.value();
}

describe('LinearCkaAccumulator', () => {
  it('equals the batch value for any split into row chunks (float64, 1e-9)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 80 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 6 }),
        fc.integer(),
        fc.boolean(),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        (n, dx, dy, cuts, seed, debiased, offset) => {
          const x = randomMatrix(n, dx, seed);
          const y0 = randomMatrix(n, dy, seed + 1);
          const y: Matrix = { ...y0, data: y0.data.map((v) => v + offset) };
          expectClose(chunked(x, y, cuts, debiased), linearCka(x, y, { debiased }), FLOAT64_TOLERANCE);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('is independent of the order of the chunks (and of the rows)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 60 }), fc.integer(), fc.boolean(), (n, seed, debiased) => {
        const x = randomMatrix(n, 5, seed);
        const y = randomMatrix(n, 3, seed + 1);
        const reversed = Array.from({ length: n }, (_, i) => n - 1 - i);
        const forward = chunked(x, y, [3, 7], debiased);
        expectClose(chunked(takeRows(x, reversed), takeRows(y, reversed), [2, 5], debiased), forward, FLOAT64_TOLERANCE);
      }),
      { numRuns: 40 },
    );
  });

  it('reproduces the NumPy fixtures chunk by chunk', () => {
    for (const c of fixture.cases) {
      const x = f32(c.x);
      const y = f32(c.y);
      expectClose(chunked(x, y, [7, 8, 30], false), c.linear, FLOAT32_TOLERANCE);
      expectClose(chunked(x, y, [1, 59], true), c.linearDebiased, FLOAT32_TOLERANCE);
    }
  });

  it('refuses a value before enough rows and chunks of the wrong shape', () => {
    const acc = new LinearCkaAccumulator(2, 3, { debiased: true });
    acc.addRows(randomMatrix(3, 2, 1), randomMatrix(3, 3, 2));
    expect(rlsaError(() => acc.value()).code).toBe('failed_precondition');
    expect(rlsaError(() => acc.addRows(randomMatrix(3, 3, 1), randomMatrix(3, 3, 2))).code).toBe('shape_mismatch');
    expect(rlsaError(() => acc.addRows(randomMatrix(3, 2, 1), randomMatrix(2, 3, 2))).code).toBe('shape_mismatch');
    expect(acc.rows).toBe(3);
    acc.addRows(randomMatrix(2, 2, 3), randomMatrix(2, 3, 4));
    expect(Number.isFinite(acc.value())).toBe(true);
    expect(rlsaError(() => new LinearCkaAccumulator(0, 3)).code).toBe('invalid_argument');
  });
});

describe('LinearCkaAccumulator on a backend with the fused centred product (Linalg.accumulateAtB)', () => {
  it('equals the plain path for any chunking, float32 or float64, x = y included; the debiased estimator keeps the plain path', () => {
    for (const float32 of [true, false]) {
      const x = randomMatrix(90, 7, 21, float32);
      const y = randomMatrix(90, 5, 22, float32);
      for (const [a, b] of [
        [x, y],
        [x, x],
      ] as const) {
        for (const debiased of [false, true]) {
          // Same chunks, so the same shift (the first chunk's means) and the same float32 blocks on both paths.
          const fused = fusedReferenceLinalg();
          const acc = new LinearCkaAccumulator(a.cols, b.cols, { debiased, linalg: fused, blockRows: 16 });
          const reference = new LinearCkaAccumulator(a.cols, b.cols, { debiased, blockRows: 16 });
          for (const [r0, r1] of [
            [0, 1],
            [1, 40],
            [40, 90],
          ] as const) {
            acc.addRows(rowSlice(a, r0, r1), rowSlice(b, r0, r1));
            reference.addRows(rowSlice(a, r0, r1), rowSlice(b, r0, r1));
          }
          expectClose(acc.value(), reference.value(), FLOAT64_TOLERANCE);
          expectClose(linearCka(a, b, { debiased, linalg: fused }), linearCka(a, b, { debiased }), FLOAT64_TOLERANCE);
          if (debiased) expect(fused.calls.accumulate).toBe(0);
          else {
            expect(fused.calls.atb).toBe(0);
            expect(fused.calls.sums).toBeGreaterThan(0);
          }
        }
      }
    }
  });

  it('validates before changing state: a NaN chunk is refused by position and leaves the accumulator as it was', () => {
    const fused = fusedReferenceLinalg();
    const x = randomMatrix(20, 3, 31, true);
    const y = randomMatrix(20, 2, 32, true);
    const acc = new LinearCkaAccumulator(3, 2, { linalg: fused });
    acc.addRows(rowSlice(x, 0, 10), rowSlice(y, 0, 10));
    const before = acc.value();
    const bad: Matrix = { rows: 2, cols: 2, data: new Float32Array([1, 2, 3, Infinity]) };
    const error = rlsaError(() => acc.addRows(rowSlice(x, 10, 12), bad));
    expect([error.code, error.message]).toEqual(['non_finite', 'y has Infinity at row 1, column 1']);
    expect(acc.rows).toBe(10);
    expect(acc.value()).toBe(before);
    acc.addRows(rowSlice(x, 10, 20), rowSlice(y, 10, 20));
    const reference = new LinearCkaAccumulator(3, 2);
    reference.addRows(rowSlice(x, 0, 10), rowSlice(y, 0, 10));
    reference.addRows(rowSlice(x, 10, 20), rowSlice(y, 10, 20));
    expectClose(acc.value(), reference.value(), FLOAT64_TOLERANCE);
  });
});
