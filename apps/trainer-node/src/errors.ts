import { CodedError } from '@rlsa/core';

/** Why a trainer node stopped. A closed set, so that the CLI and the simulation can tell a bad flag from a network failure. */
export type TrainerErrorCode =
  /** A setting is out of its domain (unknown model, task beyond the scenario, bad encoding). */
  | 'invalid_argument'
  /** The run does not accept this node (anchor fingerprint mismatch, width mismatch, absolute uploads not allowed). */
  | 'failed_precondition'
  /** The aggregator could not be reached or kept failing after every retry. */
  | 'unavailable'
  /** Training produced non-finite values. */
  | 'training_failed';

/** The one error type of the trainer node: a code, a message for people (the CLI prints one line, exit 2) and a cause. */
export class TrainerError extends CodedError<TrainerErrorCode> {
  override readonly name = 'TrainerError';
}
