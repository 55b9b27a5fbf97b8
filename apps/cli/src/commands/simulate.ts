import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { addOptions, choice, defineOptions, givenByUser, resolveOptions, text, toggle, type OptionSchema } from '@rlsa/options';
import type { SimulateOptions } from '@rlsa/simulation';
// Only the light settings modules at start-up: every `rlsa` process (the aggregator and nodes the
// simulation starts, too) loads this file, and the simulation pulls in tfjs and vega.
import { SIMULATION_OPTIONS, simulationRun, type SimulationLayer, type SimulationRun } from '@rlsa/simulation/options';
import { DEFAULTS, PAPER_RESULTS_DIR, PRESETS, type Preset } from '@rlsa/simulation/presets';
import { LOG_LEVELS } from '../process-options.ts';
import { UsageError } from '../user-error.ts';

/** The `rlsa` entry script: the simulation starts the aggregator and the nodes with it. */
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/rlsa.mjs', import.meta.url));
/** The repository root (apps/cli/src/commands → four levels up). */
/** Where this workspace keeps the paper's published results (outside the repository). */
export const DEFAULT_PAPER_RESULTS = PAPER_RESULTS_DIR;

/** How `simulate` and `study` report: the paper's numbers, the log level, progress bars. */
export const REPORTING_OPTIONS = {
  paperResults: text('--paper-results <dir>', "the paper's published results (shown beside ours for paper presets)", { default: DEFAULT_PAPER_RESULTS }),
  logLevel: choice('--log-level <level>', 'pino level (default: info, or warn under progress bars)', LOG_LEVELS),
  progress: toggle('--no-progress', 'no progress bars even on a terminal (pino logs instead)'),
};

/** `rlsa simulate`'s options: the run's settings and its output. */
export const SIMULATE_COMMAND_OPTIONS = defineOptions({
  ...SIMULATION_OPTIONS,
  output: {
    heading: 'Output:',
    options: {
      preset: text('--preset <name>', `a named set of runs: ${Object.keys(PRESETS).join(', ')}`),
      out: text('--out <dir>', 'output directory (default runs/<timestamp>-<scenario>)'),
      json: toggle('--json', 'print results.json instead of the summary table'),
      ...REPORTING_OPTIONS,
    },
  },
});

/** A preset's run (or, without a preset, the one run of the flags) and its label. */
type PresetRun = Preset['runs'][number];

/**
 * The runs `--preset` stands for (without it, one run of `--scenario`), and where the paper's numbers are
 * read from (a paper preset, or `--paper-results` given). With `--scenario`, only the preset's runs of
 * that scenario. Throws a UsageError for an unknown preset or a scenario it has no run of.
 */
export function presetRuns(
  cmd: Command,
  given: { readonly preset?: string | undefined; readonly scenario: string; readonly paperResults: string },
): { preset: Preset | undefined; runs: readonly PresetRun[]; paperResultsDir: string | null } {
  const preset = given.preset === undefined ? undefined : PRESETS[given.preset];
  if (given.preset !== undefined && !preset) {
    throw new UsageError('invalid_value', `unknown preset "${given.preset}" (one of ${Object.keys(PRESETS).join(', ')})`);
  }
  const scenarioOf = (r: PresetRun): string => r.scenario ?? DEFAULTS.partition.scenario;
  const runs = preset ? (givenByUser(cmd, 'scenario') ? preset.runs.filter((r) => scenarioOf(r) === given.scenario) : preset.runs) : [{ label: given.scenario }];
  if (runs.length === 0) throw new UsageError('invalid_value', `preset "${given.preset}" has no ${given.scenario} run (its runs: ${preset!.runs.map((r) => r.label).join(', ')})`);
  const paperResultsDir = preset?.paper || givenByUser(cmd, 'paperResults') ? given.paperResults : null;
  return { preset, runs, paperResultsDir };
}

/** The run's settings: the flags the user gave over `layer` (a preset's run) over the defaults. */
export function runFromCommand(cmd: Command, schema: typeof SIMULATION_OPTIONS & OptionSchema, layer: SimulationLayer): SimulationRun {
  return simulationRun(resolveOptions(cmd, schema, [layer]), givenByUser(cmd, 'nodes'));
}

/** The process's root logger: pino JSON on stderr (stdout carries the summary). */
export function rootLogger(level: string | undefined, underProgress: boolean): Logger {
  return pino({ name: 'rlsa-simulate', level: level ?? (underProgress ? 'warn' : 'info') }, pino.destination(2));
}

/**
 * Runs `body` with an AbortSignal that fires on Ctrl-C or SIGTERM. An interrupted run prints one line
 * and exits 130 (the simulation has stopped everything it started by then).
 */
export async function withInterrupts<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } catch (error: unknown) {
    if (controller.signal.aborted) {
      process.stderr.write('rlsa: interrupted; stopped the aggregator and the nodes\n');
      process.exit(130);
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

/**
 * `rlsa simulate`: the main job. With no arguments, the shared-classes scenario on Fashion-MNIST with
 * 2 nodes; prints the summary table and writes results.json, report.html, the arrays and the logs.
 */
export function registerSimulateCommand(program: Command): void {
  const command = program
    .command('simulate')
    .description('run an aggregator, K trainer nodes and a reference end to end and report how close the merged space comes to the reference');
  // No RLSA_* variables: those in the user's shell are meant for a long-running aggregator or node.
  addOptions(command, SIMULATE_COMMAND_OPTIONS, { environment: false }).action(async (_flags: unknown, cmd: Command) => {
    const { output, partition } = resolveOptions(cmd, SIMULATE_COMMAND_OPTIONS);
    const { preset, runs, paperResultsDir } = presetRuns(cmd, { preset: output.preset, scenario: partition.scenario, paperResults: output.paperResults });
    const progress = output.progress && process.stderr.isTTY === true;
    const logger = rootLogger(output.logLevel, progress);
    const { ensureFashionMnist, formatSummary, simulate } = await import('@rlsa/simulation');
    await withInterrupts(async (signal) => {
      const stamp = timestamp();
      for (const run of runs) {
        const settings = runFromCommand(cmd, SIMULATE_COMMAND_OPTIONS, run);
        const base = output.out ?? join('runs', preset ? `${stamp}-${preset.name}` : `${stamp}-${settings.partition.scenario}`);
        const out = preset && runs.length > 1 ? join(base, run.label) : base;
        const options: SimulateOptions = { ...settings, output: { out, preset: preset?.name ?? null, paperResultsDir }, processes: { cliEntry: CLI_ENTRY, logger, progress, signal } };
        if (settings.data.dataset === 'fashion-mnist') ensureFashionMnist(settings.data.dataDir, (m) => logger.warn(m));
        if (progress) process.stderr.write(`${run.label}: ${settings.partition.nodes} nodes + reference on ${settings.data.dataset}, output in ${out}\n`);
        const { results, outDir } = await simulate(options);
        if (output.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        else process.stdout.write(`${formatSummary(results)}\n\nreport: ${join(outDir, 'report.html')}\n\n`);
      }
    });
  });
}
