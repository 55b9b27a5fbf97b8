import type { Command } from 'commander';
import { operatorCommand } from './run-connection.ts';
import { formatTable, printJson } from './run-output.ts';

/**
 * `rlsa evaluate RUN`: the aggregator's CKA table (linear CKA, biased and debiased) of the merged
 * space and of each trainer's space against the reference node, on the samples each shares with it.
 */
export function registerEvaluateCommand(program: Command): void {
  operatorCommand(
    program.command('evaluate').description("a run's CKA table: the merged space and each trainer against the reference").argument('<run>', 'run id'),
    async (client, settings, [runId]: [string]) => {
      const result = await client.evaluate(runId);
      if (settings.output.json) return printJson(result);
      process.stdout.write(`run ${runId}, against the reference ${result.referenceNodeId}\n`);
      const rows = result.scores.map((score) => [score.subject, score.n, score.linearBiased.toFixed(6), score.linearDebiased.toFixed(6)]);
      process.stdout.write(formatTable(['SPACE', 'SAMPLES', 'LINEAR CKA', 'LINEAR CKA (DEBIASED)'], rows));
    },
  );
}
