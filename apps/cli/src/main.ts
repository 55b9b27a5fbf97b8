import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';
import { exitWithUsageError, isUserError } from './user-error.ts';

/**
 * The `rlsa` command line. Each subcommand lives in `commands/<name>.ts` and registers
 * itself on the program; a user's mistake ends with exit status 2 and one line on stderr.
 */
const program = new Command('rlsa')
  .description('Relative Latent Space Aggregation: merge latent spaces of separately trained models')
  .showHelpAfterError(false)
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  if (error instanceof CommanderError) {
    // Help and version requests end normally; a bad flag is a usage error (commander printed it).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (isUserError(error)) exitWithUsageError(error);
  throw error;
}
