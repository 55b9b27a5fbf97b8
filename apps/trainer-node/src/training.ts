import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { permutation, seededRng, shuffleInPlace } from '@rlsa/core';
import type { ImageDataset } from '@rlsa/data';
import { asClassifierInputs, inputSize, type ClassifierInputs } from './classifier-inputs.ts';
import { TrainerError } from './errors.ts';
import { evaluateClassifier } from './tensors.ts';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's step size (default 1e-3, as in the paper). */
  readonly learningRate?: number;
  /** Share of the training samples held out for validation and early stopping (default 0.1). */
  readonly validationFraction?: number;
  /** Epochs without a better validation loss before stopping (default 3). */
  readonly patience?: number;
  readonly seed: number;
}

export interface EpochReport {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  readonly seconds: number;
}

export interface TrainHooks {
  /** After each batch: batches done in this epoch and batches per epoch. */
  onBatch?(epoch: number, batch: number, batches: number): void;
  onEpoch?(report: EpochReport): void;
}

export interface TrainResult {
  readonly epochs: readonly EpochReport[];
  /** Epoch whose weights the model holds at the end (best validation loss). */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly trainSamples: number;
  readonly validationSamples: number;
  readonly seconds: number;
}

/** A seeded hold-out split of the training indices: `fraction` for validation (none under 20 samples). */
function holdOut(trainIndices: Uint32Array, fraction: number, seed: number): { valIndices: Uint32Array; fitIndices: Uint32Array } {
  const order = permutation(trainIndices.length, seededRng(seed));
  const valCount = trainIndices.length >= 20 ? Math.max(1, Math.round(fraction * trainIndices.length)) : 0;
  return {
    valIndices: Uint32Array.from(order.subarray(0, valCount), (i) => trainIndices[i] as number).sort(),
    fitIndices: Uint32Array.from(order.subarray(valCount), (i) => trainIndices[i] as number),
  };
}

/** One epoch's mini-batches: the fixed buffers, the optimizer and the variables it updates. */
interface EpochContext {
  readonly model: tfl.LayersModel;
  readonly inputs: ClassifierInputs;
  readonly batchSize: number;
  readonly optimizer: tf.Optimizer;
  readonly variables: tf.Variable[];
  readonly buffer: Float32Array;
  readonly labelBuffer: Int32Array;
}

/**
 * One epoch over `fitIndices` (already shuffled) in mini-batches of Adam steps on softmax
 * cross-entropy; returns the sum over samples of the batch losses. Refuses a non-finite loss.
 */
