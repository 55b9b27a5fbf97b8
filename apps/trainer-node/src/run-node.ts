import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Logger } from 'pino';
import { matrix, relativeProjection, type Scenario, type Similarity } from '@rlsa/core';
import {
  anchorFingerprint,
  anchorPoolIds,
  defaultAnchorIds,
  loadDataset,
  nodeSamples,
  parseSampleId,
  sampleIds,
  taskPartitions,
  testPartitions,
  TEST_SPLITS,
  type TestSplit,
  type ImageDataset,
  type SyntheticOptions,
} from '@rlsa/data';
import { createAggregatorClient, type AggregatorClient, type EncodingName, type JoinInput, type RunConfigView, type UploadChunkInput } from '@rlsa/client';
import { initTfjsBackend, type BackendPreference } from '@rlsa/tfjs-kernels';
import { linalgChoiceFromEnv, linalgForWork } from '@rlsa/linalg-tfjs';
import { TrainerError } from './errors.ts';
import { EMBEDDING_LAYER, buildModel, embeddingWidth, isModelName, MODEL_NAMES, type ModelName } from './models.ts';
import { createProgress, type Progress } from './progress.ts';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry.ts';
import { logitMetrics, predictOutputs, predictRows } from './tensors.ts';
import { trainClassifier, type EpochReport } from './training.ts';

export type NodeRoleName = 'trainer' | 'reference';

/** Everything one trainer node needs; the CLI fills it from flags, env vars and a config file. */
export interface TrainerNodeOptions {
  /** 'host:port' of the aggregator. Absent: train, embed and report only (nothing is sent). */
  readonly aggregator?: string | undefined;
  readonly runId: string;
  readonly nodeId: string;
  readonly dataset: string;
  readonly dataDir?: string | undefined;
  /** Generator options when `dataset` is 'synthetic' (the defaults otherwise, as every node must agree). */
  readonly synthetic?: SyntheticOptions | undefined;
  /** An already loaded data set (in-process callers); `dataset` and `dataDir` are then ignored. */
  readonly data?: ImageDataset | undefined;
  readonly model: string;
  readonly role: NodeRoleName;
  /** The trainer's task (0-based); ignored for the reference. */
  readonly task?: number | undefined;
  readonly scenario: Scenario;
  readonly tasks: number;
  readonly shared?: number | undefined;
  readonly novel?: number | undefined;
  readonly sharedPercent?: number | undefined;
  /** Seeds the partition and the subsampling: the same on every node of a run. */
  readonly seed: number;
  /**
   * Seeds this node's weight initialisation and batch order. Default: derived from `seed` and the
   * node id, so that parties start from different weights, as independently trained models do.
   */
  readonly initSeed?: number | undefined;
  readonly epochs: number;
  readonly batchSize: number;
  readonly patience?: number | undefined;
  readonly validationFraction?: number | undefined;
  readonly learningRate?: number | undefined;
  /** At most this many training samples per task (seeded, the same on every node). */
  readonly maxSamples?: number | undefined;
  /** At most this many test samples of the whole test split (seeded, the same on every node). */
  readonly maxTestSamples?: number | undefined;
  /**
   * Which test samples a trainer embeds: `classes` (default) every test sample of its task's
   * classes; `partition` only its share of the test split cut by the scenario's rule (the paper's
   * protocol; differs from `classes` only in shared-classes, where each test sample then goes to one task).
   */
  readonly testSplit?: TestSplit | undefined;
  readonly backend: BackendPreference;
  readonly encoding: EncodingName;
  /** Also upload absolute embeddings (research baselines). Off by default. */
  readonly uploadAbsolute: boolean;
  readonly token?: string | undefined;
  readonly tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  /** Rows per upload chunk (default 1,024). */
  readonly chunkRows?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
  /**
   * The client's own reconnects inside one upload (on UNAVAILABLE) before the node's policy
   * (`retry`: back off, join again, resume after the last acknowledged chunk) takes over.
   * Default: the client's (10 attempts).
   */
  readonly uploadReconnect?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number } | undefined;
  /** Where long phases report; default: a bar on a TTY stderr, pino lines otherwise. */
  readonly progress?: Progress | undefined;
  /** Called after each acknowledged chunk (tests use it to cut the connection mid-upload); must not throw. */
  readonly onAck?: ((space: 'relative' | 'absolute', seq: number) => void) | undefined;
  /** Stops the upload (the node then rejects); nothing is retried once it is aborted. */
  readonly signal?: AbortSignal | undefined;
}

