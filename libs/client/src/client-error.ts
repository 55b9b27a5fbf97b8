import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CodedError } from '@rlsa/core';

/** gRPC status names, e.g. 'NOT_FOUND', 'PERMISSION_DENIED'. */
export type GrpcStatusName = keyof typeof status;

/**
 * A failed call to the aggregator: the gRPC status by name (`code`, the reason for programs) and
 * number, and the server's details. Every status is the user's to read in one line (the CLI prints
 * no stack): an INTERNAL from the server is the server's bug, not the caller's.
 */
export class AggregatorCallError extends CodedError<GrpcStatusName> {
  override readonly name = 'AggregatorCallError';
  static override readonly defaultCode: GrpcStatusName = 'UNKNOWN';

  constructor(
    /** Status name ('UNAVAILABLE', 'INVALID_ARGUMENT', ...): the reason, for programs. */
    code: GrpcStatusName,
    /** Numeric gRPC status code. */
    readonly grpcCode: number,
    /** The server's message. */
    readonly details: string,
    /** Which call failed, e.g. 'Join'. */
    readonly method: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${method}: ${code}: ${details}`, options);
  }

  /** Whether the message alone says what failed: always (a status from the server or the channel). */
  override get userFacing(): boolean {
    return true;
  }

  /** Wraps a grpc-js ServiceError (or anything else) thrown by call `method` into an AggregatorCallError. */
  static fromCall(reason: unknown, method: string): AggregatorCallError {
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
