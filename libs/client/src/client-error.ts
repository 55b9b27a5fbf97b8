import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';

/** gRPC status names, e.g. 'NOT_FOUND', 'PERMISSION_DENIED'. */
export type GrpcStatusName = keyof typeof status;

/**
 * A failed call to the aggregator: the gRPC status (numeric and by name) and the server's
 * details. `userFacing` lets the CLI print it as one line instead of a stack trace.
 */
export class AggregatorCallError extends Error {
  override readonly name = 'AggregatorCallError';
  readonly userFacing = true;

  constructor(
    /** Status name ('UNAVAILABLE', 'INVALID_ARGUMENT', ...): the reason, for programs. */
    readonly code: GrpcStatusName,
    /** Numeric gRPC status code. */
    readonly grpcCode: number,
    /** The server's message. */
    readonly details: string,
    /** Which call failed, e.g. 'Join'. */
    readonly method: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${code}: ${details}`, options);
  }

  /** Wraps a grpc-js ServiceError (or anything else) into an AggregatorCallError. */
  static from(reason: unknown, method: string): AggregatorCallError {
    if (reason instanceof AggregatorCallError) return reason;
    if (isServiceError(reason)) {
      const name = (status[reason.code] ?? 'UNKNOWN') as GrpcStatusName;
      return new AggregatorCallError(name, reason.code, reason.details || reason.message, method, { cause: reason });
    }
    const message = reason instanceof Error ? reason.message : String(reason);
    return new AggregatorCallError('UNKNOWN', status.UNKNOWN, message, method, { cause: reason });
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof Error && typeof (value as { code?: unknown }).code === 'number' && 'details' in value;
}
