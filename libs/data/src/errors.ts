/**
 * Why a data set could not be read. A closed set so that the CLI and the simulation can tell
 * a missing download from a damaged file.
 */
export type DataErrorCode =
  /** The file or directory does not exist. */
  | 'not_found'
  /** The file ends before the size its header (or record size) promises. */
  | 'truncated'
  /** The file does not start with the magic number of its format. */
  | 'bad_magic'
  /** The file is readable but its content is inconsistent (dimensions, labels out of range, trailing bytes). */
  | 'bad_format'
  /** A caller passed an argument outside its domain (unknown data set, bad shape, bad id). */
  | 'invalid_argument';

/**
 * The one error type of @rlsa/data: a code, the file it concerns (when there is one) and a cause.
 * `userFacing` tells the CLI to print the message in one line instead of a stack trace.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** Read by the CLI: a data problem is the user's to fix (wrong --data-dir, damaged download). */
  readonly userFacing = true;

  constructor(
    /** Machine-readable reason. */
    readonly code: DataErrorCode,
    message: string,
    /** The file (or directory) the error is about, when there is one. */
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
