import { join } from 'node:path';
import type { Command } from 'commander';
import { STUDY_KINDS, type StudyKind } from '@rlsa/simulation/presets';
import { UsageError } from '../user-error.ts';
import { CLI_ENTRY, addSimulationOptions, optionsFromFlags, rootLogger, withInterrupts, type SimulateFlags } from './simulate.ts';

/**
 * `rlsa study anchors|nodes|architectures`: the paper's open questions as sweeps of full simulations
 * on one scenario, with a table and plots of CKA and accuracy against the swept value.
 */
export function registerStudyCommand(program: Command): void {
  const command = program
    .command('study')
    .description('sweep anchors (strategy:count), nodes (K) or architectures (models per node) over full simulations')
    .argument('<kind>', STUDY_KINDS.join(' | '))
    .option('--values <list>', 'swept values, comma-separated: anchors "random:64,fps:256"; nodes "2,3,5,10"; architectures "mlp+mlp,mlp+vanilla-cnn"')
    .option('--out <dir>', 'output directory (default runs/<timestamp>-study-<kind>)');
  addSimulationOptions(command).action(async (kind: string, flags: SimulateFlags & { values?: string }, cmd: Command) => {
    if (!(STUDY_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown study "${kind}" (one of ${STUDY_KINDS.join(', ')})`);
    const progress = flags.progress && process.stderr.isTTY === true;
    const logger = rootLogger(flags.logLevel, progress);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
    const out = flags.out ?? join('runs', `${stamp}-study-${kind}`);
    // The shared-classes scenario is defined for 2 nodes only: the nodes study defaults to disjoint class blocks.
    const scenarioGiven = cmd.getOptionValueSource('scenario') === 'cli';
    const run = kind === 'nodes' && !scenarioGiven ? { scenario: 'disjoint' as const } : {};
    const { ensureFashionMnist, study } = await import('@rlsa/simulation');
    await withInterrupts(async (signal) => {
      const base = optionsFromFlags(flags, cmd, run, { out, cliEntry: CLI_ENTRY, logger, progress, signal, preset: null, paperResultsDir: null });
      if (base.dataset === 'fashion-mnist') ensureFashionMnist(base.dataDir, (m) => logger.warn(m));
      const values = flags.values?.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      const result = await study({ kind: kind as StudyKind, values, base });
      process.stdout.write(`${result.table}\n\nstudy: ${join(result.outDir, 'study.html')}\n`);
    });
  });
}
