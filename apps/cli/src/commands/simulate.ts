import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { TEST_SPLITS, type TestSplit } from '@rlsa/data';
import type { SimulateOptions } from '@rlsa/simulation';
// Only the light settings module at start-up: every `rlsa` process (the aggregator and nodes the
// simulation starts, too) loads this file, and the simulation pulls in tfjs and vega.
import { DEFAULTS, PRESETS, type Preset } from '@rlsa/simulation/presets';
import { UsageError } from '../user-error.ts';

/** The `rlsa` entry script: the simulation starts the aggregator and the nodes with it. */
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/rlsa.mjs', import.meta.url));
/** The repository root (apps/cli/src/commands → four levels up). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Where this workspace keeps the paper's published results (outside the repository). */
export const DEFAULT_PAPER_RESULTS = resolve(REPO_ROOT, '../shared/reference/latent-aggregation-paper-results');

const SCENARIOS = ['shared-samples', 'shared-classes', 'disjoint'] as const;
const DATASETS = ['fashion-mnist', 'cifar100', 'cifar10', 'synthetic'] as const;
const STRATEGIES = ['random', 'stratified', 'fps', 'kmeans'] as const;
const BACKENDS = ['auto', 'node', 'wasm', 'cpu'] as const;
const ENCODINGS = ['float32', 'float16', 'int8'] as const;

/** Raw flag values as commander parses them (strings; numbers parsed by `intOption`). */
export interface SimulateFlags {
  scenario: (typeof SCENARIOS)[number];
  dataset: (typeof DATASETS)[number];
  dataDir?: string;
  nodes: number;
  model: string;
  models?: string;
  referenceModel?: string;
  epochs: number;
  batchSize: number;
  maxSamples: string;
  maxTestSamples: string;
  anchors: number;
  anchorStrategy: (typeof STRATEGIES)[number];
  shared?: number;
  novel?: number;
  sharedPercent?: number;
  testSplit: TestSplit;
  seed: number;
  out?: string;
  backend: (typeof BACKENDS)[number];
  encoding: (typeof ENCODINGS)[number];
  probe: boolean;
  probeEpochs: number;
  probePatience: number;
  probeMaxTrain: string;
  paperResults?: string;
  preset?: string;
  logLevel?: string;
  progress: boolean;
  json: boolean;
}

