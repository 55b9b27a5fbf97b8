import * as tfl from '@tensorflow/tfjs-layers';
import type { Logger } from 'pino';
import { parseSampleId, sampleIds, type ImageDataset } from '@rlsa/data';
import { TrainerError } from '../errors.ts';
import { EMBEDDING_LAYER } from '../models.ts';
import type { Progress } from '../progress.ts';
import { logitMetrics, predictOutputs, predictRows } from '../tensors.ts';
import type { BuiltinNodeData } from './load-data.ts';
import type { TrainedModel } from './train-model.ts';

/** A node's absolute embeddings: its samples (N × D, its training samples then its test samples, in its data's order), the anchors (A × D). */
export interface NodeEmbeddings {
  /** A built-in data set's 32-bit ids (widened by the client), or 64-bit ids (content or user-given). */
  readonly ids: Uint32Array | BigUint64Array;
  readonly labels: Int32Array;
  /** N × D, row-major. */
  readonly absolute: Float32Array;
  /** A × D, in the run's anchor order. */
  readonly anchors: Float32Array;
  readonly width: number;
  /** Accuracy of the classifier on the node's labelled test samples (0 without any); null for a model without a classifier (pretrained, embeddings). */
  readonly taskAccuracy: number | null;
}

/** Embeddings (N × D) of the given global ids, in their order, whatever split each is in. */
function embedIds(model: tfl.LayersModel, dataset: ImageDataset, ids: readonly number[], width: number): Float32Array {
  const out = new Float32Array(ids.length * width);
  for (const split of ['train', 'test'] as const) {
    const rows: number[] = [];
    const indices: number[] = [];
    ids.forEach((id, row) => {
      const parsed = parseSampleId(id);
      if (parsed.split !== split) return;
      if (parsed.index >= dataset[split].count) {
        throw new TrainerError('failed_precondition', `anchor id ${id} is beyond this node's copy of ${dataset.name} (${dataset[split].count} ${split} samples)`);
      }
      rows.push(row);
      indices.push(parsed.index);
    });
    if (indices.length === 0) continue;
    const values = predictRows(model, dataset, split, Uint32Array.from(indices), width);
    rows.forEach((row, k) => out.set(values.subarray(k * width, (k + 1) * width), row * width));
  }
  return out;
}

/**
 * Phase 4, embed (a built-in data set): the anchors, then the node's samples through the embedding
 * layer; the test pass also gives the logits for the task accuracy. Disposes of the model.
 */
export function embedNode(trained: TrainedModel, data: BuiltinNodeData, anchorIds: readonly number[], progress: Progress, log: Logger): NodeEmbeddings {
  const { model, width } = trained;
  const { dataset, samples } = data;
  const embedder = tfl.model({ inputs: model.inputs, outputs: [model.getLayer(EMBEDDING_LAYER).output as tfl.SymbolicTensor, model.outputs[0] as tfl.SymbolicTensor] });
  const embedOnly = tfl.model({ inputs: model.inputs, outputs: model.getLayer(EMBEDDING_LAYER).output as tfl.SymbolicTensor });
  const anchors = embedIds(embedOnly, dataset, anchorIds, width);
  const trainCount = samples.trainIndices.length;
  progress.start('embed', trainCount + samples.testIndices.length);
  const trainEmb = predictRows(embedOnly, dataset, 'train', samples.trainIndices, width, (done) => progress.update(done));
  const [testEmb, testLogits] = predictOutputs(embedder, dataset, 'test', samples.testIndices, [width, dataset.numClasses], (done) => progress.update(trainCount + done)) as [
    Float32Array,
    Float32Array,
  ];
  progress.stop();
  const testLabels = Uint8Array.from(samples.testIndices, (i) => dataset.test.labels[i] as number);
  const taskAccuracy = samples.testIndices.length > 0 ? logitMetrics(testLogits, dataset.numClasses, testLabels).accuracy : 0;
  log.info({ taskAccuracy, testSamples: samples.testIndices.length, bestEpoch: trained.training.bestEpoch }, 'task accuracy');
  model.dispose();

  const total = trainCount + samples.testIndices.length;
  const ids = new Uint32Array(total);
  ids.set(sampleIds('train', samples.trainIndices), 0);
  ids.set(sampleIds('test', samples.testIndices), trainCount);
  const labels = new Int32Array(total);
  samples.trainIndices.forEach((i, k) => (labels[k] = dataset.train.labels[i] as number));
  labels.set(testLabels, trainCount);
  const absolute = new Float32Array(total * width);
  absolute.set(trainEmb, 0);
  absolute.set(testEmb, trainEmb.length);
  return { ids, labels, absolute, anchors, width, taskAccuracy };
}
