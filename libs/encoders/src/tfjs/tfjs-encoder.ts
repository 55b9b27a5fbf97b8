import path from 'node:path';
import { sameShape, shapeText, type Normalization, type SampleBatch, type SampleShape } from '@rlsa/sources';
import { initTfjsBackend, type BackendPreference } from '@rlsa/tfjs-kernels';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkFiniteRows, embedAnchorInputs, type Encoder, type ModelCard } from '../encoder.ts';
import { EncoderError } from '../errors.ts';
import { metadataNormalization, METADATA_KEYS, modelInput } from '../preprocessing.ts';
import { fileLoadHandler } from './tfjs-file-handler.ts';

/** The layer the node's own tfjs models call their embedding (`EMBEDDING_LAYER` of the trainer node). */
export const DEFAULT_EMBEDDING_LAYER = 'embedding';

export interface TfjsEncoderOptions {
  /** The saved model's `model.json` (weights beside it, as `LayersModel.save` writes them). */
  readonly file: string;
  /** The shape of the samples it will embed (the source's); the model takes them NHWC. */
  readonly input: SampleShape;
  /** The layer whose output is the embedding; default: the model's `rlsa.embedding_output`, else `embedding`. */
  readonly embeddingLayer?: string;
  /** Input statistics; default: the model's `rlsa.mean`/`rlsa.std`, else none (bytes scaled to [0, 1] only). */
  readonly normalization?: Normalization;
  /** The tfjs backend (default `auto`: the process's one backend, chosen once). */
  readonly backend?: BackendPreference;
  /** Samples per predict call (default 64). */
  readonly batchSize?: number;
}

/**
 * A saved tfjs layers model cut at a named layer: embeddings are that layer's output for
 * normalised NHWC input (see `layersModelEncoder`). The embedding layer and the statistics come
 * from the options, else from the model's `userDefinedMetadata` (`rlsa.embedding_output`,
 * `rlsa.mean`, `rlsa.std`), else `embedding` and none.
 */
