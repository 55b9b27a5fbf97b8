import { sampleSize, shapeText, type SampleShape } from '@rlsa/sources';
import type { InferenceSession } from 'onnxruntime-node';
import { EncoderError } from '../errors.ts';
import { inputDims, type Layout } from '../preprocessing.ts';

/** How the data goes into a model: the input's name, layout and batch dimension. */
export interface OnnxInput {
  readonly name: string;
  readonly shape: SampleShape;
  readonly layout: Layout;
  /** Values of one sample. */
  readonly sampleSize: number;
  /** The input's batch dimension when the model fixes it (e.g. 1), else undefined. */
  readonly fixedBatch: number | undefined;
}

/**
 * Matches the model's single float32 input with the data's shape: rank 4 for images (in the given
 * layout, or the one its fixed dims allow: NCHW when both do), rank 2 for features; every fixed
 * dim must equal the data's. `model_mismatch` otherwise, with both shapes and the usual fix.
 */
export function resolveOnnxInput(session: InferenceSession, shape: SampleShape, layout: Layout | undefined, file: string): OnnxInput {
  if (session.inputNames.length !== 1) {
    throw new EncoderError('model_mismatch', `the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); an encoder takes one`, { file });
  }
  const meta = session.inputMetadata[0]!;
  if (!meta.isTensor || meta.type !== 'float32') {
    throw new EncoderError('model_mismatch', `input "${meta.name}" is ${meta.isTensor ? meta.type : 'not a tensor'}; an encoder takes float32`, { file });
  }
  const dims = meta.shape;
  const fits = (candidate: Layout): boolean => {
    const expected = inputDims(shape, 0, candidate);
    return dims.length === expected.length && dims.every((d, i) => i === 0 || typeof d !== 'number' || d === expected[i]);
  };
  const candidates: Layout[] = layout !== undefined ? [layout] : ['NCHW', 'NHWC'];
  const chosen = candidates.find(fits);
  if (chosen === undefined) {
    const wanted = shape.kind === 'image' ? candidates.map((c) => `${c} [N, ${inputDims(shape, 0, c).slice(1).join(', ')}]`).join(' or ') : `[N, ${shape.width}]`;
    const fix = shape.kind === 'image' && dims.length === 4 ? ': resize the images to the model\'s size (--resize HxW) or give its layout' : '';
    throw new EncoderError('model_mismatch', `input "${meta.name}" is [${dims.join(', ')}], the data (${shapeText(shape)}) would be ${wanted}${fix}`, { file });
  }
  const batch = dims[0];
  return { name: meta.name, shape, layout: chosen, sampleSize: sampleSize(shape), fixedBatch: typeof batch === 'number' && batch > 0 ? batch : undefined };
}

/** The output that is the embedding: the one named (it must exist), else the only one. */
export function resolveOnnxOutput(session: InferenceSession, name: string | undefined, file: string): string {
  const names = session.outputNames;
  if (name !== undefined) {
    if (!names.includes(name)) throw new EncoderError('model_mismatch', `no output "${name}" (outputs: ${names.join(', ')})`, { file });
    return name;
  }
  if (names.length !== 1) throw new EncoderError('model_mismatch', `the model has outputs ${names.join(', ')}: name the embedding (--embedding-output)`, { file });
  return names[0]!;
}
