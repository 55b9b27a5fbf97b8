import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions (tfjs-core alone has none registered); the probe trains with them.
import '@tensorflow/tfjs-layers';
import type { Matrix } from '@rlsa/core';
import { floatScaledIndex, randomFloat, seededRng, shuffleInPlace, type Rng } from '@rlsa/core';

/** Settings of the paper's linear-ish probe. */
export interface ProbeOptions {
  readonly numClasses: number;
  readonly seed?: number;
  readonly hidden?: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  readonly maxEpochs?: number;
  readonly patience?: number;
  /** Fraction of the training rows held out to decide early stopping. */
  readonly validationFraction?: number;
  /** Train on at most this many rows (a seeded sample), to bound the time. */
  readonly maxTrainRows?: number | null;
  /** Whether to instance-normalise rows first (the probe's first layer); off when the caller did it. */
  readonly normalize?: boolean;
}

export interface ProbeResult {
  /** Fraction of test rows whose argmax matches the label. */
  readonly accuracy: number;
  /** Epochs run (including the patience epochs after the best one). */
  readonly epochs: number;
  /** Epoch (1-based) whose weights were kept. */
  readonly bestEpoch: number;
  readonly bestValidationLoss: number;
  readonly trainRows: number;
}

export const PROBE_DEFAULTS = {
  hidden: 256,
  learningRate: 1e-3,
  batchSize: 128,
  maxEpochs: 100,
  patience: 10,
  validationFraction: 0.1,
} as const;

/**
 * Normalises each row to zero mean and unit variance over its features, as InstanceNorm1d without
 * affine parameters does for a 1-D feature vector: y = (x − mean(x)) / sqrt(var(x) + 1e-5), with the
 * biased variance. Returns a new N×D Float32 matrix.
 */
export function instanceNormalize(x: Matrix): Matrix {
  const { rows, cols, data } = x;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let mean = 0;
    for (let j = 0; j < cols; j++) mean += data[i * cols + j]!;
    mean /= cols;
    let variance = 0;
    for (let j = 0; j < cols; j++) variance += (data[i * cols + j]! - mean) ** 2;
    variance /= cols;
    const scale = 1 / Math.sqrt(variance + 1e-5);
    for (let j = 0; j < cols; j++) out[i * cols + j] = (data[i * cols + j]! - mean) * scale;
  }
  return { rows, cols, data: out };
}

/** Rows `indices` of `x`, as a Float32 array (K × D). */
function rowsOf(x: Matrix, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * x.cols);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    for (let j = 0; j < x.cols; j++) out[k * x.cols + j] = x.data[i * x.cols + j]!;
  }
  return out;
}

const labelsOf = (labels: ArrayLike<number>, indices: ArrayLike<number>): Int32Array => Int32Array.from({ length: indices.length }, (_, k) => labels[indices[k]!]!);

/** A seeded sample of at most `maxTrainRows` training rows, then a seeded validation split of it. */
function probeSplit(rows: number, maxTrainRows: number | null | undefined, validationFraction: number, rng: Rng): { fit: Uint32Array; validation: Uint32Array } {
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  shuffleInPlace(order, rng, floatScaledIndex);
  const used = maxTrainRows ? order.subarray(0, Math.min(order.length, maxTrainRows)) : order;
  const validationCount = Math.max(1, Math.min(used.length - 1, Math.round(used.length * validationFraction)));
  return { validation: used.subarray(0, validationCount), fit: Uint32Array.from(used.subarray(validationCount)) };
}

/** The probe's variables [W1 (D×H), b1, W2 (H×C), b2], each U(−1/√fan_in, 1/√fan_in) as PyTorch's Linear. */
function probeVariables(d: number, hidden: number, c: number, rng: Rng): tf.Variable[] {
  const uniform = (shape: number[], bound: number): tf.Variable => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = (2 * randomFloat(rng) - 1) * bound;
    return tf.variable(tf.tensor(values, shape, 'float32'));
  };
  return [uniform([d, hidden], 1 / Math.sqrt(d)), uniform([hidden], 1 / Math.sqrt(d)), uniform([hidden, c], 1 / Math.sqrt(hidden)), uniform([c], 1 / Math.sqrt(hidden))];
}

/** The probe's logits: relu(x·W1 + b1)·W2 + b2. */
function probeLogits(variables: readonly tf.Variable[], x: tf.Tensor): tf.Tensor2D {
  const [w1, b1, w2, b2] = variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2) as tf.Tensor2D;
}

/** What the fit needs: the data as tensors, the variables, the optimizer and the stopping rule. */
interface ProbeFit {
  readonly fitX: tf.Tensor2D;
  readonly fitY: tf.Tensor1D;
  readonly valX: tf.Tensor2D;
  readonly valY: tf.Tensor;
  readonly variables: tf.Variable[];
  readonly optimizer: tf.Optimizer;
  readonly classes: number;
  readonly batchSize: number;
  readonly maxEpochs: number;
  readonly patience: number;
}

/**
 * Adam epochs over seeded batches until `patience` epochs pass without a lower validation loss;
 * leaves the best epoch's weights in the variables. Returns the epochs run and the best epoch.
 */
