import path from 'node:path';
import type { Logger } from 'pino';
import { builtinSource } from '@rlsa/sources';
import type { Encoder } from '@rlsa/encoders';
import { checkValues, UsageError } from '@rlsa/options';
import { openAggregatorSession, type AggregatorSession } from './aggregator-session.ts';
import { TrainerError } from './errors.ts';
import { dataChoice, modelChoice, type DataChoice, type ModelChoice } from './node-choices.ts';
import type { TrainerNodeOptions } from './node-options.ts';
import { TRAINER_OPTIONS } from './options.ts';
import { builtinWork } from './phases/builtin-work.ts';
import { loadNodeData, resizeRuleOf, type NodeData, type PartyNodeData } from './phases/load-data.ts';
import type { NodeWork } from './phases/node-work.ts';
import { openPretrained, partyWork } from './phases/party-work.ts';
import { projectOnAnchors } from './phases/project.ts';
import { resolveRun, type ResolvedRun } from './phases/resolve-run.ts';
import { saveEmbeddings } from './phases/save-embeddings.ts';
import { nodeInitSeed } from './phases/node-init-seed.ts';
import { uploadNode } from './phases/upload.ts';
import { createProgress, type Progress } from './progress.ts';
import type { NodeTimings, TrainerNodeResult } from './results.ts';
import { secondsSince, timed, type PhaseSeconds } from './timings.ts';

/** The settings given in code must be what their flags would accept (the command line checked its own). */
function checkOptions(options: TrainerNodeOptions): { model: ModelChoice; data: DataChoice } {
  try {
    const { node, data, partition, training, upload } = options;
    checkValues(TRAINER_OPTIONS, { node, data, partition, training, upload, ...(options.encoder !== undefined ? { encoder: options.encoder } : {}) });
  } catch (error: unknown) {
    throw error instanceof UsageError ? new TrainerError('invalid_argument', error.message, { cause: error }) : error;
  }
  const model = modelChoice(options.training.model);
  return { model, data: dataChoice(options.data, model) };
}

/** A built-in data set's samples as a source, for a model that is not one of the node's own (it embeds any source alike). */
function asParty(data: NodeData, options: TrainerNodeOptions): PartyNodeData {
  if (data.kind === 'party') return data;
  const source = builtinSource(data.dataset, { train: data.samples.trainIndices, test: data.samples.testIndices });
  return { kind: 'party', source, resize: resizeRuleOf(options.data) };
}

/** What the results file says of the node's data: the built-in set's name, or the source's kind and folder name (no path). */
function dataName(choice: DataChoice): string {
  return choice.kind === 'builtin' ? choice.dataset : `${choice.kind}:${path.basename(path.resolve(choice.dir))}`;
}

/** The node's summary (`--results-file`) from what its phases did. */
function nodeResult(options: TrainerNodeOptions, choice: DataChoice, data: NodeData, run: ResolvedRun, work: NodeWork, uploaded: TrainerNodeResult['upload'], timings: NodeTimings): TrainerNodeResult {
  const { node, upload } = options;
  const builtin = data.kind === 'builtin' ? data : undefined;
  const party = data.kind === 'party' ? data.source : undefined;
  const { training } = work;
  return {
    runId: node.run,
    nodeId: node.nodeId,
    role: node.role,
    task: builtin?.task ?? null,
    classes: builtin?.samples.classes ?? Array.from(party?.classNames ?? [], (_, c) => c),
    dataset: dataName(choice),
    model: work.model,
    embeddingWidth: work.embeddings.width,
    backend: work.backend,
    taskAccuracy: work.embeddings.taskAccuracy,
    trainSamples: builtin?.samples.trainIndices.length ?? party?.train.count ?? 0,
    testSamples: builtin?.samples.testIndices.length ?? party?.test.count ?? 0,
    anchors: run.width,
    anchorFingerprint: run.fingerprint,
    similarity: run.config.similarity,
    center: run.config.center,
    encoding: upload.encoding,
    training: training === null ? null : { bestEpoch: training.bestEpoch, stoppedEarly: training.stoppedEarly, epochs: training.epochs },
    upload: uploaded,
    timings,
  };
}

