import type { Command } from 'commander';
import { UsageError } from '@rlsa/options';
import { operatorCommand } from './run-connection.ts';
import { registerRunCreate } from './run-create.ts';
import { printJson, runDetails, runsTable } from './run-output.ts';
import { registerRunWatch } from './run-watch.ts';

/**
 * `rlsa run create|list|show|watch|close|delete`: a running aggregator's runs, with the connection
 * flags and variables of a trainer node. Tables on stdout (`--json` for scripts); every failure one
 * line on stderr and an exit status of `EXIT_CODES` (run-exit-codes.ts).
 */
export function registerRunCommand(program: Command): void {
  const run = program.command('run').description("a running aggregator's runs: create, list, show, watch, close, delete");
  registerRunCreate(run);

  operatorCommand(run.command('list').description('the runs the token may read (all of them with an admin token)'), async (client, settings) => {
    const runs = await client.listRuns();
    if (settings.output.json) printJson(runs);
    else process.stdout.write(runs.length === 0 ? 'no runs\n' : runsTable(runs));
  });

  operatorCommand(run.command('show').description("a run's settings, totals and nodes (rows, finished, connected, task accuracy)").argument('<run>', 'run id'), async (client, settings, [runId]: [string]) => {
    const status = await client.getRun(runId);
    if (settings.output.json) printJson(status);
    else process.stdout.write(runDetails(status));
  });

  registerRunWatch(run);

  operatorCommand(run.command('close').description('close a run: no more joins or uploads; its merged space is final (admin)').argument('<run>', 'run id'), async (client, settings, [runId]: [string]) => {
    const status = await client.closeRun(runId);
    if (settings.output.json) printJson(status);
    else process.stdout.write(`run ${runId} is ${status.state}: ${status.mergedSamples} merged samples, final\n`);
  });

  operatorCommand(
    run
      .command('delete')
      .description("delete a run's data and give its disk space back; its status remains, DELETED (admin)")
      .argument('<run>', 'run id')
      .option('--yes', 'confirm: the deletion cannot be undone', false),
    async (client, settings, [runId]: [string], command) => {
      if (command.opts<{ yes: boolean }>().yes !== true) throw new UsageError('missing_option', `deleting run ${runId} cannot be undone: add --yes to confirm`);
      const { run: status, bytesFreed } = await client.deleteRun(runId, true);
      if (settings.output.json) printJson({ run: status, bytesFreed });
      else process.stdout.write(`run ${runId} is ${status.state}: ${bytesFreed} bytes freed\n`);
    },
  );
}
