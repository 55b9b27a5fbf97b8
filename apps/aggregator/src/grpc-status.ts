import { status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { RlsaError } from '@rlsa/core';
import type { RlsaErrorCode } from '@rlsa/core';
import { boundedDetail } from './client-text.ts';
import { AggregatorError } from './errors.ts';
import type { AggregatorErrorCode } from './errors.ts';

const GRPC_STATUS: Record<AggregatorErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  unimplemented: status.UNIMPLEMENTED,
  data_loss: status.DATA_LOSS,
  internal: status.INTERNAL,
};

/** Core errors on request data are the client's fault (bad matrix), except `too_large` and `failed_precondition`. */
const FROM_CORE: Record<RlsaErrorCode, AggregatorErrorCode> = {
  invalid_argument: 'invalid_argument',
  shape_mismatch: 'invalid_argument',
  non_finite: 'invalid_argument',
  zero_norm: 'invalid_argument',
  too_large: 'resource_exhausted',
  failed_precondition: 'failed_precondition',
};

/** Any thrown value as an AggregatorError (core errors keep their meaning; anything else is internal). */
export function toAggregatorError(error: unknown): AggregatorError {
  if (error instanceof AggregatorError) return error;
  if (error instanceof RlsaError) return new AggregatorError(FROM_CORE[error.code], error.message, { cause: error });
  return AggregatorError.from(error, 'internal');
}

/** The gRPC status for an error: the one place where codes become statuses. */
export function toGrpcStatus(error: unknown): Partial<StatusObject> & { code: status; details: string } {
  const e = toAggregatorError(error);
  // Details stay short whatever a message quoted (a client's string is never sent back whole).
  const details = boundedDetail(e.code === 'internal' ? `internal error: ${e.message}` : e.message);
  return { code: GRPC_STATUS[e.code], details, metadata: new Metadata() };
}
