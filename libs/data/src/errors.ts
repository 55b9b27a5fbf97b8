import { CodedError } from '@rlsa/core';

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
 * Every code is the user's to fix (wrong --data-dir, damaged download): the CLI prints one line.
 */
export class DataError extends CodedError<DataErrorCode> {
  override readonly name = 'DataError';

  constructor(
    code: DataErrorCode,
    message: string,
    /** The file (or directory) the error is about, when there is one. */
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
