import { CodedError } from '@rlsa/core';

/**
 * Why choosing a tfjs backend or running one of the project's kernels failed. A closed set,
 * so the CLI can print one line and exit 2 and the trainer can map it to a status.
 */
export type TfjsKernelsErrorCode =
  /** The requested backend cannot be loaded here (e.g. `node` without a working `@tensorflow/tfjs-node`). */
  | 'backend_unavailable'
  /** A backend was already chosen in this process and a different one is requested now. */
  | 'backend_already_chosen'
  /** An argument is out of its domain (unknown preference, bad thread count, unknown kernel, NCHW filter gradient). */
  | 'invalid_argument';

/** The one error type of @rlsa/tfjs-kernels: a code from a closed set, a message for people, and a cause (all user-facing: a wrong `--backend`). */
export class TfjsKernelsError extends CodedError<TfjsKernelsErrorCode> {
  override readonly name = 'TfjsKernelsError';
}