export async function openTfjsEncoder(options: TfjsEncoderOptions): Promise<Encoder> {
  const { file } = options;
  const backend = await initTfjsBackend(options.backend ?? 'auto');
  const handler = fileLoadHandler(tf, file);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler, { strict: true });
  } catch (error) {
    if (error instanceof EncoderError) throw error;
    throw new EncoderError('bad_format', `tfjs cannot load the model (${error instanceof Error ? error.message : String(error)})`, { file, cause: error });
  }
  const metadata = new Map(Object.entries((model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const normalization = options.normalization ?? metadataNormalization(metadata, file);
  return layersModelEncoder(model, {
    input: options.input,
    embeddingLayer: options.embeddingLayer ?? metadata.get(METADATA_KEYS.embeddingOutput) ?? DEFAULT_EMBEDDING_LAYER,
    ...(normalization === undefined ? {} : { normalization }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    name: `${path.basename(path.dirname(file))}/${path.basename(file)}`,
    file,
    sha256: handler.sha256(),
    backend: backend.backend,
  });
}

export interface LayersModelEncoderOptions {
  /** The shape of the samples it will embed; the model takes them NHWC. */
  readonly input: SampleShape;
  /** The layer whose output is the embedding. */
  readonly embeddingLayer: string;
  /** Input statistics (none: bytes scaled to [0, 1] only). */
  readonly normalization?: Normalization;
  /** Samples per predict call (default 64). */
  readonly batchSize?: number;
  /** What the model is, for the card (a file name, or e.g. `vanilla-cnn trained on this node`): no path. */
  readonly name: string;
  /** Where the model came from, for error messages (default `name`). */
  readonly file?: string;
  /** SHA-256 of the model's files, when it has some. */
  readonly sha256?: string;
  /** The tfjs backend in use, for the card. */
  readonly backend: string;
}

/**
 * A tfjs layers model in memory (loaded, or trained by the node) as an Encoder: the input shape
 * must fit the data and the layer's output must be [N, D] (`model_mismatch` otherwise, naming
 * the model and its layers). `dispose` disposes the model.
 */
export function layersModelEncoder(model: tfl.LayersModel, options: LayersModelEncoderOptions): Encoder {
  const { input, normalization } = options;
  const file = options.file ?? options.name;
  const embedding = embeddingModel(model, options.embeddingLayer, input, file);
  const width = embedding.outputs[0]!.shape[1] as number;
  const batchSize = options.batchSize ?? 64;
  const embed = async (batch: SampleBatch): Promise<Float32Array> => {
    if (!sameShape(batch.shape, input)) {
      throw new EncoderError('model_mismatch', `the model was opened for ${shapeText(input)} samples, got ${shapeText(batch.shape)}`, { file });
    }
    const x = modelInput(batch, normalization, 'NHWC');
    const size = x.length / Math.max(1, batch.count);
    const out = new Float32Array(batch.count * width);
    for (let start = 0; start < batch.count; start += batchSize) {
      const rows = Math.min(batchSize, batch.count - start);
      const y = tf.tidy(() => embedding.predict(tf.tensor(x.subarray(start * size, (start + rows) * size), [rows, ...inputShape(input)])) as tf.Tensor);
      out.set(await y.data<'float32'>(), start * width);
      y.dispose();
    }
    checkFiniteRows(out, width, file, 'an output');
    return out;
  };
  const dispose = async (): Promise<void> => {
    model.dispose();
  };
  return { kind: 'tfjs', width, card: tfjsCard(options, width), embed, embedAnchors: (anchors) => embedAnchorInputs({ embed }, anchors), dispose };
}

/** The model from the input to `layerName`, after checking the input fits the data and the layer is [N, D]. */
function embeddingModel(model: tfl.LayersModel, layerName: string, input: SampleShape, file: string): tfl.LayersModel {
  const modelShape = model.inputs[0]!.shape.slice(1);
  const dataShape = inputShape(input);
  if (model.inputs.length !== 1 || modelShape.length !== dataShape.length || modelShape.some((d, i) => d !== null && d !== dataShape[i])) {
    throw new EncoderError('model_mismatch', `the model's input is [${modelShape.join(', ')}] (NHWC), the data is ${shapeText(input)}: resize the images (--resize HxW)`, { file });
  }
  let layer: tfl.layers.Layer;
  try {
    layer = model.getLayer(layerName);
  } catch (error) {
    const names = model.layers.map((l) => l.name).join(', ');
    throw new EncoderError('model_mismatch', `no layer "${layerName}" (layers: ${names}): name the embedding layer`, { file, cause: error });
  }
  const output = layer.output as tfl.SymbolicTensor;
  if (output.shape.length !== 2 || typeof output.shape[1] !== 'number') {
    throw new EncoderError('model_mismatch', `layer "${layerName}" outputs [${output.shape.join(', ')}]; an embedding must be [N, D]`, { file });
  }
  return tfl.model({ inputs: model.inputs, outputs: output });
}

function inputShape(shape: SampleShape): number[] {
  return shape.kind === 'image' ? [shape.height, shape.width, shape.channels] : [shape.width];
}

function tfjsCard(options: LayersModelEncoderOptions, width: number): ModelCard {
  const { input, normalization, sha256 } = options;
  return {
    architecture: `tfjs ${options.name}${sha256 === undefined ? '' : ` (sha256 ${sha256.slice(0, 12)})`}, input ${shapeText(input)} NHWC, layer "${options.embeddingLayer}" ${width}`,
    embeddingWidth: width,
    details: {
      kind: 'tfjs',
      file: options.name,
      ...(sha256 === undefined ? {} : { sha256 }),
      input: `${shapeText(input)} NHWC`,
      normalization: normalization === undefined ? 'x/255' : `mean ${normalization.mean.join(',')} std ${normalization.std.join(',')}`,
      output: options.embeddingLayer,
      runtime: `tfjs ${tf.version_core}, ${options.backend} backend`,
    },
  };
}
