import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createAggregatorClient, type AggregatorClient } from '@rlsa/client';
import type { SimulationRun } from './options.ts';
import { readPaperResults } from './paper-results.ts';
import { pcaViews } from './pca-views.ts';
import { PROBE_DEFAULTS } from './probe.ts';
import { ProcessGroup } from './processes.ts';
import { NodeProgress } from './progress.ts';
import { paperDifferences, renderReport } from './report.ts';
import { RESULTS_SCHEMA, type NodeResult, type SimulationResults } from './results.ts';
import { evaluateSpaces, type RunEvaluation } from './run/evaluate-spaces.ts';
import { abortPromise, nodeArgv, nodeSpecs, runNodes, startAggregator, threadsPerNode } from './run/launch.ts';
import type { RunPlan } from './run/plan-run.ts';
import { planRun } from './run/plan-run.ts';
import { readSpaces, type RunSpaces } from './run/read-spaces.ts';
import { Stopwatch } from './run/stopwatch.ts';
import { nodeResults, RUN_FILES, writeSpaces } from './run/write-outputs.ts';
import { setupNotes } from './setup-notes.ts';

/** Where a run writes and how it shows itself; besides the run's settings, what `simulate` needs. */
export interface SimulateOptions extends SimulationRun {
  readonly output: {
    /** Output directory (created). */
    readonly out: string;
    readonly preset?: string | null | undefined;
    /** Directory of the paper's published results; null: no paper column. */
    readonly paperResultsDir?: string | null | undefined;
  };
  readonly processes: {
    /** The `rlsa` entry script the aggregator and the nodes are started with (`node <cliEntry> aggregator ...`). */
    readonly cliEntry: string;
    readonly logger: Logger;
    /** Draw progress bars (a TTY); otherwise log progress with pino. */
    readonly progress: boolean;
    /** Aborting stops everything the run started and rejects with an `interrupted` error. */
    readonly signal?: AbortSignal | undefined;
    /** Seconds to wait for the aggregator's listening line (default 60). */
    readonly startTimeoutS?: number;
  };
}

export interface SimulationOutput {
  readonly results: SimulationResults;
  readonly outDir: string;
}

/** The paper's numbers for this run, or why there are none. */
function paperLookup(options: SimulateOptions): Pick<SimulationResults, 'paper' | 'paper_note'> {
  const dir = options.output.paperResultsDir;
  if (dir === null || dir === undefined) {
    return { paper: null, paper_note: 'this run is not a preset that reproduces the paper (--preset paper-cifar100; or pass --paper-results DIR to compare anyway)' };
  }
  const { scenario, shared, novel } = options.partition;
  const found = readPaperResults(dir, { scenario, dataset: options.data.dataset, ...(shared !== undefined ? { shared } : {}), ...(novel !== undefined ? { novel } : {}) });
  return { paper: found.comparison, paper_note: found.note };
}

/** results.json (without its timings): the settings, the nodes, CKA, every space's scores, the paper's numbers. */
function buildResults(options: SimulateOptions, plan: RunPlan, nodes: readonly NodeResult[], evaluation: RunEvaluation): Omit<SimulationResults, 'timings_s'> {
  const { partition, training, probe } = options;
  return {
    schema: RESULTS_SCHEMA,
    created_at: new Date().toISOString(),
    preset: options.output.preset ?? null,
    scenario: partition.scenario,
    dataset: options.data.dataset,
    data_dir: options.data.dataDir ?? null,
    seed: partition.seed,
    partition: {
      tasks: plan.partitions.length,
      shared: partition.scenario === 'shared-samples' ? (partition.shared ?? plan.sharedClasses.length) : null,
      novel: partition.scenario === 'shared-samples' ? (partition.novel ?? null) : null,
      shared_percent: partition.scenario === 'shared-classes' ? (partition.sharedPercent ?? 80) : null,
      shared_classes: plan.sharedClasses,
      max_samples: partition.maxSamples ?? null,
      max_test_samples: partition.maxTestSamples ?? null,
      test_split: partition.testSplit,
    },
    training: { epochs: training.epochs, batch_size: training.batchSize },
    backend: nodes.find((n) => n.backend)?.backend ?? training.backend,
    anchors: { count: plan.anchorIds.length, strategy: options.anchors.strategy, pool_size: plan.poolIds.length, similarity: 'cosine', fingerprint: plan.fingerprint },
    run_id: plan.runId,
    nodes,
    cka: evaluation.cka,
    spaces: evaluation.spaces,
    probe: {
      architecture: 'InstanceNorm1d → Linear(D, 256) → ReLU → Linear(256, classes)',
      optimizer: `Adam, lr ${PROBE_DEFAULTS.learningRate}`,
      batch_size: PROBE_DEFAULTS.batchSize,
      max_epochs: probe.maxEpochs,
      patience: probe.patience,
      validation_fraction: PROBE_DEFAULTS.validationFraction,
      max_train_rows: probe.maxTrainRows,
    },
    ...paperLookup(options),
    files: RUN_FILES,
    notes: setupNotes(options),
  };
}

