import type * as tfl from '@tensorflow/tfjs-layers';
import type { Logger } from 'pino';
import { buildModel, embeddingWidth, type ModelName } from '../models.ts';
import type { TrainerSettings } from '../options.ts';
import type { Progress } from '../progress.ts';
import { trainClassifier, type EpochReport, type TrainHooks, type TrainOptions, type TrainResult } from '../training.ts';
import type { BuiltinNodeData } from './load-data.ts';

/** A node's trained classifier: its embedding layer is what the node projects and uploads. */
export interface TrainedModel {
  readonly model: tfl.LayersModel;
  readonly name: ModelName;
  /** Width D of its embedding. */
  readonly width: number;
  readonly training: TrainResult;
}

/**
 * Phase 3, train: builds the model (weights seeded by `initSeed`, default `nodeInitSeed`) and trains
 * it on the node's training samples with early stopping, reporting batches to `progress` and epochs
 * to the log, on a built-in data set's samples (a party's own data: `trainOnSource`).
 */
export async function trainNodeModel(
  data: BuiltinNodeData,
  name: ModelName,
  training: TrainerSettings['training'],
  initSeed: number,
  progress: Progress,
  log: Logger,
): Promise<TrainedModel> {
  const model = buildModel(name, data.dataset.shape, data.dataset.numClasses, initSeed);
  const result = await trainClassifier(model, data.dataset, data.samples.trainIndices, trainOptions(training, initSeed), trainingHooks(training, data.samples.trainIndices.length, progress, log));
  progress.stop();
  return { model, name, width: embeddingWidth(name), training: result };
}

/** The node's training settings as the trainer's options. */
export function trainOptions(training: TrainerSettings['training'], initSeed: number): TrainOptions {
  const { epochs, batchSize, patience, validationFraction, learningRate } = training;
  return { epochs, batchSize, seed: initSeed, patience, validationFraction, learningRate };
}

/** Progress per batch (with the last epoch's validation accuracy) and one log line per epoch; starts the progress. */
export function trainingHooks(training: TrainerSettings['training'], samples: number, progress: Progress, log: Logger): TrainHooks {
  const batchesPerEpoch = Math.ceil(samples / training.batchSize);
  let lastEpoch: EpochReport | undefined;
  progress.start('train', training.epochs * batchesPerEpoch);
  return {
    onBatch: (epoch, batch, batches) => progress.update((epoch - 1) * batches + batch, lastEpoch ? { epoch, valAccuracy: lastEpoch.valAccuracy } : { epoch }),
    onEpoch: (report) => {
      lastEpoch = report;
      log.info({ ...report, epochs: training.epochs }, `epoch ${report.epoch}`);
    },
  };
}
