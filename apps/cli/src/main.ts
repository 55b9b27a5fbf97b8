import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { exitWithInternalError, exitWithUsageError, isUserError } from './user-error.ts';

/**
 * The `rlsa` command line. Each subcommand lives in `commands/<name>.ts` and registers
 * itself on the program (`program.ts`); a user's mistake ends with exit status 2 and one line on stderr,
 * a bug with exit status 1 and its stack.
 */
const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  if (error instanceof CommanderError) {
    // Help and version requests end normally; a bad flag is a usage error (commander printed it).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (isUserError(error)) exitWithUsageError(error);
  exitWithInternalError(error);
}