/**
 * Phase 6, write: the arrays, the report (rendered once: the PCA scatter plots are the slow part; its
 * timing table shows the phases up to the report) and results.json with every phase's time and the total.
 */
async function writeRun(outDir: string, results: Omit<SimulationResults, 'timings_s'>, spaces: RunSpaces, plan: RunPlan, stopwatch: Stopwatch, log: Logger): Promise<SimulationResults> {
  for (const difference of paperDifferences({ ...results, timings_s: stopwatch.seconds })) log.info(difference);
  const views = pcaViews(plan.dataset.numClasses, plan.dataset.classNames, results.seed, [
    ['merged (RLSA)', spaces.merged],
    ['naive (jumble)', spaces.naive],
    ['end-to-end (relative)', spaces.referenceRelative],
  ]);
  const html = await renderReport({ ...results, timings_s: { ...stopwatch.seconds, total_before_report: stopwatch.elapsed() } }, views);
  writeFileSync(join(outDir, 'report.html'), html);
  stopwatch.mark('report');
  stopwatch.total();
  const final: SimulationResults = { ...results, timings_s: { ...stopwatch.seconds } };
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(final, null, 2)}\n`);
  return final;
}

/** Progress from the aggregator's view of the run (rows stored per node), until `stop` aborts; cosmetic. */
async function watchProgress(client: AggregatorClient, runId: string, progress: NodeProgress, stop: AbortSignal): Promise<void> {
  try {
    for await (const status of client.watchRun(runId, { signal: stop })) progress.status(status);
  } catch {
    // The watch ends when it is aborted or the aggregator stops.
  }
}

/**
 * Runs one simulation end to end: a real aggregator process on a free loopback port, K trainer
 * processes and a reference process over real gRPC, then reads the merged and per-node spaces back,
 * computes CKA, probe and centroid accuracies and separability, and writes results.json,
 * report.html, merged.npy, labels.npy, sample_ids.npy and every process's log into `out`.
 * Whatever happens (success, failure, abort), every process it started is stopped before it returns.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationOutput> {
  const { logger: log, signal } = options.processes;
  const stopwatch = new Stopwatch();
  const outDir = resolve(options.output.out);
  const [logDir, nodeDir] = [join(outDir, 'logs'), join(outDir, 'nodes')];
  for (const dir of [outDir, logDir, nodeDir]) mkdirSync(dir, { recursive: true });
  const plan = planRun(options, log);
  stopwatch.mark('prepare');
  const group = new ProcessGroup(logDir, options.processes.cliEntry);
  const aborted = abortPromise(signal);
  const progress = new NodeProgress(options.processes.progress, log);
  const watchAbort = new AbortController();
  let client: AggregatorClient | undefined;
  try {
    const aggregator = await startAggregator(group, outDir, (options.processes.startTimeoutS ?? 60) * 1000, aborted, log);
    stopwatch.mark('aggregator_start');
    client = createAggregatorClient({ address: aggregator.address, maxReceiveBytes: 256 * 1024 * 1024 });
    // Absolute uploads allowed: the naive and end-to-end baselines need them.
    const anchors = { kind: 'builtin' as const, dataset: plan.dataset.name, sampleIds: plan.anchorIds, fingerprint: plan.fingerprint };
    await client.createRun({ runId: plan.runId, anchors, similarity: 'cosine', allowAbsolute: true });
    stopwatch.mark('create_run');
    const specs = nodeSpecs(plan, options);
    for (const spec of specs) progress.add(spec.id, plan.expectedRows(spec.role, spec.task ?? undefined));
    const watching = watchProgress(client, plan.runId, progress, watchAbort.signal);
    await runNodes(specs, (spec) => nodeArgv(spec, plan, options, aggregator.address, nodeDir, threadsPerNode(specs.length)), group, progress, { aggregatorDied: aggregator.died, aborted });
    stopwatch.mark('train_and_upload');
    progress.stop();
    watchAbort.abort();
    await watching;
    progress.note('reading the merged space and the nodes’ spaces');
    const spaces = await readSpaces(client, plan.runId, specs, plan.dataset, aborted);
    stopwatch.mark('read');
    const trainers = specs.filter((s) => s.role === 'trainer');
    const evaluation = await evaluateSpaces(spaces, plan, options, trainers, { progress, stopwatch, signal, aborted });
    writeSpaces(outDir, spaces, trainers);
    const results = await writeRun(outDir, buildResults(options, plan, nodeResults(specs, spaces.status, plan, nodeDir), evaluation), spaces, plan, stopwatch, log);
    aggregator.stopping();
    return { results, outDir };
  } finally {
    progress.stop();
    watchAbort.abort();
    client?.close();
    await group.stopAll();
  }
}
