import { CodedError } from './coded-error.ts';

/**
 * Why an operation of the numeric core refused its input. A closed set, so that the
 * edges (CLI, gRPC service) can map each to an exit status or a gRPC status code.
 */
export type RlsaErrorCode =
  /** An argument is out of its domain (negative k, unknown similarity, empty input). */
  | 'invalid_argument'
  /** Array lengths or matrix shapes do not agree. */
  | 'shape_mismatch'
  /** A value is NaN or ±Inf. */
  | 'non_finite'
  /** A row has zero norm where a direction is needed (cosine, angular). */
  | 'zero_norm'
  /** The input is larger than the operation accepts (e.g. RBF CKA above its N limit). */
  | 'too_large'
  /** The state does not allow the operation (e.g. reading a streaming accumulator with no rows). */
  | 'failed_precondition';

/** The one error type of the numeric core: a code from a closed set, a message for people, and a cause. */
export class RlsaError extends CodedError<RlsaErrorCode> {
  override readonly name = 'RlsaError';
  static override readonly defaultCode: RlsaErrorCode = 'invalid_argument';
}