export interface SpaceUploadSummary {
  readonly rows: number;
  readonly chunks: number;
  /** Join's last acknowledged seq when the upload started (-1: from the beginning). */
  readonly resumedAfterSeq: number;
  readonly lastSeq: number;
  readonly duplicates: number;
  readonly reconnects: number;
  /** Times the node re-joined and resumed after a failed upload. */
  readonly retries: number;
}

/** The JSON summary a node writes with --results-file. */
export interface TrainerNodeResult {
  readonly runId: string;
  readonly nodeId: string;
  readonly role: NodeRoleName;
  readonly task: number | null;
  readonly classes: readonly number[];
  readonly dataset: string;
  readonly model: string;
  readonly embeddingWidth: number;
  readonly backend: string;
  /** Accuracy on the test samples of the node's classes (0..1). */
  readonly taskAccuracy: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly anchors: number;
  readonly anchorFingerprint: string;
  readonly similarity: Similarity;
  readonly center: boolean;
  readonly encoding: EncodingName;
  readonly training: { readonly bestEpoch: number; readonly stoppedEarly: boolean; readonly epochs: readonly EpochReport[] };
  readonly upload: { readonly relative: SpaceUploadSummary; readonly absolute?: SpaceUploadSummary } | null;
  readonly timings: {
    readonly loadSeconds: number;
    readonly trainSeconds: number;
    readonly embedSeconds: number;
    readonly projectSeconds: number;
    readonly uploadSeconds: number;
    readonly totalSeconds: number;
  };
}

/** Rows per upload chunk: 1,024 rows of 256 float32 values are 1 MiB, well under gRPC's message limit. */
export const DEFAULT_CHUNK_ROWS = 1024;

/** Reads a token file: its content without surrounding whitespace. */
export function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error: unknown) {
    throw new TrainerError('invalid_argument', `${file}: cannot read the token file`, { cause: error });
  }
}

function validate(options: TrainerNodeOptions): void {
  if (!isModelName(options.model)) {
    throw new TrainerError('invalid_argument', `unknown model "${options.model}" (expected one of ${MODEL_NAMES.join(', ')})`);
  }
  if (options.role === 'trainer' && options.task !== undefined && !(Number.isInteger(options.task) && options.task >= 0)) {
    throw new TrainerError('invalid_argument', `--task must be a non-negative integer, got ${options.task}`);
  }
  if (options.testSplit !== undefined && !TEST_SPLITS.includes(options.testSplit)) {
    throw new TrainerError('invalid_argument', `--test-split must be one of ${TEST_SPLITS.join(', ')}, got ${String(options.testSplit)}`);
  }
  for (const [name, value] of [
    ['--max-samples', options.maxSamples],
    ['--max-test-samples', options.maxTestSamples],
    ['--chunk-rows', options.chunkRows],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new TrainerError('invalid_argument', `${name} must be a positive integer, got ${value}`);
    }
  }
}

/** The run's config (anchors, similarity) from the first message of WatchRun, which any node may call. */
async function fetchRunConfig(client: AggregatorClient, runId: string): Promise<RunConfigView> {
  const abort = new AbortController();
  try {
    for await (const status of client.watchRun(runId, { signal: abort.signal })) return status.config;
  } finally {
    abort.abort();
  }
  throw new TrainerError('unavailable', `the aggregator closed WatchRun(${runId}) without a status`);
}

/** Embeddings (N × D) of the given global ids, in their order, whatever split each is in. */
function embedIds(model: tfl.LayersModel, dataset: ImageDataset, ids: readonly number[], width: number): Float32Array {
  const out = new Float32Array(ids.length * width);
  for (const split of ['train', 'test'] as const) {
    const rows: number[] = [];
    const indices: number[] = [];
    ids.forEach((id, row) => {
      const parsed = parseSampleId(id);
      if (parsed.split === split) {
        if (parsed.index >= dataset[split].count) {
          throw new TrainerError('failed_precondition', `anchor id ${id} is beyond this node's copy of ${dataset.name} (${dataset[split].count} ${split} samples)`);
        }
        rows.push(row);
        indices.push(parsed.index);
      }
    });
    if (indices.length === 0) continue;
    const values = predictRows(model, dataset, split, Uint32Array.from(indices), width);
    rows.forEach((row, k) => out.set(values.subarray(k * width, (k + 1) * width), row * width));
  }
  return out;
}

