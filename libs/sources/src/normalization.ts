import { SourceError } from './errors.ts';
import type { SampleBatch, SampleShape, SourcePart } from './sample.ts';

/**
 * Per-channel statistics a model's inputs are standardised with: x' = (x·s − mean_c) / std_c,
 * where s = 1/255 for byte data (so the statistics are on [0, 1], as torchvision's
 * `Normalize` after `ToTensor`) and 1 for float data. A channel is the last axis: C for
 * images, each feature for feature vectors.
 */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The number of channels statistics are kept for: C for images, F for features. */
export function channelCount(shape: SampleShape): number {
  return shape.kind === 'image' ? shape.channels : shape.width;
}

/**
 * Mean and standard deviation (population, float64 accumulation) of each channel over a part,
 * read in batches: byte data through exact per-channel histograms, float data by merging each
 * batch's float64 mean and sum of squared deviations (Chan et al.), which keeps the variance
 * accurate over millions of values. A constant channel gets std 1 (left unscaled, not divided by 0).
 */
export async function channelStats(part: SourcePart, shape: SampleShape, batchSize = 256): Promise<Normalization> {
  const channels = channelCount(shape);
  const histograms = new Float64Array(256 * channels);
  const n = new Float64Array(channels);
  const mean = new Float64Array(channels);
  const m2 = new Float64Array(channels);
  let bytes = true;
  for await (const batch of part.batches(batchSize)) {
    if (batch.values instanceof Uint8Array) {
      for (let i = 0; i < batch.values.length; i++) histograms[(i % channels) * 256 + batch.values[i]!]! += 1;
    } else {
      bytes = false;
      mergeFloatBatch(batch.values, channels, n, mean, m2);
    }
  }
  if (bytes) histogramMoments(histograms, channels, n, mean, m2);
  const std = Array.from(m2, (m, c) => {
    const variance = n[c]! > 0 ? m / n[c]! : 0;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { mean: Array.from(mean), std };
}

function mergeFloatBatch(values: Float32Array, channels: number, n: Float64Array, mean: Float64Array, m2: Float64Array): void {
  const rows = values.length / channels;
  if (rows === 0) return;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += values[r * channels + c]!;
    const batchMean = sum / rows;
    let batchM2 = 0;
    for (let r = 0; r < rows; r++) batchM2 += (values[r * channels + c]! - batchMean) ** 2;
    const total = n[c]! + rows;
    const delta = batchMean - mean[c]!;
    mean[c] = mean[c]! + (delta * rows) / total;
    m2[c] = m2[c]! + batchM2 + (delta * delta * n[c]! * rows) / total;
    n[c] = total;
  }
}

function histogramMoments(histograms: Float64Array, channels: number, n: Float64Array, mean: Float64Array, m2: Float64Array): void {
  for (let c = 0; c < channels; c++) {
    let count = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      count += histograms[c * 256 + v]!;
      sum += histograms[c * 256 + v]! * (v / 255);
    }
    const mu = count > 0 ? sum / count : 0;
    let squares = 0;
    for (let v = 0; v < 256; v++) squares += histograms[c * 256 + v]! * (v / 255 - mu) ** 2;
    n[c] = count;
    mean[c] = mu;
    m2[c] = squares;
  }
}

/**
 * A batch as float32 model input (same layout: count × sampleSize, channels last):
 * x' = (x·s − mean_c) / std_c (see `Normalization`); without statistics only the byte scaling
 * (x/255) applies. Written into `out` when given (at least as long as the batch's values).
 */
export function normalizeBatch(batch: SampleBatch, normalization: Normalization | undefined, out?: Float32Array): Float32Array {
  const { values } = batch;
  const channels = channelCount(batch.shape);
  const result = out ?? new Float32Array(values.length);
  if (result.length < values.length) throw new SourceError('invalid_argument', `the output holds ${result.length} values, ${values.length} needed`);
  if (normalization !== undefined && (normalization.mean.length !== channels || normalization.std.length !== channels)) {
    throw new SourceError('invalid_argument', `normalisation statistics for ${normalization.mean.length} channels, the data has ${channels}`);
  }
  const scale = values instanceof Uint8Array ? 1 / 255 : 1;
  const shift = Float64Array.from({ length: channels }, (_, c) => normalization?.mean[c] ?? 0);
  const inverse = Float64Array.from({ length: channels }, (_, c) => 1 / (normalization?.std[c] ?? 1));
  if (values instanceof Uint8Array) {
    // One lookup table per channel: 256·C floats instead of a division per value.
    const table = new Float32Array(256 * channels);
    for (let c = 0; c < channels; c++) for (let v = 0; v < 256; v++) table[c * 256 + v] = (v * scale - shift[c]!) * inverse[c]!;
    for (let i = 0; i < values.length; i++) result[i] = table[(i % channels) * 256 + values[i]!]!;
  } else {
    for (let i = 0; i < values.length; i++) result[i] = (values[i]! - shift[i % channels]!) * inverse[i % channels]!;
  }
  return result;
}
