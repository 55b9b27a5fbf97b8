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

/** The one error type of the trainer node: a code, a message for people and a cause. */
export class TrainerError extends Error {
  override readonly name = 'TrainerError';
  /** Read by the CLI: printed in one line, exit status 2. */
  readonly userFacing = true;

  constructor(
    readonly code: TrainerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