async function trainEpoch(context: EpochContext, fitIndices: Uint32Array, epoch: number, hooks: TrainHooks): Promise<number> {
  const { model, inputs, batchSize, optimizer, variables, buffer, labelBuffer } = context;
  const size = inputSize(inputs);
  const batches = Math.ceil(fitIndices.length / batchSize);
  let lossSum = 0;
  for (let b = 0; b < batches; b++) {
    const batch = fitIndices.subarray(b * batchSize, Math.min(fitIndices.length, (b + 1) * batchSize));
    inputs.fill(batch, buffer);
    for (let i = 0; i < batch.length; i++) labelBuffer[i] = inputs.label(batch[i] as number);
    const loss = tf.tidy(() => {
      const x = tf.tensor(buffer.subarray(0, batch.length * size), [batch.length, ...inputs.sampleShape]);
      const y = tf.oneHot(tf.tensor1d(labelBuffer.subarray(0, batch.length), 'int32'), inputs.numClasses);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, variables) as tf.Scalar;
    });
    const value = (await loss.data())[0] as number;
    loss.dispose();
    if (!Number.isFinite(value)) throw new TrainerError('training_failed', `the training loss became ${value} in epoch ${epoch}, batch ${b + 1}`);
    lossSum += value * batch.length;
    hooks.onBatch?.(epoch, b + 1, batches);
    // Let timers (progress, gRPC keepalives) run between batches.
    if (b % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  return lossSum;
}

/** Early stopping on the validation loss: keeps the best epoch's weights, stops after `patience` epochs without a gain of 1e-4. */
class EarlyStopping {
  private best = Infinity;
  bestEpoch = 0;
  private sinceBest = 0;
  private bestWeights: tf.Tensor[] | undefined;

  constructor(private readonly patience: number) {}

  /** Records an epoch's validation loss; true when training should stop. */
  observe(epoch: number, valLoss: number, model: tfl.LayersModel): boolean {
    if (valLoss < this.best - 1e-4) {
      this.best = valLoss;
      this.bestEpoch = epoch;
      this.sinceBest = 0;
      this.bestWeights?.forEach((t) => t.dispose());
      this.bestWeights = model.getWeights().map((t) => t.clone());
      return false;
    }
    return ++this.sinceBest >= this.patience;
  }

  /** Puts the best epoch's weights back when a later epoch ran. */
  restore(model: tfl.LayersModel, lastEpoch: number): void {
    if (this.bestWeights && this.bestEpoch !== lastEpoch) model.setWeights(this.bestWeights);
  }

  dispose(): void {
    this.bestWeights?.forEach((t) => t.dispose());
  }
}

function checkTrainOptions(options: TrainOptions, trainIndices: Uint32Array): void {
  const { epochs, batchSize } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new TrainerError('invalid_argument', `epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainerError('invalid_argument', `batch size must be a positive integer, got ${batchSize}`);
  if (trainIndices.length === 0) throw new TrainerError('invalid_argument', 'no training samples');
}

/**
 * Trains a classifier (logits output) on training-split samples (or rows of other inputs, e.g. a
 * party's own data in memory) with Adam and softmax
 * cross-entropy, in mini-batches shuffled by a seeded generator. A seeded `validationFraction`
 * of the samples is held out; after each epoch the validation loss is measured, and training
 * stops after `patience` epochs without improvement, restoring the best epoch's weights.
 * Same seed, data and backend → the same model.
 */
export async function trainClassifier(
  model: tfl.LayersModel,
  dataset: ImageDataset | ClassifierInputs,
  trainIndices: Uint32Array,
  options: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const started = performance.now();
  const inputs = asClassifierInputs(dataset, 'train');
  checkTrainOptions(options, trainIndices);
  const { epochs, batchSize, seed } = options;
  const { valIndices, fitIndices } = holdOut(trainIndices, options.validationFraction ?? 0.1, seed);
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const context: EpochContext = {
    model,
    inputs,
    batchSize,
    optimizer,
    variables: model.trainableWeights.map((weight) => weight.read() as tf.Variable),
    buffer: new Float32Array(batchSize * inputSize(inputs)),
    labelBuffer: new Int32Array(batchSize),
  };
  const rng = seededRng(seed + 1);
  const reports: EpochReport[] = [];
  const stopping = new EarlyStopping(options.patience ?? 3);
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      shuffleInPlace(fitIndices, rng);
      const lossSum = await trainEpoch(context, fitIndices, epoch, hooks);
      const val = valIndices.length > 0 ? evaluateClassifier(model, inputs, 'train', valIndices) : { loss: Number.NaN, accuracy: Number.NaN };
      const report: EpochReport = { epoch, trainLoss: lossSum / fitIndices.length, valLoss: val.loss, valAccuracy: val.accuracy, seconds: (performance.now() - epochStart) / 1000 };
      reports.push(report);
      hooks.onEpoch?.(report);
      if (valIndices.length === 0) {
        stopping.bestEpoch = epoch;
      } else if (stopping.observe(epoch, val.loss, model)) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
    stopping.restore(model, reports.length);
  } finally {
    stopping.dispose();
    optimizer.dispose();
  }
  return { epochs: reports, bestEpoch: stopping.bestEpoch, stoppedEarly, trainSamples: fitIndices.length, validationSamples: valIndices.length, seconds: (performance.now() - started) / 1000 };
}
