import { join } from 'node:path';
import type { Command } from 'commander';
import { addOptions, defineOptions, list, resolveOptions, text } from '@rlsa/options';
import { SIMULATION_OPTIONS, type SimulationLayer } from '@rlsa/simulation/options';
import { STUDY_KINDS, type StudyKind } from '@rlsa/simulation/presets';
import { UsageError } from '../user-error.ts';
import { CLI_ENTRY, REPORTING_OPTIONS, presetRuns, rootLogger, runFromCommand, timestamp, withInterrupts } from './simulate.ts';

/** `rlsa study`'s options: the base run's settings, the sweep and its output. */
export const STUDY_COMMAND_OPTIONS = defineOptions({
  ...SIMULATION_OPTIONS,
  study: {
    heading: 'Study:',
    options: {
      values: list(
        '--values <list>',
        'swept values, comma-separated: anchors "random:64,fps:256"; nodes "2,3,5,10"; architectures "mlp+mlp,mlp+vanilla-cnn"; seeds "1,2,3,4,5"',
      ),
      preset: text('--preset <name>', "settings (and, for a paper preset, the paper's numbers) of one preset run: give --scenario when the preset has several"),
      out: text('--out <dir>', 'output directory (default runs/<timestamp>-study-<kind>)'),
    },
  },
  output: { heading: 'Output:', options: REPORTING_OPTIONS },
});

/**
 * `rlsa study anchors|nodes|architectures|seeds`: the paper's open questions as sweeps of full
 * simulations on one scenario, with a table and plots of CKA and accuracy against the swept value;
 * `seeds` repeats one setting over seeds and gives each metric's mean and t interval, and against a
 * paper preset whether the seeds establish each of the paper's orderings.
 */
export function registerStudyCommand(program: Command): void {
  const command = program
    .command('study')
    .description('sweep anchors (strategy:count), nodes (K), architectures (models per node) or seeds over full simulations')
    .argument('<kind>', STUDY_KINDS.join(' | '));
  addOptions(command, STUDY_COMMAND_OPTIONS, { environment: false }).action(async (kind: string, _flags: unknown, cmd: Command) => {
    if (!(STUDY_KINDS as readonly string[]).includes(kind)) throw new UsageError('invalid_value', `unknown study "${kind}" (one of ${STUDY_KINDS.join(', ')})`);
    const { study: sweep, output, partition } = resolveOptions(cmd, STUDY_COMMAND_OPTIONS);
    const progress = output.progress && process.stderr.isTTY === true;
    const logger = rootLogger(output.logLevel, progress);
    const out = sweep.out ?? join('runs', `${timestamp()}-study-${kind}`);
    // The shared-classes scenario is defined for 2 nodes only: the nodes study defaults to disjoint class blocks.
    const scenarioGiven = cmd.getOptionValueSource('scenario') === 'cli';
    const { preset, runs, paperResultsDir } = presetRuns(cmd, { preset: sweep.preset, scenario: partition.scenario, paperResults: output.paperResults });
    if (preset && runs.length > 1) throw new UsageError('invalid_value', `a study sweeps one scenario: give --scenario with preset "${preset.name}" (its runs: ${runs.map((r) => r.label).join(', ')})`);
    const layer: SimulationLayer = preset ? runs[0]! : kind === 'nodes' && !scenarioGiven ? { scenario: 'disjoint' } : {};
    const { ensureFashionMnist, study } = await import('@rlsa/simulation');
    await withInterrupts(async (signal) => {
      const run = runFromCommand(cmd, STUDY_COMMAND_OPTIONS, layer);
      const base = { ...run, output: { out, preset: preset?.name ?? null, paperResultsDir }, processes: { cliEntry: CLI_ENTRY, logger, progress, signal } };
      if (run.data.dataset === 'fashion-mnist') ensureFashionMnist(run.data.dataDir, (m) => logger.warn(m));
      const result = await study({ kind: kind as StudyKind, values: sweep.values, base });
      process.stdout.write(`${result.table}\n\nstudy: ${join(result.outDir, 'study.html')}\n`);
    });
  });
}
