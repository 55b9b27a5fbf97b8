import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset, Split } from '@rlsa/data';
import { asClassifierInputs, inputSize, type ClassifierInputs } from './classifier-inputs.ts';

/** Rows per inference batch: large enough to amortise per-call overhead, small enough for memory (512 × 3 KB CIFAR images = 6 MB). */
export const PREDICT_BATCH = 512;

/**
 * Runs `model` over the given samples in batches and returns its outputs row-major (N × width).
 * Each batch is normalised into one reused buffer, and every tensor is released in `tf.tidy`,
 * so memory stays at one batch whatever N is.
 */
export function predictRows(
  model: tfl.LayersModel,
  dataset: ImageDataset | ClassifierInputs,
  split: Split,
  indices: Uint32Array,
  width: number,
  onBatch?: (done: number) => void,
): Float32Array {
  const inputs = asClassifierInputs(dataset, split);
  const size = inputSize(inputs);
  const out = new Float32Array(indices.length * width);
  const buffer = new Float32Array(PREDICT_BATCH * size);
  for (let start = 0; start < indices.length; start += PREDICT_BATCH) {
    const batch = indices.subarray(start, Math.min(indices.length, start + PREDICT_BATCH));
    inputs.fill(batch, buffer);
    const values = tf.tidy(() => {
      const x = tf.tensor(buffer.subarray(0, batch.length * size), [batch.length, ...inputs.sampleShape]);
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(values, start * width);
    onBatch?.(start + batch.length);
  }
  return out;
}

/** Mean softmax cross-entropy and accuracy of logits (N × K, row-major) against labels. */
export function logitMetrics(logits: Float32Array, numClasses: number, labels: ArrayLike<number>): { loss: number; accuracy: number } {
  const n = labels.length;
  if (n === 0) return { loss: Number.NaN, accuracy: Number.NaN };
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let max = -Infinity;
    let argmax = 0;
    for (let k = 0; k < numClasses; k++) {
      const v = logits[row + k] as number;
      if (v > max) {
        max = v;
        argmax = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += Math.exp((logits[row + k] as number) - max);
    const label = labels[i] as number;
    loss += Math.log(sum) + max - (logits[row + label] as number);
    if (argmax === label) correct++;
  }
  return { loss: loss / n, accuracy: correct / n };
}

/**
 * Like `predictRows` for a model with several outputs (e.g. the embedding and the logits in one
 * pass): one row-major array per output, output k being N × widths[k].
 */
export function predictOutputs(
  model: tfl.LayersModel,
  dataset: ImageDataset | ClassifierInputs,
  split: Split,
  indices: Uint32Array,
  widths: readonly number[],
  onBatch?: (done: number) => void,
): Float32Array[] {
  const inputs = asClassifierInputs(dataset, split);
  const size = inputSize(inputs);
  const outs = widths.map((width) => new Float32Array(indices.length * width));
  const buffer = new Float32Array(PREDICT_BATCH * size);
  for (let start = 0; start < indices.length; start += PREDICT_BATCH) {
    const batch = indices.subarray(start, Math.min(indices.length, start + PREDICT_BATCH));
    inputs.fill(batch, buffer);
    const values = tf.tidy(() => {
      const x = tf.tensor(buffer.subarray(0, batch.length * size), [batch.length, ...inputs.sampleShape]);
      const y = model.predict(x);
      const tensors = Array.isArray(y) ? y : [y as tf.Tensor];
      return tensors.map((t) => t.dataSync() as Float32Array);
    });
    values.forEach((v, k) => (outs[k] as Float32Array).set(v, start * (widths[k] as number)));
    onBatch?.(start + batch.length);
  }
  return outs;
}

/** Loss and accuracy of a classifier on samples of a split (or on rows of other inputs). */
export function evaluateClassifier(
  model: tfl.LayersModel,
  dataset: ImageDataset | ClassifierInputs,
  split: Split,
  indices: Uint32Array,
): { loss: number; accuracy: number } {
  const inputs = asClassifierInputs(dataset, split);
  const logits = predictRows(model, inputs, split, indices, inputs.numClasses);
  const labels = Int32Array.from(indices, (i) => inputs.label(i));
  return logitMetrics(logits, inputs.numClasses, labels);
}
