import { AggregatorCallError } from '@rlsa/client';
import type { GrpcStatusName } from '@rlsa/client';
import { isUserError } from '../user-error.ts';

/**
 * The exit statuses of the commands that talk to a running aggregator (`rlsa run ...`, `rlsa
 * export`, `rlsa evaluate`, `rlsa nearest`), declared once: the operator's guide lists them and the
 * specs check them. Every failure is one line on stderr (`rlsa: ...`); 1 is a bug (with its stack).
 */
export const EXIT_CODES = {
  /** Done. */
  ok: 0,
  /** A bug in rlsa: the stack is printed. */
  bug: 1,
  /** A mistake in the command: a flag, a file, or a request the aggregator found invalid (INVALID_ARGUMENT). */
  usage: 2,
  /** No such run, node or sample (NOT_FOUND). */
  notFound: 3,
  /** The token is missing, unknown, or does not grant this (UNAUTHENTICATED, PERMISSION_DENIED). */
  permission: 4,
  /** The aggregator cannot be reached or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED): try again. */
  unavailable: 5,
  /** The aggregator refused in the run's state or failed (FAILED_PRECONDITION: e.g. a closed run; ALREADY_EXISTS, RESOURCE_EXHAUSTED, DATA_LOSS, INTERNAL, ...). */
  refused: 6,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const BY_STATUS: Partial<Record<GrpcStatusName, ExitCodeName>> = {
  INVALID_ARGUMENT: 'usage',
  OUT_OF_RANGE: 'usage',
  NOT_FOUND: 'notFound',
  UNAUTHENTICATED: 'permission',
  PERMISSION_DENIED: 'permission',
  UNAVAILABLE: 'unavailable',
  DEADLINE_EXCEEDED: 'unavailable',
};

/** The exit status of a failure: by its gRPC status for a call's, 2 for any other mistake of the user's; undefined for a bug. */
export function exitCodeFor(error: unknown): number | undefined {
  if (error instanceof AggregatorCallError) return EXIT_CODES[BY_STATUS[error.code] ?? 'refused'];
  if (isUserError(error)) return EXIT_CODES.usage;
  return undefined;
}

/**
 * Runs an operator command's work: a failure the user can act on is printed as one line with its
 * exit status (`EXIT_CODES`); a bug goes on to the CLI's handler (its stack, status 1).
 */
export async function operatorAction(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error: unknown) {
    const code = exitCodeFor(error);
    if (code === undefined) throw error;
    process.stderr.write(`rlsa: ${(error as Error).message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
    process.exit(code);
  }
}
