import { CodedError } from '@rlsa/core';

/**
 * Why a party's data could not be read. A closed set, so that the node's command line can print
 * one line and exit 2, and a service can map each to a gRPC status.
 */
export type SourceErrorCode =
  /** An option or spec is out of its domain (unknown source kind, a resize rule that does not parse). */
  | 'invalid_argument'
  /** A file or folder does not exist. */
  | 'not_found'
  /**
   * A file exists but its content is not what the source needs: an unreadable or truncated image,
   * a class folder with no images, images of mixed sizes without a resize rule, arrays whose
   * lengths or dtypes do not fit, NaN or ±Inf values.
   */
  | 'bad_format'
  /** Two different contents were given one user-given sample id (ids.npy, --ids filename). */
  | 'id_conflict'
  /** Data that is readable but not the data expected (an anchor set whose fingerprint differs). */
  | 'failed_precondition'
  /** A bug. */
  | 'internal';

/** The one error type of @rlsa/sources: a code, a message that names the file, the file, and a cause. */
export class SourceError extends CodedError<SourceErrorCode> {
  override readonly name = 'SourceError';
  /** The file or folder the error is about, when there is one (also at the start of the message). */
  readonly file: string | undefined;

  constructor(code: SourceErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, options?.file === undefined ? message : `${options.file}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = options?.file;
  }
}

/**
 * An error from a lower layer (`NpyError`, a file-system error) as a SourceError naming `file`:
 * a missing file is `not_found`, anything else `bad_format`. SourceErrors pass through.
 */
export function sourceErrorFrom(error: unknown, file: string): SourceError {
  if (error instanceof SourceError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // NpyError messages already start with the file's name.
  const text = message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  const mapped = code === 'not_found' || code === 'ENOENT' ? 'not_found' : code === 'invalid_argument' ? 'invalid_argument' : 'bad_format';
  return new SourceError(mapped, text, { file, cause: error });
}
