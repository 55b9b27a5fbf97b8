import { describe, expect, it } from 'vitest';
import { matrix, takeRows } from '../src/matrix.ts';
import { rlsaError } from './helpers.ts';

describe('matrix', () => {
  it('keeps typed arrays as they are and copies other array-likes into Float32', () => {
    const f64 = new Float64Array([1, 2, 3, 4, 5, 6]);
    expect(matrix(2, 3, f64).data).toBe(f64);
    const m = matrix(3, 2, [1, 2, 3, 4, 5, 6.1]);
    expect(m.data).toBeInstanceOf(Float32Array);
    expect(m.data[5]).toBe(Math.fround(6.1));
    expect(matrix(2, 2).data).toEqual(new Float32Array(4));
  });

  it('rejects a length that does not match the shape, and bad dimensions', () => {
    expect(rlsaError(() => matrix(2, 3, [1, 2, 3])).code).toBe('shape_mismatch');
    expect(rlsaError(() => matrix(-1, 3)).code).toBe('invalid_argument');
    expect(rlsaError(() => matrix(1.5, 3)).code).toBe('invalid_argument');
  });
});

describe('takeRows', () => {
  it('takes rows in the given order, repeats allowed, keeping the element type', () => {
    const x = matrix(3, 2, new Float64Array([1, 2, 3, 4, 5, 6]));
    const t = takeRows(x, [2, 0, 2]);
    expect(t.rows).toBe(3);
    expect(t.data).toBeInstanceOf(Float64Array);
    expect(Array.from(t.data)).toEqual([5, 6, 1, 2, 5, 6]);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects indices outside the rows', () => {
    const x = matrix(3, 2, [1, 2, 3, 4, 5, 6]);
    const err = rlsaError(() => takeRows(x, [0, 3]));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('row index 3 at position 1');
    expect(rlsaError(() => takeRows(x, [0.5])).code).toBe('invalid_argument');
  });
});
