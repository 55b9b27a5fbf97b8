import { CodedError } from '@rlsa/core';

/** Why a simulation or a study stopped. */
export type SimulationErrorCode =
  /** A process the run depends on (the aggregator, a node) failed or left its work unfinished. */
  | 'process_failed'
  /** A process did not become ready in time. */
  | 'timeout'
  /** The user stopped the run (Ctrl-C, SIGTERM). */
  | 'interrupted'
  /** The data set's files are not where the run looks and could not be installed. */
  | 'dataset_missing'
  /** A setting is out of its domain (node count, models, anchors, a study's swept value). */
  | 'invalid_argument';

/** The simulation's one error type: every code is the user's to act on, printed as one line by the CLI. */
export class SimulationError extends CodedError<SimulationErrorCode> {
  override readonly name = 'SimulationError';
}
