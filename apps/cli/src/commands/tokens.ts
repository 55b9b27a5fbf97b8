import type { Command } from 'commander';
import { addToken, readTokensFile, removeTokens } from '@rlsa/ops';

/**
 * `rlsa tokens add|remove|list`: the aggregator's bearer tokens file. `add` prints the new token once on
 * stdout (nothing else goes there, so `TOKEN=$(rlsa tokens add ...)` works) and stores only its SHA-256.
 */
export function registerTokensCommand(program: Command): void {
  const tokens = program.command('tokens').description("manage the aggregator's tokens file (only SHA-256 hashes are stored)");

  tokens
    .command('add')
    .description('generate a token for a node (or an admin), store its hash, print the token once')
    .argument('<subject>', 'node id (or an operator name with --admin)')
    .requiredOption('--file <file>', 'tokens file (YAML, or JSON when it ends in .json); created with mode 0600')
    .option('--admin', 'an admin token (creates and manages runs) instead of a node token', false)
    .option('--replace', "rotate: drop the subject's existing tokens", false)
    .option('--keep', "rotate with overlap: keep the subject's existing tokens beside the new one", false)
    .action((subject: string, options: { file: string; admin: boolean; replace: boolean; keep: boolean }) => {
      const { token, entry } = addToken(options.file, subject, {
        role: options.admin ? 'admin' : 'node',
        replace: options.replace,
        keep: options.keep,
      });
      process.stderr.write(
        `added ${entry.role === 'admin' ? 'an admin' : 'a node'} token for ${entry.subject} to ${options.file} (sha256 ${entry.sha256.slice(0, 12)}…); ` +
          'it is printed once, below: hand it to its holder over a private channel. The aggregator reads the file at start.\n',
      );
      process.stdout.write(`${token}\n`);
    });

  tokens
    .command('remove')
    .description("remove a subject's tokens (all, or the one whose hash starts with --hash)")
    .argument('<subject>', 'node id or operator name')
    .requiredOption('--file <file>', 'tokens file')
    .option('--hash <prefix>', 'only the token whose sha256 starts with this prefix')
    .action((subject: string, options: { file: string; hash?: string }) => {
      const removed = removeTokens(options.file, subject, options.hash === undefined ? {} : { sha256Prefix: options.hash });
      process.stdout.write(`removed ${removed} token${removed === 1 ? '' : 's'} of ${subject} from ${options.file}\n`);
    });

  tokens
    .command('list')
    .description('list subjects, roles and hash prefixes')
    .requiredOption('--file <file>', 'tokens file')
    .action((options: { file: string }) => {
      for (const entry of readTokensFile(options.file)) process.stdout.write(`${entry.subject}\t${entry.role}\t${entry.sha256.slice(0, 12)}…\n`);
    });
}
