import type { Command } from 'commander';
import { ADMIN_GRANT, formatGrant } from '@rlsa/core';
import { addToken, readTokensFile, removeTokens, setGrants } from '@rlsa/ops';

const GRANT_HELP = 'a grant: admin, or node|reader|reference:<run id> (* for every run); repeatable or comma-separated';

/** Collects a repeatable, comma-separated option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((part) => part.trim()).filter((part) => part !== '')];
}

/**
 * `rlsa tokens add|grant|remove|list`: the aggregator's bearer tokens file. `add` prints the new token once on
 * stdout (nothing else goes there, so `TOKEN=$(rlsa tokens add ...)` works) and stores only its SHA-256 and grants.
 */
export function registerTokensCommand(program: Command): void {
  const tokens = program.command('tokens').description("manage the aggregator's tokens file (SHA-256 hashes of the tokens and what each grants)");

  tokens
    .command('add')
    .description('generate a token for a subject, store its hash and grants, print the token once')
    .argument('<subject>', "the token's subject: a node id (node and reference grants act as it), an operator's or an analyst's name")
    .requiredOption('--file <file>', 'tokens file (YAML, or JSON when it ends in .json); created with mode 0600')
    .option('--grant <grant>', `${GRANT_HELP}; default: node:* for a new subject, the existing grants when rotating`, collect, [])
    .option('--admin', 'shorthand for --grant admin (creates, closes and deletes runs, reads everything)', false)
    .option('--replace', "rotate: drop the subject's existing tokens", false)
    .option('--keep', "rotate with overlap: keep the subject's existing tokens beside the new one", false)
    .action((subject: string, options: { file: string; grant: string[]; admin: boolean; replace: boolean; keep: boolean }) => {
      const grants = options.admin ? [ADMIN_GRANT, ...options.grant] : options.grant;
      const { token, entry } = addToken(options.file, subject, { grants, replace: options.replace, keep: options.keep });
      process.stderr.write(
        `added a token for ${entry.subject} granting ${entry.grants.map(formatGrant).join(', ')} to ${options.file} (sha256 ${entry.sha256.slice(0, 12)}…); ` +
          'it is printed once, below: hand it to its holder over a private channel. The aggregator reads the file at start and on SIGHUP.\n',
      );
      process.stdout.write(`${token}\n`);
    });

  tokens
    .command('grant')
    .description("replace what a subject's tokens grant (the tokens stay valid; the aggregator applies it on SIGHUP)")
    .argument('<subject>', 'node id, operator or analyst name')
    .requiredOption('--file <file>', 'tokens file')
    .requiredOption('--grant <grant>', GRANT_HELP, collect, [])
    .action((subject: string, options: { file: string; grant: string[] }) => {
      const changed = setGrants(options.file, subject, options.grant);
      process.stdout.write(`${subject}: ${changed} token${changed === 1 ? '' : 's'} now grant ${options.grant.join(', ')}\n`);
    });

  tokens
    .command('remove')
    .description("remove a subject's tokens (all, or the one whose hash starts with --hash)")
    .argument('<subject>', 'node id, operator or analyst name')
    .requiredOption('--file <file>', 'tokens file')
    .option('--hash <prefix>', 'only the token whose sha256 starts with this prefix')
    .action((subject: string, options: { file: string; hash?: string }) => {
      const removed = removeTokens(options.file, subject, options.hash === undefined ? {} : { sha256Prefix: options.hash });
      process.stdout.write(`removed ${removed} token${removed === 1 ? '' : 's'} of ${subject} from ${options.file}\n`);
    });

  tokens
    .command('list')
    .description('list subjects, grants and hash prefixes')
    .requiredOption('--file <file>', 'tokens file')
    .action((options: { file: string }) => {
      for (const entry of readTokensFile(options.file)) {
        process.stdout.write(`${entry.subject}\t${entry.grants.map(formatGrant).join(',')}\t${entry.sha256.slice(0, 12)}…\n`);
      }
    });
}
