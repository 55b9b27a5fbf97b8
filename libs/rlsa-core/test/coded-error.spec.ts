import { describe, expect, it } from 'vitest';
import { CodedError, isUserFacing } from '../src/coded-error.ts';

type DemoCode = 'invalid_argument' | 'internal';
class DemoError extends CodedError<DemoCode> {
  override readonly name = 'DemoError';
}
class OtherError extends CodedError<'not_found'> {}

describe('CodedError', () => {
  it('carries a code, a message and a cause', () => {
    const cause = new Error('inner');
    const e = new DemoError('invalid_argument', 'bad flag', { cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.message, e.cause]).toEqual(['DemoError', 'invalid_argument', 'bad flag', cause]);
  });

  it('is user-facing for every code but internal', () => {
    expect(new DemoError('invalid_argument', 'x').userFacing).toBe(true);
    expect(new DemoError('internal', 'x').userFacing).toBe(false);
    expect(isUserFacing(new DemoError('invalid_argument', 'x'))).toBe(true);
    expect(isUserFacing(new DemoError('internal', 'x'))).toBe(false);
    expect(isUserFacing(new Error('plain'))).toBe(false);
  });

  it('from() keeps errors of its own class and wraps anything else, other coded errors included', () => {
    const own = new DemoError('invalid_argument', 'mine');
    expect(DemoError.from(own, 'internal')).toBe(own);
    const other = new OtherError('not_found', 'elsewhere');
    const wrapped = DemoError.from(other, 'internal');
    expect(wrapped).toBeInstanceOf(DemoError);
    expect([wrapped.code, wrapped.message, wrapped.cause]).toEqual(['internal', 'elsewhere', other]);
    expect(DemoError.from('plain', 'invalid_argument').message).toBe('plain');
    expect(DemoError.from('plain').code).toBe('internal');
  });
});
