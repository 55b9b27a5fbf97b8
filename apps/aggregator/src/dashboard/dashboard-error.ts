import { CodedError } from '@rlsa/core';
import { toAggregatorError } from '../grpc-status.ts';
import type { AggregatorErrorCode } from '../errors.ts';

/**
 * Why the dashboard refused a request: a closed set, each code one HTTP status (`HTTP_STATUS`,
 * the one place where codes become statuses).
 */
export type DashboardErrorCode =
  /** Malformed: a bad form, a bad percent-encoding, a run id that cannot exist. */
  | 'bad_request'
  /** No session (or an expired one), or a login with an unknown token. */
  | 'unauthenticated'
  /** Authenticated but not allowed: a node token, a run the principal may not read, a cross-site form. */
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  /** The run's state does not allow it yet (e.g. the CKA before the reference uploaded a row). */
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  /** Too many live-update streams, or the aggregator is shutting down. */
  | 'unavailable'
  | 'internal';

export const HTTP_STATUS: Record<DashboardErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
  internal: 500,
};

export class DashboardError extends CodedError<DashboardErrorCode> {
  override readonly name = 'DashboardError';
  static override readonly defaultCode: DashboardErrorCode = 'internal';

  constructor(
    code: DashboardErrorCode,
    message: string,
    options?: { cause?: unknown; /** 405: the methods the path takes. */ allow?: readonly string[] },
  ) {
    super(code, message, options);
    this.allow = options?.allow;
  }

  readonly allow: readonly string[] | undefined;
}

/** What an aggregator refusal means on the dashboard's side. */
const FROM_AGGREGATOR: Record<AggregatorErrorCode, DashboardErrorCode> = {
  invalid_argument: 'bad_request',
  not_found: 'not_found',
  already_exists: 'conflict',
  failed_precondition: 'conflict',
  permission_denied: 'forbidden',
  unauthenticated: 'unauthenticated',
  resource_exhausted: 'payload_too_large',
  unavailable: 'unavailable',
  // The dashboard calls no method the aggregator leaves unimplemented: reaching one is a bug.
  unimplemented: 'internal',
  // Stored rows failed their checksum: the page cannot show them (a server-side fault, not the reader's).
  data_loss: 'internal',
  internal: 'internal',
};

/** Any thrown value as a DashboardError (the aggregator's and the core's codes keep their meaning). */
export function toDashboardError(error: unknown): DashboardError {
  if (error instanceof DashboardError) return error;
  const aggregator = toAggregatorError(error);
  return new DashboardError(FROM_AGGREGATOR[aggregator.code], aggregator.message, { cause: error });
}