async function fitProbe(fit: ProbeFit, rng: Rng): Promise<{ epoch: number; best: { loss: number; epoch: number } | null }> {
  const { fitX, fitY, valX, valY, variables, optimizer, classes } = fit;
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  let epoch = 0;
  try {
    const permutation = Uint32Array.from({ length: fitY.shape[0] }, (_, i) => i);
    for (epoch = 1; epoch <= fit.maxEpochs; epoch++) {
      shuffleInPlace(permutation, rng, floatScaledIndex);
      for (let start = 0; start < permutation.length; start += fit.batchSize) {
        const batch = Int32Array.from(permutation.subarray(start, Math.min(start + fit.batchSize, permutation.length)));
        tf.tidy(() => {
          const index = tf.tensor1d(batch, 'int32');
          const xb = tf.gather(fitX, index);
          const yb = tf.oneHot(tf.gather(fitY, index) as tf.Tensor1D, classes);
          optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, probeLogits(variables, xb)) as tf.Scalar, false, variables);
        });
      }
      const loss = tf.tidy(() => tf.losses.softmaxCrossEntropy(valY, probeLogits(variables, valX))).dataSync()[0]!;
      if (best === null || loss < best.loss) {
        best?.weights.forEach((t) => t.dispose());
        best = { loss, epoch, weights: variables.map((v) => tf.clone(v)) };
      } else if (epoch - best.epoch >= fit.patience) {
        break;
      }
      // Yield so that signals and progress are handled between epochs.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const kept = best;
    if (kept) variables.forEach((v, i) => v.assign(kept.weights[i]!));
    return { epoch, best: kept && { loss: kept.loss, epoch: kept.epoch } };
  } finally {
    best?.weights.forEach((t) => t.dispose());
  }
}

/**
 * The paper's probe: InstanceNorm1d → Linear(D, 256) → ReLU → Linear(256, C), trained with Adam
 * (lr 1e-3) on softmax cross-entropy in batches of 128, with early stopping on the loss of a
 * seeded validation split (patience 10; the best epoch's weights are kept), then evaluated on the
 * test rows. Weights start as PyTorch's Linear does: U(−1/√fan_in, 1/√fan_in) for weights and biases.
 *
 * train: N×D, trainLabels: N ints in [0, C); test: M×D, testLabels: M ints. Uses whatever tfjs
 * backend is active (the caller picks it once per process with initTfjsBackend).
 */
export async function trainProbe(
  train: Matrix,
  trainLabels: ArrayLike<number>,
  test: Matrix,
  testLabels: ArrayLike<number>,
  options: ProbeOptions,
): Promise<ProbeResult> {
  if (train.cols !== test.cols) throw new Error(`probe: train width ${train.cols} != test width ${test.cols}`);
  if (train.rows !== trainLabels.length || test.rows !== testLabels.length) throw new Error('probe: labels do not match rows');
  if (train.rows < 2 || test.rows < 1) throw new Error('probe: needs at least 2 training rows and 1 test row');
  const rng = seededRng(Math.floor(options.seed ?? 0));
  const c = options.numClasses;
  const d = train.cols;
  const normalize = options.normalize ?? true;
  const trainX = normalize ? instanceNormalize(train) : train;
  const testX = normalize ? instanceNormalize(test) : test;
  const { fit, validation } = probeSplit(train.rows, options.maxTrainRows, options.validationFraction ?? PROBE_DEFAULTS.validationFraction, rng);
  const variables = probeVariables(d, options.hidden ?? PROBE_DEFAULTS.hidden, c, rng);
  const optimizer = tf.train.adam(options.learningRate ?? PROBE_DEFAULTS.learningRate);
  const tensors = {
    fitX: tf.tensor2d(rowsOf(trainX, fit), [fit.length, d]),
    fitY: tf.tensor1d(labelsOf(trainLabels, fit), 'int32'),
    valX: tf.tensor2d(rowsOf(trainX, validation), [validation.length, d]),
    valY: tf.oneHot(tf.tensor1d(labelsOf(trainLabels, validation), 'int32'), c),
  };
  try {
    const settings = { classes: c, batchSize: options.batchSize ?? PROBE_DEFAULTS.batchSize, maxEpochs: options.maxEpochs ?? PROBE_DEFAULTS.maxEpochs, patience: options.patience ?? PROBE_DEFAULTS.patience };
    const { epoch, best } = await fitProbe({ ...tensors, ...settings, variables, optimizer }, rng);
    const testData = testX.data instanceof Float32Array ? testX.data : Float32Array.from(testX.data);
    const predicted = tf.tidy(() => tf.argMax(probeLogits(variables, tf.tensor2d(testData, [testX.rows, d])), 1)).dataSync();
    let correct = 0;
    for (let i = 0; i < test.rows; i++) if (predicted[i] === testLabels[i]) correct++;
    return { accuracy: correct / test.rows, epochs: Math.min(epoch, settings.maxEpochs), bestEpoch: best?.epoch ?? 0, bestValidationLoss: best?.loss ?? Number.NaN, trainRows: fit.length };
  } finally {
    [tensors.fitX, tensors.fitY, tensors.valX, tensors.valY, ...variables].forEach((t) => t.dispose());
    optimizer.dispose();
  }
}
