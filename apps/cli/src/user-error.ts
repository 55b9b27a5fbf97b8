import { CodedError } from '@rlsa/core';

export { UsageError } from '@rlsa/options';

/**
 * Whether an error is the user's to fix (printed as one line, exit 2): a coded error whose code is
 * not `internal`. Errors of packages not yet on `CodedError` say so with `userFacing: true`.
 */
export function isUserError(error: unknown): error is Error {
  if (error instanceof CodedError) return error.userFacing;
  return error instanceof Error && (error as { userFacing?: unknown }).userFacing === true;
}

/** Prints `rlsa: <message>` on one line and exits with status 2; no stack trace. */
export function exitWithUsageError(error: Error): never {
  const oneLine = error.message.replace(/\s*\n\s*/g, ' ').trim();
  process.stderr.write(`rlsa: ${oneLine}\n`);
  process.exit(2);
}

/** A bug (an `internal` coded error, or anything uncoded): the message and the stack with its causes, exit status 1. */
export function exitWithInternalError(error: unknown): never {
  const lines: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    lines.push(depth === 0 ? '' : 'caused by: ', e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e), '\n');
  }
  process.stderr.write(`rlsa: internal error (a bug; please report it with this trace)\n${lines.join('')}`);
  process.exit(1);
}
