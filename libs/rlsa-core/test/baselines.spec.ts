import { describe, expect, it } from 'vitest';
import { absoluteMean, jumble } from '../src/baselines.ts';
import { matrix } from '../src/matrix.ts';
import { rlsaError, snapshot } from './helpers.ts';

describe('jumble', () => {
  it('stacks the spaces as separate samples, zero-padded to the widest', () => {
    const a = matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    const b = matrix(1, 2, new Float64Array([7, 8]));
    const [a0, b0] = [snapshot(a), snapshot(b)];
    const j = jumble([a, b]);
    expect([j.rows, j.cols]).toEqual([3, 3]);
    expect(j.data).toBeInstanceOf(Float32Array);
    expect(Array.from(j.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0]);
    expect(a).toEqual(a0);
    expect(b).toEqual(b0);
  });

  it('rejects no spaces', () => {
    expect(rlsaError(() => jumble([])).code).toBe('invalid_argument');
  });
});

describe('absoluteMean', () => {
  it('averages element-wise', () => {
    const m = absoluteMean([matrix(1, 3, [1, 2, 3]), matrix(1, 3, [3, 2, 0]), matrix(1, 3, [2, 2, 0])]);
    expect(Array.from(m.data)).toEqual([2, 2, 1]);
  });

  it('requires identical shapes', () => {
    expect(rlsaError(() => absoluteMean([matrix(1, 3), matrix(1, 2)])).code).toBe('shape_mismatch');
    expect(rlsaError(() => absoluteMean([matrix(1, 3), matrix(2, 3)])).code).toBe('shape_mismatch');
    expect(rlsaError(() => absoluteMean([])).code).toBe('invalid_argument');
  });
});
