import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { selectAnchors, type AnchorStrategy, type Matrix, type Scenario } from '@rlsa/core';
import { createAggregatorClient, type AggregatorClient, type SpaceRows } from '@rlsa/client';
import { pca2 } from '@rlsa/charts';
import { linalgForWork } from '@rlsa/linalg-tfjs';
import {
  TEST_ID_OFFSET,
  anchorFingerprint,
  anchorPoolIds,
  imageSize,
  loadDataset,
  nodeSamples,
  taskPartitions,
  testPartitions,
  type DatasetName,
  type TestSplit,
  type ImageDataset,
} from '@rlsa/data';
import { classMetrics, ckaVsReference, isTestId, naiveSpace, NAIVE_DEFINITION, splitTrainTest, withTaskOneHot, type LabelledSpace } from './metrics.ts';
import { writeNpy } from '@rlsa/npy';
import { paperDifferences, renderReport, type ReportViews } from './report.ts';
import { readPaperResults } from './paper-results.ts';
import { instanceNormalize, PROBE_DEFAULTS, type ProbeResult } from './probe.ts';
import { trainProbes } from './probe-pool.ts';
import { lastMessage, parseListeningLine, ProcessGroup, SimulationError, waitForLine, type ManagedProcess } from './processes.ts';
import { NodeProgress } from './progress.ts';
import { seededUniform, shuffleInPlace } from './random.ts';
import { RESULTS_SCHEMA, type CkaResult, type NodeResult, type SimulationResults, type SpaceResult } from './results.ts';

/** Everything a simulation run needs; the CLI fills it from flags, presets and defaults. */
export interface SimulateOptions {
  readonly scenario: Scenario;
  readonly dataset: DatasetName;
  readonly dataDir?: string | undefined;
  /** Trainer nodes K (the reference comes on top). */
  readonly nodes: number;
  /** Model of each trainer (one entry: all trainers). */
  readonly models: readonly string[];
  /** Model of the reference node (default: the first trainer's). */
  readonly referenceModel?: string | undefined;
  readonly epochs: number;
  readonly batchSize: number;
  /** Training samples per task at most (seeded, the same on every node); undefined: all. */
  readonly maxSamples?: number | undefined;
  /** Test samples at most (a seeded subset of the test split, the same on every node); undefined: all. */
  readonly maxTestSamples?: number | undefined;
  readonly anchors: number;
  readonly anchorStrategy: AnchorStrategy;
  readonly shared?: number | undefined;
  readonly novel?: number | undefined;
  readonly sharedPercent?: number | undefined;
  /**
   * Which test samples a trainer embeds (default `classes`: every test sample of its task's classes);
   * `partition` cuts the test split like the training split, as the paper does (in shared-classes
   * each test sample then goes to one trainer). The reference always embeds every test sample.
   */
  readonly testSplit?: TestSplit | undefined;
  readonly seed: number;
  /** Output directory (created). */
  readonly out: string;
  readonly backend: 'auto' | 'node' | 'wasm' | 'cpu';
  readonly encoding: 'float32' | 'float16' | 'int8';
  readonly probe: {
    readonly enabled: boolean;
    readonly maxEpochs: number;
    readonly patience: number;
    readonly maxTrainRows: number | null;
    /** Worker threads training probes at once (default: min(2, cores)). */
    readonly threads?: number;
  };
  /** Directory of the paper's published results; null: no paper column. */
  readonly paperResultsDir?: string | null | undefined;
  readonly preset?: string | null | undefined;
  /** The `rlsa` entry script the aggregator and the nodes are started with (`node <cliEntry> aggregator ...`). */
  readonly cliEntry: string;
  readonly logger: Logger;
  /** Draw progress bars (a TTY); otherwise log progress with pino. */
  readonly progress: boolean;
  /** Aborting stops everything the run started and rejects with an `interrupted` error. */
  readonly signal?: AbortSignal | undefined;
  /** Seconds to wait for the aggregator's listening line (default 60). */
  readonly startTimeoutS?: number;
}

export interface SimulationOutput {
  readonly results: SimulationResults;
  readonly outDir: string;
}

const POOL_SIZE = 1000;

