import { Command } from 'commander';
import { commands } from './commands/index.ts';

/**
 * The `rlsa` command line without parsing anything: every subcommand from `commands/index.ts`
 * registered on a fresh root program. `main.ts` parses argv with it; the deployment drift test
 * reads its registered options, so that the manifests cannot pass a flag the programs lack.
 */
export function buildProgram(): Command {
  const program = new Command('rlsa')
    .description('Relative Latent Space Aggregation: merge latent spaces of separately trained models')
    .showHelpAfterError(false)
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}
