import { createHash } from 'node:crypto';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Logger } from 'pino';
import { buildModel, embeddingWidth, type ModelName } from '../models.ts';
import type { TrainerSettings } from '../options.ts';
import type { Progress } from '../progress.ts';
import { trainClassifier, type EpochReport, type TrainResult } from '../training.ts';
import type { NodeData } from './load-data.ts';

/** A node's trained classifier: its embedding layer is what the node projects and uploads. */
export interface TrainedModel {
  readonly model: tfl.LayersModel;
  readonly name: ModelName;
  /** Width D of its embedding. */
  readonly width: number;
  readonly training: TrainResult;
}

/**
 * A node's default initialisation seed: the first 31 bits of SHA-256("<seed>:<node id>"). Distinct
 * nodes of one run get distinct, reproducible initialisations.
 */
export function nodeInitSeed(seed: number, nodeId: string): number {
  return createHash('sha256').update(`${seed}:${nodeId}`).digest().readUInt32LE(0) >>> 1;
}

/**
 * Phase 3, train: builds the model (weights seeded by `initSeed`, default `nodeInitSeed`) and trains
 * it on the node's training samples with early stopping, reporting batches to `progress` and epochs
 * to the log. Issue 14's pretrained encoders (ONNX, saved tfjs, embeddings) skip this phase.
 */
export async function trainNodeModel(
  data: NodeData,
  training: TrainerSettings['training'],
  initSeed: number,
  progress: Progress,
  log: Logger,
): Promise<TrainedModel> {
  const model = buildModel(training.model, data.dataset.shape, data.dataset.numClasses, initSeed);
  const batchesPerEpoch = Math.ceil(data.samples.trainIndices.length / training.batchSize);
  let lastEpoch: EpochReport | undefined;
  progress.start('train', training.epochs * batchesPerEpoch);
  const result = await trainClassifier(
    model,
    data.dataset,
    data.samples.trainIndices,
    { epochs: training.epochs, batchSize: training.batchSize, seed: initSeed, patience: training.patience, validationFraction: training.validationFraction, learningRate: training.learningRate },
    {
      onBatch: (epoch, batch, batches) => progress.update((epoch - 1) * batches + batch, lastEpoch ? { epoch, valAccuracy: lastEpoch.valAccuracy } : { epoch }),
      onEpoch: (report) => {
        lastEpoch = report;
        log.info({ ...report, epochs: training.epochs }, `epoch ${report.epoch}`);
      },
    },
  );
  progress.stop();
  return { model, name: training.model, width: embeddingWidth(training.model), training: result };
}
