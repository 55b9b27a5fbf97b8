import { RlsaError } from '@rlsa/core';

/** A mistake of the user's (bad file, bad flag value, bad data): reported in one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Whether an error is the user's to fix rather than a bug: a UsageError, a core RlsaError,
 * or any error carrying `userFacing: true` (the libraries' typed errors set it).
 */
export function isUserError(error: unknown): error is Error {
  if (error instanceof UsageError || error instanceof RlsaError) return true;
  return error instanceof Error && (error as { userFacing?: unknown }).userFacing === true;
}

/** Prints `rlsa: <message>` on one line and exits with status 2; no stack trace. */
export function exitWithUsageError(error: Error): never {
  const oneLine = error.message.replace(/\s*\n\s*/g, ' ').trim();
  process.stderr.write(`rlsa: ${oneLine}\n`);
  process.exit(2);
}
