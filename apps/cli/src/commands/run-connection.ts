import type { Command } from 'commander';
import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient } from '@rlsa/client';
import { addOptions, defineOptions, resolveOptions, toggle } from '@rlsa/options';
import type { OptionValues } from '@rlsa/options';
import { connectionFromSettings } from '@rlsa/trainer-node/connection';
import { TRAINER_OPTIONS } from '@rlsa/trainer-node/options';
import { operatorAction } from './run-exit-codes.ts';

const { aggregator, ...credentials } = TRAINER_OPTIONS.connection.options;

/**
 * The options of every command that talks to a running aggregator: the trainer node's connection
 * options (the same flags and RLSA_* variables: --aggregator, --token or --token-file, --tls-ca,
 * --tls-cert, --tls-key), the address required here, and --json.
 */
export const OPERATOR_OPTIONS = defineOptions({
  connection: {
    heading: 'Connection (as for a trainer node):',
    options: { aggregator: { ...aggregator, help: 'aggregator address', required: true, present: true }, ...credentials },
  },
  output: {
    heading: 'Output:',
    options: { json: toggle('--json', 'print JSON for scripts (JSON lines for a live watch) instead of a table', { env: false }) },
  },
});
export type OperatorSettings = OptionValues<typeof OPERATOR_OPTIONS>;

/** The client of the aggregator the settings name (the token read from --token-file, the PEM files read). */
export function openOperatorClient(settings: OperatorSettings): AggregatorClient {
  const connection = connectionFromSettings({ ...settings.connection });
  if (connection === undefined) throw new Error('--aggregator is required');
  return createAggregatorClient({
    address: connection.address,
    ...(connection.token !== undefined ? { token: connection.token } : {}),
    ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
  });
}

/**
 * Adds the operator options to `command` and sets its action: the settings resolved, a client
 * opened (and closed after), and failures turned into one line and an exit status (`EXIT_CODES`).
 */
export function operatorCommand<A extends unknown[]>(
  command: Command,
  run: (client: AggregatorClient, settings: OperatorSettings, args: A, command: Command) => Promise<void>,
): Command {
  return addOptions(command, OPERATOR_OPTIONS).action(async (...received: unknown[]) => {
    const cmd = received.at(-1) as Command;
    const args = received.slice(0, -2) as A;
    await operatorAction(async () => {
      const settings = resolveOptions(cmd, OPERATOR_OPTIONS);
      const client = openOperatorClient(settings);
      try {
        await run(client, settings, args, cmd);
      } finally {
        client.close();
      }
    });
  });
}