function* chunksOf(ids: Uint32Array, values: Float32Array, cols: number, labels: Int32Array, chunkRows: number): Generator<UploadChunkInput> {
  for (let start = 0; start < ids.length; start += chunkRows) {
    const end = Math.min(ids.length, start + chunkRows);
    yield {
      sampleIds: ids.subarray(start, end),
      values: { rows: end - start, cols, data: values.subarray(start * cols, end * cols) },
      labels: labels.subarray(start, end),
    };
  }
}

const seconds = (from: number): number => Math.round(performance.now() - from) / 1000;

/**
 * One node of a run, end to end: loads its copy of the data set, computes the scenario's partition
 * and its own samples, trains its model, and (with an aggregator) fetches the run's anchors, checks
 * their fingerprint against its own data, joins with its model card, embeds the anchors and its
 * samples, projects them on the anchors (core `relativeProjection`, the run's similarity and
 * centering) and uploads the relative rows in chunks, resuming after Join's last acknowledged seq
 * and retrying transient failures with exponential backoff and jitter; absolute embeddings only
 * with `uploadAbsolute`. Nothing else leaves the node. Returns the summary written by --results-file.
 */
export async function runTrainerNode(options: TrainerNodeOptions, logger: Logger): Promise<TrainerNodeResult> {
  const started = performance.now();
  validate(options);
  const modelName = options.model as ModelName;
  const log = logger.child({ node: options.nodeId, run: options.runId });
  const progress = options.progress ?? createProgress(log);
  const retry = options.retry ?? DEFAULT_RETRY;
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;

  const backend = await initTfjsBackend(options.backend);
  log.info({ backend: backend.backend, threads: backend.threads, kernels: backend.kernels.length, native: backend.native, skipped: backend.skipped }, `tfjs backend: ${backend.backend}`);

  // Data, partition, this node's samples.
  const loadStart = performance.now();
  const dataset =
    options.data ??
    loadDataset(options.dataset, {
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.synthetic !== undefined ? { synthetic: options.synthetic } : {}),
    });
  const pool = anchorPoolIds(dataset);
  const partitionOptions = {
    scenario: options.scenario,
    tasks: options.tasks,
    seed: options.seed,
    ...(options.shared !== undefined ? { shared: options.shared } : {}),
    ...(options.novel !== undefined ? { novel: options.novel } : {}),
    ...(options.sharedPercent !== undefined ? { sharedPercent: options.sharedPercent } : {}),
  };
  const partitions = taskPartitions(dataset, { ...partitionOptions, excluded: pool });
  const task = options.role === 'trainer' ? (options.task ?? 0) : null;
  const samples = nodeSamples(dataset, partitions, {
    role: options.role,
    ...(task !== null ? { task } : {}),
    ...(options.maxSamples !== undefined ? { maxSamples: options.maxSamples } : {}),
    ...(options.maxTestSamples !== undefined ? { maxTestSamples: options.maxTestSamples } : {}),
    ...(options.testSplit === 'partition' ? { testPartitions: testPartitions(dataset, partitionOptions) } : {}),
    seed: options.seed,
  });
  const loadSeconds = seconds(loadStart);
  log.info(
    { dataset: dataset.name, source: dataset.source, task, classes: samples.classes.length, train: samples.trainIndices.length, test: samples.testIndices.length, seconds: loadSeconds },
    'data loaded',
  );

  // The run's anchors first, so that a node with another copy of the data fails before training.
  let client: AggregatorClient | undefined;
  let config: RunConfigView;
  try {
    if (options.aggregator !== undefined) {
      client = createAggregatorClient({
        address: options.aggregator,
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
      });
      const c = client;
      config = await withRetries(() => fetchRunConfig(c, options.runId), retry, (error, attempt, delayMs) =>
        log.warn({ attempt, delayMs, err: (error as Error).message }, 'aggregator unavailable; retrying'),
      );
    } else {
      const anchorIds = Array.from(defaultAnchorIds(dataset));
      config = {
        runId: options.runId,
        anchorIds,
        similarity: 'cosine',
        anchorFingerprint: anchorFingerprint(dataset, anchorIds),
        acceptedEncodings: [],
        center: false,
        allowAbsolute: false,
      };
      log.warn('no --aggregator: training and embedding only, nothing is uploaded');
    }
    const fingerprint = anchorFingerprint(dataset, config.anchorIds);
    if (fingerprint !== config.anchorFingerprint) {
      throw new TrainerError(
        'failed_precondition',
        `the anchors of run ${options.runId} hash to ${fingerprint.slice(0, 16)}… on this node's copy of ${dataset.name} (${dataset.source}), the run expects ${config.anchorFingerprint.slice(0, 16)}…: another version or order of the data set`,
      );
    }
    if (config.acceptedEncodings.length > 0 && !config.acceptedEncodings.includes(options.encoding)) {
      throw new TrainerError('failed_precondition', `run ${options.runId} accepts ${config.acceptedEncodings.join(', ')}, not ${options.encoding}`);
    }
    if (options.uploadAbsolute && client !== undefined && !config.allowAbsolute) {
      throw new TrainerError('failed_precondition', `run ${options.runId} does not accept absolute embeddings (--upload-absolute)`);
    }

    // Training.
    const initSeed = options.initSeed ?? nodeInitSeed(options.seed, options.nodeId);
    const model = buildModel(modelName, dataset.shape, dataset.numClasses, initSeed);
    const width = embeddingWidth(modelName);
    const trainStart = performance.now();
    const batchesPerEpoch = Math.ceil(samples.trainIndices.length / options.batchSize);
    let lastEpoch: EpochReport | undefined;
    progress.start('train', options.epochs * batchesPerEpoch);
    const training = await trainClassifier(
      model,
      dataset,
      samples.trainIndices,
      {
        epochs: options.epochs,
        batchSize: options.batchSize,
        seed: initSeed,
        ...(options.patience !== undefined ? { patience: options.patience } : {}),
        ...(options.validationFraction !== undefined ? { validationFraction: options.validationFraction } : {}),
        ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
      },
      {
        onBatch: (epoch, batch, batches) =>
          progress.update((epoch - 1) * batches + batch, lastEpoch ? { epoch, valAccuracy: lastEpoch.valAccuracy } : { epoch }),
        onEpoch: (report) => {
          lastEpoch = report;
          log.info({ ...report, epochs: options.epochs }, `epoch ${report.epoch}`);
        },
      },
    );
    progress.stop();
    const trainSeconds = seconds(trainStart);

    // Embeddings: anchors, then the node's samples (train ascending, then test ascending: ids ascending).
    // The test pass also gives the logits for the task accuracy.
    const embedStart = performance.now();
    const embedder = tfl.model({ inputs: model.inputs, outputs: [model.getLayer(EMBEDDING_LAYER).output as tfl.SymbolicTensor, model.outputs[0] as tfl.SymbolicTensor] });
    const embedOnly = tfl.model({ inputs: model.inputs, outputs: model.getLayer(EMBEDDING_LAYER).output as tfl.SymbolicTensor });
    const anchors = embedIds(embedOnly, dataset, config.anchorIds, width);
    const total = samples.trainIndices.length + samples.testIndices.length;
    progress.start('embed', total);
    const trainEmb = predictRows(embedOnly, dataset, 'train', samples.trainIndices, width, (done) => progress.update(done));
    const [testEmb, testLogits] = predictOutputs(embedder, dataset, 'test', samples.testIndices, [width, dataset.numClasses], (done) =>
      progress.update(samples.trainIndices.length + done),
    ) as [Float32Array, Float32Array];
    progress.stop();
    const testLabels = Uint8Array.from(samples.testIndices, (i) => dataset.test.labels[i] as number);
    const taskAccuracy = samples.testIndices.length > 0 ? logitMetrics(testLogits, dataset.numClasses, testLabels).accuracy : 0;
    log.info({ taskAccuracy, testSamples: samples.testIndices.length, bestEpoch: training.bestEpoch }, 'task accuracy');
    model.dispose();

    const ids = new Uint32Array(total);
    ids.set(sampleIds('train', samples.trainIndices), 0);
    ids.set(sampleIds('test', samples.testIndices), samples.trainIndices.length);
    const labels = new Int32Array(total);
    samples.trainIndices.forEach((i, k) => (labels[k] = dataset.train.labels[i] as number));
    labels.set(testLabels, samples.trainIndices.length);
    const absolute = new Float32Array(total * width);
    absolute.set(trainEmb, 0);
    absolute.set(testEmb, trainEmb.length);
    const embedSeconds = seconds(embedStart);

    const projectStart = performance.now();
    // The N×A product on the process's tfjs backend when it is big enough to pay off (RLSA_LINALG forces a side).
    const linalg = await linalgForWork(total * config.anchorIds.length * width, linalgChoiceFromEnv());
    const relative = relativeProjection(matrix(total, width, absolute), matrix(config.anchorIds.length, width, anchors), {
      similarity: config.similarity,
      center: config.center,
      linalg: linalg.linalg,
    });
    const projectSeconds = seconds(projectStart);
    log.info(
      { rows: total, anchors: config.anchorIds.length, similarity: config.similarity, center: config.center, linalg: linalg.name, embedSeconds, projectSeconds },
      'projected on the anchors',
    );

    // Upload.
    const uploadStart = performance.now();
    let upload: TrainerNodeResult['upload'] = null;
    if (client !== undefined) {
      const c = client;
      const joinInput: JoinInput = {
        runId: options.runId,
        nodeId: options.nodeId,
        taskId: task !== null ? String(task) : 'all',
        role: options.role,
        model: { architecture: modelName, embeddingWidth: width, taskAccuracy },
        anchorFingerprint: fingerprint,
        relativeWidth: config.anchorIds.length,
      };
      const onRetry = (error: unknown, attempt: number, delayMs: number): void =>
        log.warn({ attempt, delayMs, err: (error as Error).message }, 'aggregator call failed; retrying');
      const joined = await withRetries(() => c.join(joinInput), retry, onRetry);
      log.info({ lastRelativeSeq: joined.lastRelativeSeq, lastAbsoluteSeq: joined.lastAbsoluteSeq }, 'joined the run');

      const uploadSpace = async (space: 'relative' | 'absolute', values: Float32Array, cols: number, firstLastSeq: number): Promise<SpaceUploadSummary> => {
        let startAfterSeq = firstLastSeq;
        const resumedAfterSeq = firstLastSeq;
        let retries = 0;
        const chunks = Math.ceil(total / chunkRows);
        progress.start(`upload ${space}`, chunks);
        const result = await withRetries(
          async (attempt) => {
            options.signal?.throwIfAborted();
            if (attempt > 0) {
              retries++;
              const again = await c.join(joinInput);
              startAfterSeq = space === 'relative' ? again.lastRelativeSeq : again.lastAbsoluteSeq;
              log.info({ space, startAfterSeq }, 'resuming the upload after the last acknowledged chunk');
            }
            return c.upload({
              runId: options.runId,
              nodeId: options.nodeId,
              space,
              chunks: chunksOf(ids, values, cols, labels, chunkRows),
              encoding: options.encoding,
              startAfterSeq,
              ...(options.signal !== undefined ? { signal: options.signal } : {}),
              ...(options.uploadReconnect !== undefined ? { retry: options.uploadReconnect } : {}),
              onAck: (ack) => {
                progress.update(ack.seq + 1, { rows: ack.rowsStored });
                options.onAck?.(space, ack.seq);
              },
            });
          },
          retry,
          onRetry,
        );
        progress.stop();
        log.info({ space, rows: result.rowsStored, lastSeq: result.lastSeq, reconnects: result.reconnects, retries }, `uploaded the ${space} space`);
        return {
          rows: result.rowsStored,
          chunks,
          resumedAfterSeq,
          lastSeq: result.lastSeq,
          duplicates: result.duplicates,
          reconnects: result.reconnects,
          retries,
        };
      };
      const relativeSummary = await uploadSpace('relative', relative.data as Float32Array, config.anchorIds.length, joined.lastRelativeSeq);
      const absoluteSummary = options.uploadAbsolute ? await uploadSpace('absolute', absolute, width, joined.lastAbsoluteSeq) : undefined;
      await withRetries(() => c.finish(options.runId, options.nodeId), retry, onRetry);
      log.info('upload finished');
      upload = absoluteSummary ? { relative: relativeSummary, absolute: absoluteSummary } : { relative: relativeSummary };
    }

    return {
      runId: options.runId,
      nodeId: options.nodeId,
      role: options.role,
      task,
      classes: samples.classes,
      dataset: dataset.name,
      model: modelName,
      embeddingWidth: width,
      backend: backend.backend,
      taskAccuracy,
      trainSamples: samples.trainIndices.length,
      testSamples: samples.testIndices.length,
      anchors: config.anchorIds.length,
      anchorFingerprint: fingerprint,
      similarity: config.similarity,
      center: config.center,
      encoding: options.encoding,
      training: { bestEpoch: training.bestEpoch, stoppedEarly: training.stoppedEarly, epochs: training.epochs },
      upload,
      timings: { loadSeconds, trainSeconds, embedSeconds, projectSeconds, uploadSeconds: seconds(uploadStart), totalSeconds: seconds(started) },
    };
  } finally {
    progress.stop();
    client?.close();
  }
}

/**
 * A node's default initialisation seed: the first 31 bits of SHA-256("<seed>:<node id>"). Distinct
 * nodes of one run get distinct, reproducible initialisations.
 */
export function nodeInitSeed(seed: number, nodeId: string): number {
  return createHash('sha256').update(`${seed}:${nodeId}`).digest().readUInt32LE(0) >>> 1;
}
