import type { Logger } from 'pino';
import type { Encoder } from '@rlsa/encoders';
import { layersModelEncoder } from '@rlsa/encoders/tfjs';
import { channelStats, NO_LABEL, normalizeBatch, sampleSize, type Normalization, type SampleShape, type SourcePart } from '@rlsa/sources';
import { memoryInputs, type ClassifierInputs } from '../classifier-inputs.ts';
import { TrainerError } from '../errors.ts';
import { buildModel, EMBEDDING_LAYER, type ModelName } from '../models.ts';
import type { TrainerSettings } from '../options.ts';
import type { Progress } from '../progress.ts';
import { evaluateClassifier } from '../tensors.ts';
import { trainClassifier, type TrainResult } from '../training.ts';
import type { PartyNodeData } from './load-data.ts';
import { trainingHooks, trainOptions } from './train-model.ts';

/** Samples read per batch while loading a part into memory. */
const LOAD_BATCH = 256;

/** A model the node trained on its own data, as the encoder that embeds with it. */
export interface SourceTrainedModel {
  readonly encoder: Encoder;
  readonly training: TrainResult;
  /** Accuracy on the labelled samples of the test part (0 without any). */
  readonly taskAccuracy: number;
  /** The statistics the inputs are standardised with: the node's own training data's. */
  readonly normalization: Normalization;
}

/** One sample's shape as a model's input: [H, W, C] or [F]. */
function modelShape(shape: SampleShape): readonly [number, number, number] | readonly [number] {
  return shape.kind === 'image' ? [shape.height, shape.width, shape.channels] : [shape.width];
}

/**
 * The labelled samples of a part, normalised into memory (the model goes over them once per
 * epoch): count × size float32. Unlabelled samples are left out (they are embedded, not learnt).
 */
async function labelledInputs(part: SourcePart, shape: SampleShape, normalization: Normalization, classes: number): Promise<ClassifierInputs> {
  const size = sampleSize(shape);
  let labelled = 0;
  for (const label of part.labels) if (label !== NO_LABEL) labelled++;
  const values = new Float32Array(labelled * size);
  const labels = new Int32Array(labelled);
  let row = 0;
  for await (const batch of part.batches(LOAD_BATCH)) {
    const normalized = normalizeBatch(batch, normalization);
    for (let k = 0; k < batch.count; k++) {
      if (batch.labels[k] === NO_LABEL) continue;
      values.set(normalized.subarray(k * size, (k + 1) * size), row * size);
      labels[row++] = batch.labels[k]!;
    }
  }
  return memoryInputs(values, labels, modelShape(shape), classes);
}

const range = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

/**
 * Phase 3 for a party's own data and one of the node's models: per-channel statistics of its
 * training part (`channelStats`), its labelled training samples normalised into memory, the
 * model built for its shape and class count (seeded by `initSeed`) and trained as on a built-in
 * set, then measured on the labelled test samples. Returns it as an Encoder (the `embedding`
 * layer on inputs normalised with the same statistics), so that it embeds as a pretrained model does.
 */
export async function trainOnSource(data: PartyNodeData, name: ModelName, training: TrainerSettings['training'], initSeed: number, backend: string, progress: Progress, log: Logger): Promise<SourceTrainedModel> {
  const { source } = data;
  const classes = source.classNames.length;
  const normalization = await channelStats(source.train, source.shape);
  const train = await labelledInputs(source.train, source.shape, normalization, classes);
  if (train.count === 0 || classes < 2) {
    throw new TrainerError('invalid_argument', `${source.description}: ${name} is trained as a classifier and needs labelled samples of at least 2 classes (${train.count} labelled, ${classes} classes); bring a pretrained model instead (--model onnx:, tfjs:, embeddings:)`);
  }
  const model = buildModel(name, modelShape(source.shape), classes, initSeed);
  const result = await trainClassifier(model, train, range(train.count), trainOptions(training, initSeed), trainingHooks(training, train.count, progress, log));
  progress.stop();
  const test = await labelledInputs(source.test, source.shape, normalization, classes);
  const taskAccuracy = test.count > 0 ? evaluateClassifier(model, test, 'test', range(test.count)).accuracy : 0;
  log.info({ taskAccuracy, testSamples: test.count, bestEpoch: result.bestEpoch }, 'task accuracy');
  const encoder = layersModelEncoder(model, { input: source.shape, embeddingLayer: EMBEDDING_LAYER, normalization, name: `${name} trained on this node`, backend });
  return { encoder, training: result, taskAccuracy, normalization };
}