/** Phases 2 to 6 once the data is loaded: resolve the run, the model's work, project, save, upload. */
async function afterLoading(options: TrainerNodeOptions, choices: { model: ModelChoice; data: DataChoice }, loaded: NodeData, session: AggregatorSession | undefined, context: { progress: Progress; log: Logger; seconds: PhaseSeconds }) {
  const { node, partition, training, upload } = options;
  const { model } = choices;
  const data = model.kind === 'trained' ? loaded : asParty(loaded, options);
  // A pretrained model is opened (and its input checked against the data) before anything is fetched.
  const pretrained: Encoder | undefined = model.kind === 'pretrained' ? await openPretrained(model, asParty(data, options), options) : undefined;
  let run: ResolvedRun;
  try {
    run = await resolveRun(session, node.run, data, { upload, data: options.data, anchorsPath: options.anchors?.anchors, needsAnchorInputs: model.kind !== 'embeddings' }, context.log);
  } catch (error) {
    await pretrained?.dispose();
    throw error;
  }
  const initSeed = training.initSeed ?? nodeInitSeed(partition.seed, node.nodeId);
  const work =
    data.kind === 'builtin' && model.kind === 'trained'
      ? await builtinWork(data, run, model.name, training, initSeed, context)
      : await partyWork(asParty(data, options), run, model, options, pretrained, { ...context, initSeed });
  const relative = await timed(context.seconds, 'projectSeconds', () => projectOnAnchors(work.embeddings, run.config, context.log, { runtimeFree: model.kind === 'embeddings' }));
  if (options.output?.embeddingsOut !== undefined) saveEmbeddings(options.output.embeddingsOut, work.embeddings);
  const uploaded = session !== undefined ? await timed(context.seconds, 'uploadSeconds', () => uploadNode(session, options, work.card, run, work.embeddings, relative, context.progress, context.log)) : null;
  return { data, run, work, uploaded };
}

/**
 * One node of a run, end to end, in phases: load its data (a built-in data set's partition, or the
 * party's own folder, scanned and checked); resolve the run (its config, and its anchors checked
 * against the run's fingerprint, before any training); train its model or open a pretrained one;
 * embed the anchors and its samples; project them on the anchors (core `relativeProjection`, the
 * run's similarity and centering); upload the relative rows in chunks, resuming after Join's last
 * acknowledged seq and retrying transient failures (absolute embeddings only with
 * `uploadAbsolute`). Nothing else leaves the node; every refusal comes before the first upload.
 * Without a connection it stops before the upload. Returns the summary written by --results-file.
 */
export async function runTrainerNode(options: TrainerNodeOptions, logger: Logger): Promise<TrainerNodeResult> {
  const started = performance.now();
  const choices = checkOptions(options);
  const { node, upload } = options;
  const log = logger.child({ node: node.nodeId, run: node.run });
  const progress = options.progress ?? createProgress(log);
  const seconds: PhaseSeconds = { uploadSeconds: 0, trainSeconds: 0 };
  const loaded = await timed(seconds, 'loadSeconds', () => loadNodeData(options, choices.data, log));
  const session: AggregatorSession | undefined = options.connection !== undefined ? openAggregatorSession(options.connection, upload, log) : undefined;
  try {
    const { data, run, work, uploaded } = await afterLoading(options, choices, loaded, session, { progress, log, seconds });
    const timings = { ...(seconds as Omit<NodeTimings, 'totalSeconds'>), totalSeconds: secondsSince(started) };
    return nodeResult(options, choices.data, data, run, work, uploaded, timings);
  } finally {
    progress.stop();
    session?.close();
    if (loaded.kind === 'party') loaded.source.close();
  }
}
