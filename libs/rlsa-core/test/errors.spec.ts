import { describe, expect, it } from 'vitest';
import { RlsaError } from '../src/errors.ts';

describe('RlsaError', () => {
  it('carries a code, a message and a cause', () => {
    const cause = new Error('inner');
    const e = new RlsaError('too_large', 'too many rows', { cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.message, e.cause]).toEqual(['RlsaError', 'too_large', 'too many rows', cause]);
  });

  it('from() keeps RlsaErrors and wraps anything else with the given code', () => {
    const original = new RlsaError('zero_norm', 'x row 0 has zero norm');
    expect(RlsaError.from(original, 'invalid_argument')).toBe(original);
    const wrapped = RlsaError.from(new TypeError('bad'), 'shape_mismatch');
    expect([wrapped.code, wrapped.message]).toEqual(['shape_mismatch', 'bad']);
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(RlsaError.from('plain').code).toBe('invalid_argument');
  });
});
