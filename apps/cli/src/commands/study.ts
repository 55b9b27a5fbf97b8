import { join } from 'node:path';
import type { Command } from 'commander';
import { STUDY_KINDS, type StudyKind } from '@rlsa/simulation/presets';
import { UsageError } from '../user-error.ts';
import { CLI_ENTRY, addSimulationOptions, optionsFromFlags, presetRuns, rootLogger, withInterrupts, type SimulateFlags } from './simulate.ts';

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
    .argument('<kind>', STUDY_KINDS.join(' | '))
    .option('--values <list>', 'swept values, comma-separated: anchors "random:64,fps:256"; nodes "2,3,5,10"; architectures "mlp+mlp,mlp+vanilla-cnn"; seeds "1,2,3,4,5"')
    .option('--preset <name>', 'settings (and, for a paper preset, the paper\'s numbers) of one preset run: give --scenario when the preset has several')
    .option('--out <dir>', 'output directory (default runs/<timestamp>-study-<kind>)');
  addSimulationOptions(command).action(async (kind: string, flags: SimulateFlags & { values?: string }, cmd: Command) => {
    if (!(STUDY_KINDS as readonly string[]).includes(kind)) throw new UsageError('invalid_value', `unknown study "${kind}" (one of ${STUDY_KINDS.join(', ')})`);
    const progress = flags.progress && process.stderr.isTTY === true;
    const logger = rootLogger(flags.logLevel, progress);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
    const out = flags.out ?? join('runs', `${stamp}-study-${kind}`);
    // The shared-classes scenario is defined for 2 nodes only: the nodes study defaults to disjoint class blocks.
    const scenarioGiven = cmd.getOptionValueSource('scenario') === 'cli';
    const { preset, runs, paperResultsDir } = presetRuns(flags, cmd);
    if (preset && runs.length > 1) throw new UsageError('invalid_value', `a study sweeps one scenario: give --scenario with preset "${preset.name}" (its runs: ${runs.map((r) => r.label).join(', ')})`);
    const run = preset ? runs[0]! : kind === 'nodes' && !scenarioGiven ? { scenario: 'disjoint' as const } : {};
    const { ensureFashionMnist, study } = await import('@rlsa/simulation');
    await withInterrupts(async (signal) => {
      const base = optionsFromFlags(flags, cmd, run, { out, cliEntry: CLI_ENTRY, logger, progress, signal, preset: preset?.name ?? null, paperResultsDir });
      if (base.dataset === 'fashion-mnist') ensureFashionMnist(base.dataDir, (m) => logger.warn(m));
      const values = flags.values?.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      const result = await study({ kind: kind as StudyKind, values, base });
      process.stdout.write(`${result.table}\n\nstudy: ${join(result.outDir, 'study.html')}\n`);
    });
  });
}
