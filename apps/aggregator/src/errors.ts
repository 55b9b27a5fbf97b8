import { CodedError } from '@rlsa/core';

/**
 * Why the aggregator refused a request. A closed set mirroring the gRPC status codes it
 * answers with; the mapping to gRPC happens only at the service edge (grpc-status.ts).
 */
export type AggregatorErrorCode =
  /** The request itself is malformed: bad shapes, NaN/Inf, unknown enum values, duplicate ids in one chunk. */
  | 'invalid_argument'
  /** The run (or node, or sample) does not exist. */
  | 'not_found'
  /** The client tried to store something that exists with other content (a run, a chunk seq, a node's sample). */
  | 'already_exists'
  /** The request is well formed but the state does not allow it: wrong fingerprint or width, not joined, gap in seqs, finished. */
  | 'failed_precondition'
  /** The caller is authenticated but may not do this (a node writing as another, a node calling an admin method). */
  | 'permission_denied'
  /** No valid credentials. */
  | 'unauthenticated'
  /** Over a size limit (rows per chunk, request size). */
  | 'resource_exhausted'
  /** The server is draining, or its disk is full, or otherwise not taking this request now; retry elsewhere or later. */
  | 'unavailable'
  /** A method the protocol declares that this aggregator does not implement yet. */
  | 'unimplemented'
  /** Accepted data that storage no longer holds intact (a chunk failing its checksum): retrying does not help. */
  | 'data_loss'
  /** A bug or an unexpected storage failure. */
  | 'internal';

/**
 * The aggregator's one error type: a code from a closed set, a message for people, and a cause.
 * `internal` (a bug, an unexpected storage failure) is not user-facing: its stack is printed.
 */
export class AggregatorError extends CodedError<AggregatorErrorCode> {
  override readonly name = 'AggregatorError';
  static override readonly defaultCode: AggregatorErrorCode = 'internal';
}