/** Wall-clock stopwatch for the phases of a run, in seconds. */
class Phases {
  private readonly start = performance.now();
  private last = this.start;
  readonly seconds: Record<string, number> = {};
  mark(phase: string): void {
    const now = performance.now();
    this.seconds[phase] = Math.round((now - this.last) / 10) / 100;
    this.last = now;
  }
  /** Seconds since the start. */
  elapsed(): number {
    return Math.round((performance.now() - this.start) / 10) / 100;
  }
  total(): void {
    this.seconds['total'] = this.elapsed();
  }
}

function abortPromise(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    const fail = (): void => reject(new SimulationError('interrupted: stopped the aggregator and the nodes', 'interrupted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** The pool's pixels as a Float32 matrix in [0, 1] (for the fps and kmeans anchor strategies). */
function poolMatrix(dataset: ImageDataset, poolIds: Uint32Array): Matrix {
  const size = imageSize(dataset);
  const data = new Float32Array(poolIds.length * size);
  for (let k = 0; k < poolIds.length; k++) {
    const id = poolIds[k]!;
    const pixels = dataset.train.images.subarray(id * size, (id + 1) * size);
    for (let p = 0; p < size; p++) data[k * size + p] = pixels[p]! / 255;
  }
  return { rows: poolIds.length, cols: size, data };
}

/** Class label of a global sample id. */
function labelOf(dataset: ImageDataset, id: number): number {
  return id >= TEST_ID_OFFSET ? dataset.test.labels[id - TEST_ID_OFFSET]! : dataset.train.labels[id]!;
}

function toLabelled(rows: SpaceRows, dataset: ImageDataset): LabelledSpace {
  // Labels come from the data set by id: the same for every space, whatever a node sent.
  const labels = Int32Array.from(rows.sampleIds, (id) => labelOf(dataset, id));
  return { sampleIds: rows.sampleIds, values: { rows: rows.values.rows, cols: rows.values.cols, data: rows.values.data }, labels };
}

function readJsonIfAny(path: string): Record<string, unknown> | null {
  try {
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A field of a node's results file by any of its likely names (the file is the trainer's; read leniently). */
function pick<T>(json: Record<string, unknown> | null, names: readonly string[], type: 'number' | 'string'): T | null {
  if (!json) return null;
  for (const name of names) {
    const path = name.split('.');
    let v: unknown = json;
    for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    if (typeof v === type) return v as T;
  }
  return null;
}

/**
 * Runs one simulation end to end: a real aggregator process on a free loopback port, K trainer
 * processes and a reference process over real gRPC, then reads the merged and per-node spaces back,
 * computes CKA, probe and centroid accuracies and separability, and writes results.json,
 * report.html, merged.npy, labels.npy, sample_ids.npy and every process's log into `out`.
 * Whatever happens (success, failure, abort), every process it started is stopped before it returns.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationOutput> {
  const log = options.logger;
  const phases = new Phases();
  const outDir = resolve(options.out);
  const logDir = join(outDir, 'logs');
  const nodeDir = join(outDir, 'nodes');
  for (const dir of [outDir, logDir, nodeDir]) mkdirSync(dir, { recursive: true });
  if (options.nodes < 1) throw new SimulationError('--nodes must be at least 1', 'invalid_argument');
  if (options.scenario === 'shared-classes' && options.nodes !== 2) {
    throw new SimulationError('the shared-classes scenario splits the samples of every class between exactly 2 nodes (--nodes 2)', 'invalid_argument');
  }
  const modelOf = (k: number): string => options.models[options.models.length === 1 ? 0 : k] ?? options.models[0]!;
  if (options.models.length !== 1 && options.models.length !== options.nodes) {
    throw new SimulationError(`--models lists ${options.models.length} models for ${options.nodes} nodes (give one, or one per node)`, 'invalid_argument');
  }

  // The data set here too: for the anchors, their fingerprint, the partition's classes and the labels.
  const dataset = loadDataset(options.dataset, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const poolIds = anchorPoolIds(dataset, { poolSize: POOL_SIZE });
  if (options.anchors > poolIds.length) {
    throw new SimulationError(`--anchors ${options.anchors} exceeds the anchor pool of ${poolIds.length} samples`, 'invalid_argument');
  }
  const needsPixels = options.anchorStrategy === 'fps' || options.anchorStrategy === 'kmeans';
  const picked = selectAnchors(needsPixels ? poolMatrix(dataset, poolIds) : null, {
    count: options.anchors,
    strategy: options.anchorStrategy,
    seed: options.seed,
    labels: Int32Array.from(poolIds, (id) => dataset.train.labels[id]!),
    poolSize: poolIds.length,
  });
  const anchorIds = Uint32Array.from(picked, (i) => poolIds[i]!);
  const fingerprint = anchorFingerprint(dataset, anchorIds);
  const partitionOptions = {
    scenario: options.scenario,
    tasks: options.nodes,
    seed: options.seed,
    ...(options.shared !== undefined ? { shared: options.shared } : {}),
    ...(options.novel !== undefined ? { novel: options.novel } : {}),
    ...(options.sharedPercent !== undefined ? { sharedPercent: options.sharedPercent } : {}),
  };
  const partitions = taskPartitions(dataset, { ...partitionOptions, excluded: poolIds });
  const testSplit: TestSplit = options.testSplit ?? 'classes';
  const testParts = testSplit === 'partition' ? testPartitions(dataset, partitionOptions) : undefined;
  const classCount = new Map<number, number>();
  for (const p of partitions) for (const c of p.classes) classCount.set(c, (classCount.get(c) ?? 0) + 1);
  const sharedClasses = [...classCount].filter(([, n]) => n === partitions.length).map(([c]) => c).sort((a, b) => a - b);
  const taskSpecificClasses = [...classCount].filter(([, n]) => n < partitions.length).map(([c]) => c).sort((a, b) => a - b);
  const taskOfClass = new Map<number, number>();
  for (const p of partitions) for (const c of p.classes) if (!taskOfClass.has(c)) taskOfClass.set(c, p.taskId);
  const expectedRows = (role: 'trainer' | 'reference', task?: number): number => {
    const s = nodeSamples(dataset, partitions, {
      role,
      ...(task !== undefined ? { task } : {}),
      ...(options.maxSamples !== undefined ? { maxSamples: options.maxSamples } : {}),
      ...(options.maxTestSamples !== undefined ? { maxTestSamples: options.maxTestSamples } : {}),
      testPartitions: testParts,
      seed: options.seed,
    });
    return s.trainIndices.length + s.testIndices.length;
  };
  const runId = `sim-${options.scenario}-${Date.now().toString(36)}`;
  log.info({ runId, anchors: anchorIds.length, strategy: options.anchorStrategy, fingerprint, out: outDir }, 'prepared the run');
  phases.mark('prepare');

  const group = new ProcessGroup(logDir, options.cliEntry);
  const aborted = abortPromise(options.signal);
  aborted.catch(() => undefined);
  let client: AggregatorClient | undefined;
  const watchAbort = new AbortController();
  const progress = new NodeProgress(options.progress, log);
  try {
    // 1. The aggregator, on a free loopback port, with a fresh data dir inside the output dir.
    const aggregator = group.spawn('aggregator', [
      'aggregator',
      '--data-dir',
      join(outDir, 'aggregator'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--log-level',
      'info',
    ]);
    const port = await Promise.race([waitForLine(aggregator, parseListeningLine, (options.startTimeoutS ?? 60) * 1000), aborted]);
    const address = `127.0.0.1:${port}`;
    log.info({ address }, 'aggregator listening');
    let stopping = false;
    const aggregatorDied = aggregator.exited.then(({ code, signal }) => {
      if (stopping) return new Promise<never>(() => undefined);
      throw new SimulationError(`the aggregator exited (${signal ?? `code ${code}`}): ${lastMessage(aggregator)} (log: ${aggregator.logPath})`, 'process_failed');
    });
    aggregatorDied.catch(() => undefined);
    phases.mark('aggregator_start');

    // 2. The run: anchors, their fingerprint, absolute uploads allowed for the research baselines.
    client = createAggregatorClient({ address, maxReceiveBytes: 256 * 1024 * 1024 });
    await client.createRun({ runId, anchorIds, anchorFingerprint: fingerprint, similarity: 'cosine', allowAbsolute: true });
    phases.mark('create_run');

    // 3. The nodes: K trainers and the reference, all at once (each process trains on one core).
    const common = [
      '--aggregator',
      address,
      '--run',
      runId,
      '--dataset',
      options.dataset,
      ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : []),
      '--scenario',
      options.scenario,
      '--tasks',
      String(options.nodes),
      ...(options.shared !== undefined ? ['--shared', String(options.shared)] : []),
      ...(options.novel !== undefined ? ['--novel', String(options.novel)] : []),
      ...(options.sharedPercent !== undefined ? ['--shared-percent', String(options.sharedPercent)] : []),
      '--seed',
      String(options.seed),
      '--epochs',
      String(options.epochs),
      '--batch-size',
      String(options.batchSize),
      ...(options.maxSamples !== undefined ? ['--max-samples', String(options.maxSamples)] : []),
      ...(options.maxTestSamples !== undefined ? ['--max-test-samples', String(options.maxTestSamples)] : []),
      '--test-split',
      testSplit,
      '--backend',
      options.backend,
      '--encoding',
      options.encoding,
      '--upload-absolute',
      '--log-level',
      'info',
    ];
    interface NodeSpec {
      id: string;
      role: 'trainer' | 'reference';
      task: number | null;
      model: string;
      process?: ManagedProcess;
    }
    const specs: NodeSpec[] = [
      ...partitions.map((p, k) => ({ id: `node-${k}`, role: 'trainer' as const, task: p.taskId, model: modelOf(k) })),
      { id: 'reference', role: 'reference' as const, task: null, model: options.referenceModel ?? modelOf(0) },
    ];
    for (const spec of specs) {
      progress.add(spec.id, expectedRows(spec.role, spec.task ?? undefined));
      spec.process = group.spawn(
        spec.id,
        [
          'trainer',
          ...common,
          '--node-id',
          spec.id,
          '--role',
          spec.role,
          ...(spec.task !== null ? ['--task', String(spec.task)] : []),
          '--model',
          spec.model,
          '--results-file',
          join(nodeDir, `${spec.id}.json`),
        ],
        { onLine: (line) => progress.line(spec.id, line) },
      );
    }
    // Progress from the aggregator's view of the run (rows stored per node), until the nodes are done.
    const watching = (async () => {
      try {
        for await (const status of client.watchRun(runId, { signal: watchAbort.signal })) progress.status(status);
      } catch {
        // The watch ends when it is aborted or the aggregator stops; progress is cosmetic.
      }
    })();
    const failures = specs.map((spec) =>
      spec.process!.exited.then(({ code, signal }) => {
        if (code !== 0) {
          throw new SimulationError(`${spec.id} failed (${signal ?? `exit code ${code}`}): ${lastMessage(spec.process!)} (log: ${spec.process!.logPath})`, 'process_failed');
        }
      }),
    );
    failures.forEach((f) => f.catch(() => undefined));
    await Promise.race([Promise.all(failures), aggregatorDied, aborted]);
    phases.mark('train_and_upload');
    progress.stop();
    watchAbort.abort();
    await watching;

    // 4. Read everything back. The aggregator's own Evaluate runs meanwhile (it is server-side work).
    progress.note('reading the merged space and the nodes’ spaces');
    const status = await client.getRun(runId);
    const unfinished = specs.filter((s) => !status.nodes.some((n) => n.nodeId === s.id && n.finished));
    if (unfinished.length > 0) {
      throw new SimulationError(`nodes exited without finishing their upload: ${unfinished.map((s) => s.id).join(', ')}`, 'process_failed');
    }
    const trainers = specs.filter((s) => s.role === 'trainer');
    const c = client;
    const [mergedRaw, nodeRelativeRaw, nodeAbsoluteRaw, referenceRelativeRaw, referenceAbsoluteRaw] = await Promise.race([
      Promise.all([
        c.readMerged(runId),
        Promise.all(trainers.map((spec) => c.readNodeSpace(runId, spec.id, 'relative'))),
        Promise.all(trainers.map((spec) => c.readNodeSpace(runId, spec.id, 'absolute'))),
        c.readNodeSpace(runId, 'reference', 'relative'),
        c.readNodeSpace(runId, 'reference', 'absolute'),
      ]),
      aborted,
    ]);
    const merged = toLabelled(mergedRaw, dataset);
    const nodeRelative = nodeRelativeRaw.map((rows) => toLabelled(rows, dataset));
    const nodeAbsolute = nodeAbsoluteRaw.map((rows) => toLabelled(rows, dataset));
    const referenceRelative = toLabelled(referenceRelativeRaw, dataset);
    const referenceAbsolute = toLabelled(referenceAbsoluteRaw, dataset);
    const naive = naiveSpace(nodeAbsolute);
    phases.mark('read');
    // The aggregator computes Evaluate synchronously (its event loop is busy meanwhile), so it starts
    // after the reads and runs while this process trains the probes.
    const evaluating = client.evaluate(runId);
    evaluating.catch(() => undefined);

    // 5. The spaces. The probes train on worker threads while this thread computes CKA,
    //    nearest-centroid accuracy and separability.
    const spaceInputs: { name: string; description: string; space: LabelledSpace; normalize: boolean; metrics: boolean }[] = [
      { name: 'merged', description: 'mean of the trainers’ relative embeddings (RLSA)', space: merged, normalize: true, metrics: true },
      { name: 'naive', description: 'trainers’ absolute embeddings stacked (jumble)', space: naive, normalize: true, metrics: true },
      { name: 'end_to_end', description: 'the reference’s relative embeddings', space: referenceRelative, normalize: true, metrics: true },
      { name: 'end_to_end_absolute', description: 'the reference’s absolute embeddings', space: referenceAbsolute, normalize: true, metrics: true },
    ];
    if (options.scenario === 'disjoint') {
      spaceInputs.push({
        name: 'task_embedding',
        description: 'the reference’s absolute embeddings, instance-normalised, with a one-hot of the sample’s task appended',
        space: withTaskOneHot(referenceAbsolute, taskOfClass, partitions.length, instanceNormalize),
        normalize: false,
        metrics: false,
      });
    }
    const split = spaceInputs.map((input) => ({ input, ...splitTrainTest(input.space) }));
    let probing: Promise<(ProbeResult | null)[]> = Promise.resolve(split.map(() => null));
    if (options.probe.enabled) {
      progress.note(`training ${split.length} probes`);
      probing = trainProbes(
        split.map(({ input, train, test }) => ({
          train: train.values,
          trainLabels: train.labels,
          test: test.values,
          testLabels: test.labels,
          options: {
            numClasses: dataset.numClasses,
            seed: options.seed,
            maxEpochs: options.probe.maxEpochs,
            patience: options.probe.patience,
            maxTrainRows: options.probe.maxTrainRows,
            normalize: input.normalize,
          },
        })),
        {
          threads: options.probe.threads ?? Math.min(2, availableParallelism()),
          backend: options.backend,
          signal: options.signal,
          onDone: (i, r) => progress.note('probe trained', { space: split[i]!.input.name, accuracy: r.accuracy, epochs: r.epochs }),
        },
      );
      probing.catch(() => undefined);
    }

    // CKA against the reference, on the test samples both hold (tfjs products when the work is large).
    const testRows = referenceRelative.sampleIds.filter(isTestId).length;
    const { linalg } = await linalgForWork(testRows * 3 * 256 * 256);
    const ckaOrFail = (result: CkaResult | null, what: string): CkaResult => {
      if (!result) throw new SimulationError(`${what}: fewer than 4 test samples in common with the reference`, 'process_failed');
      return result;
    };
    const mergedCka = ckaOrFail(ckaVsReference(merged, referenceRelative, undefined, linalg), 'CKA(merged, reference)');
    const hasGroups = sharedClasses.length > 0 && taskSpecificClasses.length > 0;
    const naiveCka = ckaOrFail(ckaVsReference(naive, referenceAbsolute, undefined, linalg), 'CKA(naive, reference)');
    const nodesCka = trainers.map((spec, k) => ({
      node_id: spec.id,
      ...ckaOrFail(ckaVsReference(nodeRelative[k]!, referenceRelative, undefined, linalg), `CKA(${spec.id}, reference)`),
    }));
    const sharedCka = hasGroups ? ckaVsReference(merged, referenceRelative, new Set(sharedClasses), linalg) : null;
    const taskSpecificCka = hasGroups ? ckaVsReference(merged, referenceRelative, new Set(taskSpecificClasses), linalg) : null;
    phases.mark('cka');
    // The paper scores shared-samples separability on the class pairs that involve a task-specific
    // class (its `non_shared_classes`), and the other experiments on every pair.
    const separabilityClasses = options.scenario === 'shared-samples' && hasGroups ? taskSpecificClasses : undefined;
    const classes = split.map(({ input, train, test }) => (input.metrics ? classMetrics(train, test, separabilityClasses) : null));
    phases.mark('centroid_and_separability');
    const probes = await Promise.race([probing, aborted]);
    phases.mark('probes');
    const evaluation = await Promise.race([evaluating, aborted]);
    phases.mark('aggregator_evaluate');
    const spaces: SpaceResult[] = split.map(({ input, train, test }, i) => ({
      name: input.name,
      description: input.description,
      width: input.space.values.cols,
      train_rows: train.values.rows,
      test_rows: test.values.rows,
      probe_accuracy: probes[i]?.accuracy ?? null,
      probe_epochs: probes[i]?.epochs ?? null,
      nearest_centroid_accuracy: classes[i]?.nearestCentroid ?? null,
      separability: classes[i]?.separability ?? null,
    }));

    // 7. Files: arrays, results, report.
    const files: Record<string, string> = {
      results: 'results.json',
      report: 'report.html',
      merged: 'merged.npy',
      labels: 'labels.npy',
      sample_ids: 'sample_ids.npy',
      merged_counts: 'merged_counts.npy',
      reference_relative: 'reference_relative.npy',
      reference_absolute: 'reference_absolute.npy',
      reference_sample_ids: 'reference_sample_ids.npy',
      naive: 'naive.npy',
      naive_sample_ids: 'naive_sample_ids.npy',
      logs: 'logs/',
      node_results: 'nodes/<node>.json',
      node_relative: 'nodes/<node>_relative.npy',
      node_sample_ids: 'nodes/<node>_sample_ids.npy',
    };
    const npy = (name: string, data: Float32Array | Int32Array | Uint32Array, shape: number[]): void =>
      writeNpy(join(outDir, name), { dtype: data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'uint32', shape, data });
    const f32 = (m: Matrix): Float32Array => (m.data instanceof Float32Array ? m.data : Float32Array.from(m.data));
    npy('merged.npy', f32(merged.values), [merged.values.rows, merged.values.cols]);
    npy('labels.npy', merged.labels, [merged.labels.length]);
    npy('sample_ids.npy', merged.sampleIds, [merged.sampleIds.length]);
    npy('merged_counts.npy', mergedRaw.counts, [mergedRaw.counts.length]);
    npy('reference_relative.npy', f32(referenceRelative.values), [referenceRelative.values.rows, referenceRelative.values.cols]);
    npy('reference_absolute.npy', f32(referenceAbsolute.values), [referenceAbsolute.values.rows, referenceAbsolute.values.cols]);
    npy('reference_sample_ids.npy', referenceRelative.sampleIds, [referenceRelative.sampleIds.length]);
    if (referenceAbsolute.sampleIds.some((id, i) => id !== referenceRelative.sampleIds[i])) {
      throw new SimulationError('the reference’s absolute and relative spaces hold different samples', 'process_failed');
    }
    trainers.forEach((spec, k) => {
      const space = nodeRelative[k]!;
      npy(join('nodes', `${spec.id}_relative.npy`), f32(space.values), [space.values.rows, space.values.cols]);
      npy(join('nodes', `${spec.id}_sample_ids.npy`), space.sampleIds, [space.sampleIds.length]);
    });
    npy('naive.npy', f32(naive.values), [naive.values.rows, naive.values.cols]);
    npy('naive_sample_ids.npy', naive.sampleIds, [naive.sampleIds.length]);

    const nodes: NodeResult[] = specs.map((spec) => {
      const view = status.nodes.find((n) => n.nodeId === spec.id);
      const json = readJsonIfAny(join(nodeDir, `${spec.id}.json`));
      const partition = spec.task !== null ? partitions[spec.task] : undefined;
      return {
        node_id: spec.id,
        role: spec.role,
        task: spec.task,
        model: view?.model?.architecture || spec.model,
        embedding_width: view?.model?.embeddingWidth ?? null,
        classes: partition ? [...partition.classes].sort((a, b) => a - b) : [...classCount.keys()].sort((a, b) => a - b),
        relative_rows: view?.relativeRows ?? 0,
        task_accuracy: view?.model?.taskAccuracy ?? pick<number>(json, ['taskAccuracy', 'task_accuracy', 'accuracy'], 'number'),
        backend: pick<string>(json, ['backend', 'backend.backend'], 'string'),
        seconds: pick<number>(json, ['timings.totalSeconds', 'timings.total', 'seconds', 'totalSeconds'], 'number'),
      };
    });
    const paperLookup =
      options.paperResultsDir === null || options.paperResultsDir === undefined
        ? { comparison: null, note: 'this run is not a preset that reproduces the paper (--preset paper-cifar100; or pass --paper-results DIR to compare anyway)' }
        : readPaperResults(options.paperResultsDir, {
            scenario: options.scenario,
            dataset: options.dataset,
            ...(options.shared !== undefined ? { shared: options.shared } : {}),
            ...(options.novel !== undefined ? { novel: options.novel } : {}),
          });
    const backendOfNodes = nodes.find((n) => n.backend)?.backend ?? options.backend;
    const results: SimulationResults = {
      schema: RESULTS_SCHEMA,
      created_at: new Date().toISOString(),
      preset: options.preset ?? null,
      scenario: options.scenario,
      dataset: options.dataset,
      data_dir: options.dataDir ?? null,
      seed: options.seed,
      partition: {
        tasks: partitions.length,
        shared: options.scenario === 'shared-samples' ? (options.shared ?? sharedClasses.length) : null,
        novel: options.scenario === 'shared-samples' ? (options.novel ?? null) : null,
        shared_percent: options.scenario === 'shared-classes' ? (options.sharedPercent ?? 80) : null,
        shared_classes: sharedClasses,
        max_samples: options.maxSamples ?? null,
        max_test_samples: options.maxTestSamples ?? null,
        test_split: testSplit,
      },
      training: { epochs: options.epochs, batch_size: options.batchSize },
      backend: backendOfNodes,
      anchors: { count: anchorIds.length, strategy: options.anchorStrategy, pool_size: poolIds.length, similarity: 'cosine', fingerprint },
      run_id: runId,
      nodes,
      cka: {
        evaluated_on: `the test samples (ids ≥ ${TEST_ID_OFFSET}) held by both spaces`,
        merged_vs_reference: mergedCka,
        merged_vs_reference_shared_classes: sharedCka,
        merged_vs_reference_task_specific_classes: taskSpecificCka,
        naive_vs_reference: { ...naiveCka, definition: NAIVE_DEFINITION },
        nodes_vs_reference: nodesCka,
        aggregator_evaluate: evaluation.scores.map((s) => ({ subject: s.subject, linear: s.linearBiased, linear_debiased: s.linearDebiased, n: s.n })),
      },
      spaces,
      probe: {
        architecture: 'InstanceNorm1d → Linear(D, 256) → ReLU → Linear(256, classes)',
        optimizer: `Adam, lr ${PROBE_DEFAULTS.learningRate}`,
        batch_size: PROBE_DEFAULTS.batchSize,
        max_epochs: options.probe.maxEpochs,
        patience: options.probe.patience,
        validation_fraction: PROBE_DEFAULTS.validationFraction,
        max_train_rows: options.probe.maxTrainRows,
      },
      timings_s: phases.seconds,
      paper: paperLookup.comparison,
      paper_note: paperLookup.note,
      files,
      notes: setupNotes(options),
    };
    for (const difference of paperDifferences(results)) log.info(difference);
    const views = pcaViews(dataset.numClasses, dataset.classNames, options.seed, [
      ['merged (RLSA)', merged],
      ['naive (jumble)', naive],
      ['end-to-end (relative)', referenceRelative],
    ]);
    // The report is rendered once (the PCA scatter plots are the slow part); its timing table
    // shows the phases up to the report, results.json every phase and the total.
    const html = await renderReport({ ...results, timings_s: { ...phases.seconds, total_before_report: phases.elapsed() } }, views);
    writeFileSync(join(outDir, 'report.html'), html);
    phases.mark('report');
    phases.total();
    const final: SimulationResults = { ...results, timings_s: { ...phases.seconds } };
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(final, null, 2)}\n`);
    stopping = true;
    return { results: final, outDir };
  } finally {
    progress.stop();
    watchAbort.abort();
    client?.close();
    await group.stopAll();
  }
}

/** Caveats of the setup, stated in results.json and the report. */
export function setupNotes(options: Pick<SimulateOptions, 'scenario' | 'seed' | 'maxSamples' | 'maxTestSamples' | 'probe' | 'testSplit'>): string[] {
  const notes: string[] = [];
  if (options.scenario === 'shared-classes') {
    notes.push(
      options.testSplit === 'partition'
        ? "The test split is cut between the trainers like the training split, as in the paper's code: each test sample is embedded by one trainer, so the merged space holds that trainer's relative embedding and the naive space holds each test sample once."
        : "Every trainer embeds every test sample (all classes are its task's), so the merged test rows average the trainers' relative embeddings and the naive space holds each test sample once per trainer; the paper instead cuts the test split like the training split (--test-split partition).",
    );
  }
  if (options.scenario === 'shared-samples') {
    notes.push('Anchors come from the held-out pool of 1,000 training samples; in this experiment the paper instead drew as many anchors as the embedding width (128) from shared-class training samples.');
    notes.push('Separability here averages the class pairs with at least one task-specific class, as the paper does in this experiment.');
  }
  if (options.maxSamples !== undefined) {
    notes.push(`Each task trains on at most ${options.maxSamples} training samples (seeded, the same on every node; the reference on their union); every test sample is embedded and evaluated.`);
  }
  if (options.maxTestSamples !== undefined) {
    notes.push(`Evaluation uses a seeded subset of at most ${options.maxTestSamples} test samples (the same on every node).`);
  }
  if (options.probe.maxTrainRows !== null || options.probe.maxEpochs < 100) {
    notes.push('The probe is capped to keep the run short (see its settings above); the paper trains it for up to 100 epochs on every training embedding.');
  }
  return notes;
}

/** 2-D PCA of (a seeded subsample of at most 1,500 of) the test samples of each space. */
export function pcaViews(numClasses: number, classNames: readonly string[], seed: number, spaces: readonly (readonly [string, LabelledSpace])[]): ReportViews {
  const first = spaces[0]?.[1];
  const testIds = first ? Array.from(first.sampleIds).filter(isTestId) : [];
  const order = Uint32Array.from(testIds);
  shuffleInPlace(order, seededUniform(seed));
  const chosen = new Set(order.subarray(0, Math.min(order.length, 1500)));
  return {
    numClasses,
    classNames,
    pca: spaces.map(([title, space]) => {
      const rows: number[] = [];
      for (let i = 0; i < space.sampleIds.length; i++) if (chosen.has(space.sampleIds[i]!)) rows.push(i);
      if (rows.length < 3) return { title, points: [], explained: [0, 0] as const };
      const sub: Matrix = {
        rows: rows.length,
        cols: space.values.cols,
        data: Float32Array.from({ length: rows.length * space.values.cols }, (_, t) => {
          const r = Math.floor(t / space.values.cols);
          return space.values.data[rows[r]! * space.values.cols + (t - r * space.values.cols)]!;
        }),
      };
      const p = pca2(sub, { iterations: 200, tolerance: 1e-8 });
      return {
        title,
        explained: p.explained,
        points: rows.map((i, r) => ({ x: p.coords[2 * r]!, y: p.coords[2 * r + 1]!, label: space.labels[i]! })),
      };
    }),
  };
}