function intOption(name: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError('invalid_value', `${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** `all` or a positive integer. */
function limit(name: string, value: string): number | undefined {
  if (value === 'all') return undefined;
  return intOption(name, 1)(value);
}

/** Adds the options shared by `rlsa simulate` and `rlsa study` to a command. */
export function addSimulationOptions(command: Command): Command {
  const d = DEFAULTS;
  return command
    .addOption(new Option('--scenario <name>', 'shared-samples | shared-classes | disjoint').choices(SCENARIOS).default(d.scenario))
    .addOption(new Option('--dataset <name>', 'data set').choices(DATASETS).default(d.dataset))
    .option('--data-dir <dir>', "the data set's files (default: its standard location)")
    .option('--nodes <k>', 'trainer nodes (the reference comes on top)', intOption('--nodes', 1), d.nodes)
    .option('--model <name>', 'model of every node (mlp, vanilla-cnn, or a variant)', d.models[0])
    .option('--models <m1,m2,...>', 'one model per trainer node (mixed architectures)')
    .option('--reference-model <name>', "the reference node's model (default: the first trainer's)")
    .option('--epochs <n>', 'training epochs per node', intOption('--epochs', 1), d.epochs)
    .option('--batch-size <n>', 'training batch size', intOption('--batch-size', 1), d.batchSize)
    .option('--max-samples <n|all>', 'training samples per task at most (seeded, the same on every node)', String(d.maxSamples ?? 'all'))
    .option('--max-test-samples <n|all>', 'test samples at most (a seeded subset, the same on every node)', String(d.maxTestSamples ?? 'all'))
    .option('--anchors <n>', 'anchor count (the relative width)', intOption('--anchors', 1), d.anchors)
    .addOption(new Option('--anchor-strategy <name>', 'how anchors are picked from the pool').choices(STRATEGIES).default(d.anchorStrategy))
    .option('--shared <S>', 'shared-samples: classes every task holds', intOption('--shared', 0))
    .option('--novel <N>', 'shared-samples: classes of its own per task', intOption('--novel', 0))
    .option('--shared-percent <p>', "shared-classes: task 0's share of the first half of the classes", intOption('--shared-percent', 1))
    .addOption(
      new Option('--test-split <how>', "test samples a trainer embeds: those of its task's classes, or its share of the test split cut like the training split (the paper's protocol)")
        .choices(TEST_SPLITS)
        .default(d.testSplit),
    )
    .option('--seed <s>', 'seed of partitions, anchors, training and probes', intOption('--seed', 0), d.seed)
    .addOption(new Option('--backend <name>', 'tfjs backend of the nodes and the probe').choices(BACKENDS).default(d.backend))
    .addOption(new Option('--encoding <name>', 'upload encoding of the nodes').choices(ENCODINGS).default(d.encoding))
    .option('--no-probe', "skip the paper's probe (accuracy columns stay empty)")
    .option('--probe-epochs <n>', 'probe epochs at most (the paper: 100)', intOption('--probe-epochs', 1), d.probe.maxEpochs)
    .option('--probe-patience <n>', 'probe early-stopping patience', intOption('--probe-patience', 1), d.probe.patience)
    .option('--probe-max-train <n|all>', 'probe training rows at most (seeded sample)', String(d.probe.maxTrainRows ?? 'all'))
    .option('--paper-results <dir>', "the paper's published results (shown beside ours for paper presets)", DEFAULT_PAPER_RESULTS)
    .option('--log-level <level>', 'pino level (default: info, or warn under progress bars)')
    .option('--no-progress', 'no progress bars even on a terminal (pino logs instead)');
}

/** The flags the user actually gave (on the command line), so that presets fill only the others. */
function given(command: Command, name: string): boolean {
  const source = command.getOptionValueSource(name);
  return source === 'cli' || source === 'env' || source === 'config';
}

/**
 * SimulateOptions from defaults, then a preset run's settings, then the flags the user gave.
 */
export function optionsFromFlags(
  flags: SimulateFlags,
  command: Command,
  run: Partial<SimulateOptions>,
  wiring: Pick<SimulateOptions, 'out' | 'cliEntry' | 'logger' | 'progress' | 'signal' | 'preset' | 'paperResultsDir'>,
): SimulateOptions {
  const pickFlag = <T>(name: keyof SimulateFlags, fromPreset: T | undefined, fromFlag: T, fallback: T): T =>
    given(command, name) ? fromFlag : fromPreset !== undefined ? fromPreset : fallback;
  const models = flags.models
    ? flags.models.split(',').map((m) => m.trim()).filter((m) => m.length > 0)
    : given(command, 'model')
      ? [flags.model]
      : (run.models ?? DEFAULTS.models);
  const nodes = flags.models && !given(command, 'nodes') ? models.length : pickFlag('nodes', run.nodes, flags.nodes, DEFAULTS.nodes);
  const presetProbe = run.probe ?? DEFAULTS.probe;
  return {
    scenario: pickFlag('scenario', run.scenario, flags.scenario, DEFAULTS.scenario),
    dataset: pickFlag('dataset', run.dataset, flags.dataset, DEFAULTS.dataset),
    dataDir: flags.dataDir ?? run.dataDir,
    nodes,
    models,
    referenceModel: flags.referenceModel ?? run.referenceModel,
    epochs: pickFlag('epochs', run.epochs, flags.epochs, DEFAULTS.epochs),
    batchSize: pickFlag('batchSize', run.batchSize, flags.batchSize, DEFAULTS.batchSize),
    maxSamples: given(command, 'maxSamples') ? limit('--max-samples', flags.maxSamples) : 'maxSamples' in run ? run.maxSamples : DEFAULTS.maxSamples,
    maxTestSamples: given(command, 'maxTestSamples')
      ? limit('--max-test-samples', flags.maxTestSamples)
      : 'maxTestSamples' in run
        ? run.maxTestSamples
        : DEFAULTS.maxTestSamples,
    anchors: pickFlag('anchors', run.anchors, flags.anchors, DEFAULTS.anchors),
    anchorStrategy: pickFlag('anchorStrategy', run.anchorStrategy, flags.anchorStrategy, DEFAULTS.anchorStrategy),
    shared: flags.shared ?? run.shared,
    novel: flags.novel ?? run.novel,
    sharedPercent: flags.sharedPercent ?? run.sharedPercent,
    testSplit: pickFlag('testSplit', run.testSplit, flags.testSplit, DEFAULTS.testSplit),
    seed: pickFlag('seed', run.seed, flags.seed, DEFAULTS.seed),
    backend: pickFlag('backend', run.backend, flags.backend, DEFAULTS.backend),
    encoding: pickFlag('encoding', run.encoding, flags.encoding, DEFAULTS.encoding),
    probe: {
      enabled: flags.probe,
      maxEpochs: given(command, 'probeEpochs') ? flags.probeEpochs : presetProbe.maxEpochs,
      patience: given(command, 'probePatience') ? flags.probePatience : presetProbe.patience,
      maxTrainRows: given(command, 'probeMaxTrain') ? (limit('--probe-max-train', flags.probeMaxTrain) ?? null) : presetProbe.maxTrainRows,
    },
    ...wiring,
  };
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

/**
 * The runs `--preset` stands for (without it, one run of `--scenario`), and where the paper's numbers are
 * read from (a paper preset, or `--paper-results` given). With `--scenario`, only the preset's runs of
 * that scenario. Throws a UsageError for an unknown preset or a scenario it has no run of.
 */
export function presetRuns(
  flags: Pick<SimulateFlags, 'preset' | 'scenario' | 'paperResults'>,
  cmd: Command,
): { preset: Preset | undefined; runs: readonly PresetRun[]; paperResultsDir: string | null } {
  const preset = flags.preset === undefined ? undefined : PRESETS[flags.preset];
  if (flags.preset !== undefined && !preset) {
    throw new UsageError('invalid_value', `unknown preset "${flags.preset}" (one of ${Object.keys(PRESETS).join(', ')})`);
  }
  const runs = preset ? (given(cmd, 'scenario') ? preset.runs.filter((r) => (r.scenario ?? DEFAULTS.scenario) === flags.scenario) : preset.runs) : [{ label: flags.scenario }];
  if (runs.length === 0) throw new UsageError('invalid_value', `preset "${flags.preset}" has no ${flags.scenario} run (its runs: ${preset!.runs.map((r) => r.label).join(', ')})`);
  const paperResultsDir = preset?.paper || given(cmd, 'paperResults') ? (flags.paperResults ?? null) : null;
  return { preset, runs, paperResultsDir };
}

type PresetRun = Preset['runs'][number];

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

/**
 * `rlsa simulate`: the main job. With no arguments, the shared-classes scenario on Fashion-MNIST with
 * 2 nodes; prints the summary table and writes results.json, report.html, the arrays and the logs.
 */
export function registerSimulateCommand(program: Command): void {
  const command = program
    .command('simulate')
    .description('run an aggregator, K trainer nodes and a reference end to end and report how close the merged space comes to the reference')
    .option('--preset <name>', `a named set of runs: ${Object.keys(PRESETS).join(', ')}`)
    .option('--out <dir>', 'output directory (default runs/<timestamp>-<scenario>)')
    .option('--json', 'print results.json instead of the summary table', false);
  addSimulationOptions(command).action(async (flags: SimulateFlags, cmd: Command) => {
    const { preset, runs, paperResultsDir } = presetRuns(flags, cmd);
    const progress = flags.progress && process.stderr.isTTY === true;
    const logger = rootLogger(flags.logLevel, progress);
    const { ensureFashionMnist, formatSummary, simulate } = await import('@rlsa/simulation');
    await withInterrupts(async (signal) => {
      const stamp = timestamp();
      for (const run of runs) {
        const scenario = given(cmd, 'scenario') ? flags.scenario : (run.scenario ?? DEFAULTS.scenario);
        const base = flags.out ?? join('runs', preset ? `${stamp}-${preset.name}` : `${stamp}-${scenario}`);
        const out = preset && runs.length > 1 ? join(base, run.label) : base;
        const options = optionsFromFlags(flags, cmd, run, {
          out,
          cliEntry: CLI_ENTRY,
          logger,
          progress,
          signal,
          preset: preset?.name ?? null,
          paperResultsDir,
        });
        if (options.dataset === 'fashion-mnist') ensureFashionMnist(options.dataDir, (m) => logger.warn(m));
        if (progress) process.stderr.write(`${run.label}: ${options.nodes} nodes + reference on ${options.dataset}, output in ${out}\n`);
        const { results, outDir } = await simulate(options);
        if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        else process.stdout.write(`${formatSummary(results)}\n\nreport: ${join(outDir, 'report.html')}\n\n`);
      }
    });
  });
}
