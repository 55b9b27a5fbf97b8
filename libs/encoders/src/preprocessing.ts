import type { Normalization, SampleBatch, SampleShape } from '@rlsa/sources';
import { normalizeBatch } from '@rlsa/sources';
import { EncoderError } from './errors.ts';

/** How a model takes an image batch: channels first (PyTorch's default) or last (TensorFlow's). */
export const LAYOUTS = ['NCHW', 'NHWC'] as const;
export type Layout = (typeof LAYOUTS)[number];

/**
 * Keys a model may carry in its metadata (ONNX `metadata_props`, tfjs `userDefinedMetadata`)
 * to say how it wants its input; options given by the user win over them.
 * - `rlsa.layout`: `NCHW` or `NHWC`;
 * - `rlsa.mean`, `rlsa.std`: comma-separated per-channel statistics on [0, 1] (e.g. ImageNet's
 *   `0.485,0.456,0.406` and `0.229,0.224,0.225`);
 * - `rlsa.embedding_output`: the output (ONNX) or layer (tfjs) that is the embedding.
 */
export const METADATA_KEYS = { layout: 'rlsa.layout', mean: 'rlsa.mean', std: 'rlsa.std', embeddingOutput: 'rlsa.embedding_output' } as const;

/** Parses a layout name (case-insensitive). */
export function parseLayout(text: string, file: string): Layout {
  const upper = text.trim().toUpperCase();
  if (!(LAYOUTS as readonly string[]).includes(upper)) throw new EncoderError('invalid_argument', `layout "${text}": expected NCHW or NHWC`, { file });
  return upper as Layout;
}

/** Parses `0.485,0.456,0.406` as a list of finite numbers. */
export function parseNumberList(text: string, what: string, file: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) throw new EncoderError('invalid_argument', `${what} "${text}": expected comma-separated numbers`, { file });
  return values;
}

/** The normalisation statistics in a model's metadata, if it has both keys. */
export function metadataNormalization(metadata: ReadonlyMap<string, string>, file: string): Normalization | undefined {
  const mean = metadata.get(METADATA_KEYS.mean);
  const std = metadata.get(METADATA_KEYS.std);
  if (mean === undefined || std === undefined) return undefined;
  return { mean: parseNumberList(mean, METADATA_KEYS.mean, file), std: parseNumberList(std, METADATA_KEYS.std, file) };
}

/**
 * A batch as a model's float32 input: normalised (`normalizeBatch`: x/255 for bytes, then the
 * statistics when given) and, for NCHW models, moved from channels-last to channels-first:
 * out[n, c, y, x] = in[n, y, x, c].
 */
export function modelInput(batch: SampleBatch, normalization: Normalization | undefined, layout: Layout): Float32Array {
  const normalized = normalizeBatch(batch, normalization);
  if (layout === 'NHWC' || batch.shape.kind !== 'image' || batch.shape.channels === 1) return normalized;
  const { height, width, channels } = batch.shape;
  const plane = height * width;
  const size = plane * channels;
  const out = new Float32Array(normalized.length);
  for (let n = 0; n < batch.count; n++) {
    const base = n * size;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + c * plane + p] = normalized[base + p * channels + c]!;
    }
  }
  return out;
}

/** The dims a model's input has for `count` samples of `shape` in `layout`. */
export function inputDims(shape: SampleShape, count: number, layout: Layout): number[] {
  if (shape.kind === 'features') return [count, shape.width];
  return layout === 'NCHW' ? [count, shape.channels, shape.height, shape.width] : [count, shape.height, shape.width, shape.channels];
}
