import { describe, expect, it } from 'vitest';
import { checkLabels, indicesByClass } from '../src/labels.ts';
import { rlsaError } from './helpers.ts';

describe('labels', () => {
  it('groups row indices by class, classes and indices ascending', () => {
    const groups = indicesByClass(checkLabels([3, 1, 3, 0, 1], 5, 'labels'));
    expect([...groups.entries()]).toEqual([
      [0, [3]],
      [1, [1, 4]],
      [3, [0, 2]],
    ]);
  });

  it('rejects a wrong count and non-integer or negative classes, naming the entry', () => {
    expect(rlsaError(() => checkLabels([0, 1], 3, 'labels')).code).toBe('shape_mismatch');
    const err = rlsaError(() => checkLabels([0, 1.5], 2, 'trainLabels'));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('trainLabels[1] = 1.5');
    expect(rlsaError(() => checkLabels([-1], 1, 'labels')).code).toBe('invalid_argument');
  });
});
