import { CodedError } from '@rlsa/core';

/**
 * Why an NPY file or buffer was refused. A closed set, so that the command line can say
 * exactly what is wrong and services can map each to a status.
 */
export type NpyErrorCode =
  /** The file does not exist. */
  | 'not_found'
  /** The file exists but could not be read or written (permissions, a directory, disk full). */
  | 'io_error'
  /** The bytes do not start with the NPY magic string `\x93NUMPY`. */
  | 'not_npy'
  /** A format version other than 1.0, 2.0 or 3.0. */
  | 'unsupported_version'
  /** The header dictionary is malformed, or its keys or values are wrong. */
  | 'bad_header'
  /** A dtype this reader does not handle (strings, objects, structured, complex, ...). */
  | 'unsupported_dtype'
  /** The array is stored in Fortran (column-major) order. */
  | 'fortran_order'
  /** The data section is shorter or longer than the shape and dtype say. */
  | 'size_mismatch'
  /** The array is valid NPY but not what the caller needs (rank, dtype kind, values). */
  | 'invalid_content'
  /** The caller passed something that cannot be encoded. */
  | 'invalid_argument';

/** The one error type of @rlsa/npy: a code, a message that names the file, the file, and a cause. */
export class NpyError extends CodedError<NpyErrorCode> {
  override readonly name = 'NpyError';
  /** The file (or buffer name) the error is about, when known. */
  readonly source: string | undefined;

  /** Every code is a user's file at fault, not the program: the CLI prints the message on one line and exits 2. */
  constructor(code: NpyErrorCode, message: string, options?: { source?: string; cause?: unknown }) {
    super(code, options?.source === undefined ? message : `${options.source}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.source = options?.source;
  }
}
