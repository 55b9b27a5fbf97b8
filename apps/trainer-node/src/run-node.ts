import type { Logger } from 'pino';
import { checkValues, UsageError } from '@rlsa/options';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import { openAggregatorSession, type AggregatorSession } from './aggregator-session.ts';
import { TrainerError } from './errors.ts';
import type { TrainerNodeOptions } from './node-options.ts';
import { TRAINER_OPTIONS } from './options.ts';
import { embedNode } from './phases/embed.ts';
import { loadNodeData } from './phases/load-data.ts';
import { projectOnAnchors } from './phases/project.ts';
import { resolveRun } from './phases/resolve-run.ts';
import { nodeInitSeed, trainNodeModel } from './phases/train-model.ts';
import { uploadNode } from './phases/upload.ts';
import { createProgress } from './progress.ts';
import type { NodeTimings, TrainerNodeResult } from './results.ts';

/** Seconds since `from` (a `performance.now()`), to the millisecond. */
const secondsSince = (from: number): number => Math.round(performance.now() - from) / 1000;

/** Runs `phase` and records its duration under `name`. */
async function timed<T>(seconds: Partial<Record<keyof NodeTimings, number>>, name: keyof NodeTimings, phase: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await phase();
  seconds[name] = secondsSince(start);
  return value;
}

/** The settings given in code must be what their flags would accept (the command line checked its own). */
function checkOptions(options: TrainerNodeOptions): void {
  try {
    const { node, data, partition, training, upload } = options;
    checkValues(TRAINER_OPTIONS, { node, data, partition, training, upload });
  } catch (error: unknown) {
    throw error instanceof UsageError ? new TrainerError('invalid_argument', error.message, { cause: error }) : error;
  }
}

/**
 * One node of a run, end to end, as six phases: load its copy of the data set and its own samples of
 * the scenario's partition; resolve the run (fetch its anchors and check their fingerprint against
 * this data, before any training); train its model; embed the anchors and its samples; project them
 * on the anchors (core `relativeProjection`, the run's similarity and centering); upload the relative
 * rows in chunks, resuming after Join's last acknowledged seq and retrying transient failures
 * (absolute embeddings only with `uploadAbsolute`). Nothing else leaves the node. Without a
 * connection it stops before the upload. Returns the summary written by --results-file.
 */
export async function runTrainerNode(options: TrainerNodeOptions, logger: Logger): Promise<TrainerNodeResult> {
  const started = performance.now();
  checkOptions(options);
  const { node, partition, training, upload } = options;
  const log = logger.child({ node: node.nodeId, run: node.run });
  const progress = options.progress ?? createProgress(log);
  const backend = await initTfjsBackend(training.backend, training.threads !== undefined ? { threads: training.threads } : {});
  log.info({ backend: backend.backend, threads: backend.threads, kernels: backend.kernels.length, native: backend.native, skipped: backend.skipped }, `tfjs backend: ${backend.backend}`);
  const seconds: Partial<Record<keyof NodeTimings, number>> = { uploadSeconds: 0 };
  const data = await timed(seconds, 'loadSeconds', () => loadNodeData(options, log));
  const session: AggregatorSession | undefined = options.connection !== undefined ? openAggregatorSession(options.connection, upload, log) : undefined;
  try {
    const run = await resolveRun(session, node.run, data.dataset, upload, log);
    const initSeed = training.initSeed ?? nodeInitSeed(partition.seed, node.nodeId);
    const trained = await timed(seconds, 'trainSeconds', () => trainNodeModel(data, training, initSeed, progress, log));
    const embeddings = await timed(seconds, 'embedSeconds', () => embedNode(trained, data, run.anchorIds, progress, log));
    const relative = await timed(seconds, 'projectSeconds', () => projectOnAnchors(embeddings, run.config, log));
    const card = { architecture: trained.name, embeddingWidth: trained.width, taskAccuracy: embeddings.taskAccuracy };
    const uploaded = session !== undefined ? await timed(seconds, 'uploadSeconds', () => uploadNode(session, options, card, run, embeddings, relative, progress, log)) : null;
    return {
      runId: node.run,
      nodeId: node.nodeId,
      role: node.role,
      task: data.task,
      classes: data.samples.classes,
      dataset: data.dataset.name,
      model: trained.name,
      embeddingWidth: trained.width,
      backend: backend.backend,
      taskAccuracy: embeddings.taskAccuracy,
      trainSamples: data.samples.trainIndices.length,
      testSamples: data.samples.testIndices.length,
      anchors: run.anchorIds.length,
      anchorFingerprint: run.fingerprint,
      similarity: run.config.similarity,
      center: run.config.center,
      encoding: upload.encoding,
      training: { bestEpoch: trained.training.bestEpoch, stoppedEarly: trained.training.stoppedEarly, epochs: trained.training.epochs },
      upload: uploaded,
      timings: { ...(seconds as Omit<NodeTimings, 'totalSeconds'>), totalSeconds: secondsSince(started) },
    };
  } finally {
    progress.stop();
    session?.close();
  }
}
