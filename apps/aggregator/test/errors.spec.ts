import { status } from '@grpc/grpc-js';
import { CodedError, RlsaError, isUserFacing } from '@rlsa/core';
import { describe, expect, it } from 'vitest';
import { AggregatorError, toAggregatorError, toGrpcStatus } from '../src/index.ts';

describe('AggregatorError', () => {
  it('is a CodedError: user-facing for every code but internal (a bug prints its stack)', () => {
    const refused = new AggregatorError('failed_precondition', 'node n has not joined run r');
    expect(refused).toBeInstanceOf(CodedError);
    expect(isUserFacing(refused)).toBe(true);
    const bug = new AggregatorError('internal', 'chunk 3 is missing from storage');
    expect(bug.userFacing).toBe(false);
    expect(isUserFacing(bug)).toBe(false);
  });

  it('from() keeps an AggregatorError and wraps anything else as internal by default', () => {
    const refused = new AggregatorError('not_found', 'run r does not exist');
    expect(AggregatorError.from(refused)).toBe(refused);
    const wrapped = AggregatorError.from(new TypeError('x is undefined'));
    expect(wrapped).toMatchObject({ code: 'internal', message: 'x is undefined' });
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(AggregatorError.from('bad', 'invalid_argument')).toMatchObject({ code: 'invalid_argument', message: 'bad' });
  });

  it('maps to one gRPC status per code at the edge; core errors keep their meaning', () => {
    expect(toGrpcStatus(new AggregatorError('unavailable', 'draining'))).toMatchObject({ code: status.UNAVAILABLE, details: 'draining' });
    expect(toGrpcStatus(new AggregatorError('internal', 'boom'))).toMatchObject({ code: status.INTERNAL, details: 'internal error: boom' });
    expect(toGrpcStatus(new RlsaError('too_large', 'big'))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(toGrpcStatus(new RlsaError('non_finite', 'NaN'))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(toAggregatorError(new Error('unexpected'))).toMatchObject({ code: 'internal' });
  });
});
