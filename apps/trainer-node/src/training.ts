import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { permutation, seededRng, shuffleInPlace } from '@rlsa/core';
import { imageSize, normalizedImages, type ImageDataset } from '@rlsa/data';
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

/**
 * Trains a classifier (logits output) on training-split samples with Adam and softmax
 * cross-entropy, in mini-batches shuffled by a seeded generator. A seeded `validationFraction`
 * of the samples is held out; after each epoch the validation loss is measured, and training
 * stops after `patience` epochs without improvement, restoring the best epoch's weights.
 * Same seed, data and backend → the same model.
 */
export async function trainClassifier(
  model: tfl.LayersModel,
  dataset: ImageDataset,
  trainIndices: Uint32Array,
  options: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const started = performance.now();
  const { epochs, batchSize, seed } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new TrainerError('invalid_argument', `epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainerError('invalid_argument', `batch size must be a positive integer, got ${batchSize}`);
  if (trainIndices.length === 0) throw new TrainerError('invalid_argument', 'no training samples');
  const fraction = options.validationFraction ?? 0.1;
  const patience = options.patience ?? 3;

  // Seeded hold-out split.
  const order = permutation(trainIndices.length, seededRng(seed));
  const valCount = trainIndices.length >= 20 ? Math.max(1, Math.round(fraction * trainIndices.length)) : 0;
  const valIndices = Uint32Array.from(order.subarray(0, valCount), (i) => trainIndices[i] as number).sort();
  const fitIndices = Uint32Array.from(order.subarray(valCount), (i) => trainIndices[i] as number);

  const [h, w, c] = dataset.shape;
  const size = imageSize(dataset);
  const numClasses = dataset.numClasses;
  const labels = dataset.train.labels;
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const buffer = new Float32Array(batchSize * size);
  const labelBuffer = new Int32Array(batchSize);
  const rng = seededRng(seed + 1);
  const batches = Math.ceil(fitIndices.length / batchSize);

  const reports: EpochReport[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      shuffleInPlace(fitIndices, rng);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const batch = fitIndices.subarray(b * batchSize, Math.min(fitIndices.length, (b + 1) * batchSize));
        normalizedImages(dataset, 'train', batch, buffer);
        for (let i = 0; i < batch.length; i++) labelBuffer[i] = labels[batch[i] as number] as number;
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(buffer.subarray(0, batch.length * size), [batch.length, h, w, c]);
          const y = tf.oneHot(tf.tensor1d(labelBuffer.subarray(0, batch.length), 'int32'), numClasses);
          return optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
            true,
            variables,
          ) as tf.Scalar;
        });
        const value = (await loss.data())[0] as number;
        loss.dispose();
        if (!Number.isFinite(value)) throw new TrainerError('training_failed', `the training loss became ${value} in epoch ${epoch}, batch ${b + 1}`);
        lossSum += value * batch.length;
        hooks.onBatch?.(epoch, b + 1, batches);
        // Let timers (progress, gRPC keepalives) run between batches.
        if (b % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
      }
      const val = valCount > 0 ? evaluateClassifier(model, dataset, 'train', valIndices) : { loss: Number.NaN, accuracy: Number.NaN };
      const report: EpochReport = {
        epoch,
        trainLoss: lossSum / fitIndices.length,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: (performance.now() - epochStart) / 1000,
      };
      reports.push(report);
      hooks.onEpoch?.(report);
      if (valCount === 0) {
        bestEpoch = epoch;
        continue;
      }
      if (val.loss < best - 1e-4) {
        best = val.loss;
        bestEpoch = epoch;
        sinceBest = 0;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((t) => t.clone());
      } else if (++sinceBest >= patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
    if (bestWeights && bestEpoch !== reports.length) model.setWeights(bestWeights);
  } finally {
    bestWeights?.forEach((t) => t.dispose());
    optimizer.dispose();
  }
  return {
    epochs: reports,
    bestEpoch,
    stoppedEarly,
    trainSamples: fitIndices.length,
    validationSamples: valCount,
    seconds: (performance.now() - started) / 1000,
  };
}
