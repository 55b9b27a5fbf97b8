import { Metadata, status } from '@grpc/grpc-js';
import { CodedError, isUserFacing } from '@rlsa/core';
import { describe, expect, it } from 'vitest';
import { AggregatorCallError } from '../src/index.ts';

describe('AggregatorCallError', () => {
  it('carries the status name as its code, the number and the details, and is printed as one line', () => {
    const serviceError = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: status.UNAVAILABLE,
      details: 'No connection established',
      metadata: new Metadata(),
    });
    const error = AggregatorCallError.fromCall(serviceError, 'Join');
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', grpcCode: status.UNAVAILABLE, details: 'No connection established', method: 'Join' });
    expect(error.message).toBe('Join: UNAVAILABLE: No connection established');
    expect(isUserFacing(error)).toBe(true);
    expect(AggregatorCallError.fromCall(error, 'Other')).toBe(error);
  });

  it('wraps anything else as UNKNOWN', () => {
    expect(AggregatorCallError.fromCall(new Error('socket hang up'), 'Upload')).toMatchObject({ code: 'UNKNOWN', grpcCode: status.UNKNOWN, details: 'socket hang up' });
  });
});
