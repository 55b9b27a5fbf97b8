import type { Logger } from 'pino';
import { anchorInputs, EncoderError, openModelEncoder, parseNumberList, type AnchorInputs, type Encoder } from '@rlsa/encoders';
import type { Normalization } from '@rlsa/sources';
import { TrainerError } from '../errors.ts';
import type { ModelChoice } from '../node-choices.ts';
import type { TrainerNodeOptions } from '../node-options.ts';
import type { Progress } from '../progress.ts';
import { timed, type PhaseSeconds } from '../timings.ts';
import type { TrainResult } from '../training.ts';
import { embedSource } from './embed-source.ts';
import type { PartyNodeData } from './load-data.ts';
import { initNodeBackend, type NodeWork } from './node-work.ts';
import type { ResolvedRun } from './resolve-run.ts';

/** `--mean` and `--std` as statistics (both or neither; undefined: the model's metadata decides). */
function normalizationOf(encoder: TrainerNodeOptions['encoder'], file: string): Normalization | undefined {
  const { mean, std } = encoder ?? {};
  if (mean === undefined && std === undefined) return undefined;
  if (mean === undefined || std === undefined) throw new TrainerError('invalid_argument', '--mean and --std go together: give both');
  return { mean: parseNumberList(mean, '--mean', file), std: parseNumberList(std, '--std', file) };
}

/**
 * Opens a pretrained encoder (ONNX or saved tfjs) for the node's data, before the run is resolved:
 * its input is checked against the data's shape and one sample is run, so a model that does not
 * fit is refused (naming the file) before anything is fetched or computed.
 */
export async function openPretrained(model: ModelChoice & { kind: 'pretrained' }, data: PartyNodeData, options: Pick<TrainerNodeOptions, 'encoder' | 'training'>): Promise<Encoder> {
  const { encoder = {}, training } = options;
  const normalization = normalizationOf(encoder, model.spec.location);
  return openModelEncoder(model.spec, {
    input: data.source.shape,
    ...(encoder.layout !== undefined ? { layout: encoder.layout } : {}),
    ...(normalization !== undefined ? { normalization } : {}),
    ...(encoder.embeddingOutput !== undefined ? { embeddingOutput: encoder.embeddingOutput } : {}),
    ...(encoder.embeddingLayer !== undefined ? { embeddingLayer: encoder.embeddingLayer } : {}),
    threads: encoder.onnxThreads ?? 1,
    backend: training.backend,
  });
}

/** The run's anchors as the encoder's inputs: decoded by the node's own rule, or (embeddings) only their count. */
function runAnchorInputs(run: ResolvedRun, data: PartyNodeData, needsInputs: boolean): AnchorInputs {
  const anchors = run.partyAnchors;
  if (anchors === undefined) throw new TrainerError('failed_precondition', "a party's node resolved the run without its anchors");
  if (!needsInputs) {
    return { count: anchors.count, batch: () => Promise.reject(new EncoderError('internal', 'an embeddings folder brings its anchor embeddings')) };
  }
  if (anchors.set === undefined) throw new TrainerError('failed_precondition', `the model needs the anchors' inputs, ${anchors.origin} gave only their count`);
  return anchorInputs(anchors.set, {
    shape: data.source.shape,
    ...(data.resize !== undefined ? { resize: data.resize } : {}),
    ...(anchors.dataset !== undefined ? { dataset: anchors.dataset } : {}),
    source: anchors.origin,
  });
}

/** The encoder that embeds a party's data: trained here, opened before (pretrained), or the embeddings folder's. */
async function partyEncoder(
  model: ModelChoice,
  data: PartyNodeData,
  options: TrainerNodeOptions,
  pretrained: Encoder | undefined,
  context: { readonly initSeed: number; readonly progress: Progress; readonly log: Logger; readonly seconds: PhaseSeconds },
): Promise<{ encoder: Encoder; backend: string; training: TrainResult | null; taskAccuracy: number | null }> {
  if (model.kind === 'trained') {
    const backend = await initNodeBackend(options.training, context.log);
    const { trainOnSource } = await import('./train-on-source.ts');
    const trained = await timed(context.seconds, 'trainSeconds', () => trainOnSource(data, model.name, options.training, context.initSeed, backend, context.progress, context.log));
    return { encoder: trained.encoder, backend, training: trained.training, taskAccuracy: trained.taskAccuracy };
  }
  const encoder = model.kind === 'pretrained' ? pretrained : data.embeddings;
  if (encoder === undefined) throw new TrainerError('failed_precondition', `no encoder was opened for --model ${model.spec.kind}:${model.spec.location}`);
  return { encoder, backend: encoder.card.details['runtime'] ?? 'none', training: null, taskAccuracy: null };
}

/**
 * Phases 3 and 4 on a party's own data: the encoder (one of the node's models trained on the
 * data, a pretrained model, or the embeddings folder's pass-through), then the run's anchors and
 * the node's samples embedded with it. The model card says what was used (kind, file name,
 * SHA-256, input, width), never a path.
 */
export async function partyWork(
  data: PartyNodeData,
  run: ResolvedRun,
  model: ModelChoice,
  options: TrainerNodeOptions,
  pretrained: Encoder | undefined,
  context: { readonly initSeed: number; readonly progress: Progress; readonly log: Logger; readonly seconds: PhaseSeconds },
): Promise<NodeWork> {
  const { encoder, backend, training, taskAccuracy } = await partyEncoder(model, data, options, pretrained, context);
  try {
    const inputs = runAnchorInputs(run, data, model.kind !== 'embeddings');
    const embeddings = await timed(context.seconds, 'embedSeconds', () => embedSource(encoder, data.source, inputs, taskAccuracy, context.progress, context.log));
    const trainedName = model.kind === 'trained' ? model.name : undefined;
    const details = trainedName !== undefined ? { ...encoder.card.details, kind: 'trained', file: trainedName } : encoder.card.details;
    const card = {
      architecture: trainedName ?? encoder.card.architecture,
      embeddingWidth: encoder.width,
      details,
      ...(taskAccuracy !== null ? { taskAccuracy } : {}),
    };
    return { embeddings, card, model: trainedName ?? encoder.card.architecture, backend, training };
  } finally {
    await encoder.dispose();
  }
}
