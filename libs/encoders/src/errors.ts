import { CodedError } from '@rlsa/core';

/**
 * Why a party's model could not be used. A closed set, so that the node's command line can
 * print one line and exit 2.
 */
export type EncoderErrorCode =
  /** An option is out of its domain (unknown model kind, a layout that does not parse). */
  | 'invalid_argument'
  /** A model file or folder does not exist. */
  | 'not_found'
  /**
   * A file is not what it must be: an unreadable model, embeddings and ids of different lengths,
   * anchor embeddings of the wrong count or width, NaN or ±Inf.
   */
  | 'bad_format'
  /** The model's input or output does not fit the data (shape, layout, channels, output rank). */
  | 'model_mismatch'
  /** A bug. */
  | 'internal';

/** The one error type of @rlsa/encoders: a code, a message that names the file, the file, and a cause. */
export class EncoderError extends CodedError<EncoderErrorCode> {
  override readonly name = 'EncoderError';
  /** The model file or folder the error is about (also at the start of the message). */
  readonly file: string | undefined;

  constructor(code: EncoderErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, options?.file === undefined ? message : `${options.file}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = options?.file;
  }
}
