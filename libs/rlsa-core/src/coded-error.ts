/**
 * The one shape of every error the project throws on purpose: a machine-readable `code` from a
 * closed set (each package declares its own set as a string-literal union), a message for people
 * and a `cause`. Edges map codes to exit statuses or gRPC statuses; nothing matches message text.
 *
 * `internal` is the code of a bug or an unexpected failure: it is the one code that is not the
 * user's to fix, so it is not `userFacing` and the command line prints its stack.
 */
export abstract class CodedError<Code extends string = string> extends Error {
  constructor(
    /** Why it failed, for programs: the edges map it to exit and gRPC statuses. */
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the message alone tells the user what to fix (one line, no stack): every code but `internal`. */
  get userFacing(): boolean {
    return this.code !== 'internal';
  }

  /** The code `from` gives when none is named: `internal` (a subclass without that code overrides it). */
  static readonly defaultCode: string = 'internal';

  /**
   * Wraps anything caught as this error class with `code` (default: the class's `defaultCode`),
   * keeping errors of the class as they are (`AggregatorError.from(e)`).
   */
  static from<E extends CodedError>(
    this: { new (code: E['code'], message: string, options?: { cause?: unknown }): E; readonly defaultCode: string },
    reason: unknown,
    code: E['code'] = this.defaultCode as E['code'],
  ): E {
    if (reason instanceof this) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new this(code, message, { cause: reason });
  }
}

/** Whether `error` is a coded error the user can act on from its message alone (printed as one line). */
export function isUserFacing(error: unknown): error is CodedError {
  return error instanceof CodedError && error.userFacing;
}
