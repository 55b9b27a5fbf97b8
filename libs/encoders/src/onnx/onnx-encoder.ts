import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sameShape, shapeText, type Normalization, type SampleBatch, type SampleShape } from '@rlsa/sources';
import * as ort from 'onnxruntime-node';
import { checkFiniteRows, embedAnchorInputs, type Encoder, type ModelCard } from '../encoder.ts';
import { EncoderError } from '../errors.ts';
import { inputDims, metadataNormalization, METADATA_KEYS, modelInput, parseLayout, type Layout } from '../preprocessing.ts';
import { onnxMetadata } from './onnx-metadata.ts';
import { resolveOnnxInput, resolveOnnxOutput, type OnnxInput } from './onnx-signature.ts';

export interface OnnxEncoderOptions {
  /** The `.onnx` file. */
  readonly file: string;
  /** The shape of the samples it will embed (the source's). */
  readonly input: SampleShape;
  /** NCHW or NHWC; default: the model's `rlsa.layout`, else what its input dims allow (NCHW when both do). */
  readonly layout?: Layout;
  /** Input statistics; default: the model's `rlsa.mean`/`rlsa.std`, else none (bytes scaled to [0, 1] only). */
  readonly normalization?: Normalization;
  /** The output that is the embedding; default: the model's `rlsa.embedding_output`, else its only output. */
  readonly embeddingOutput?: string;
  /** Threads of ONNX Runtime's intra-op pool (default 1). */
  readonly threads?: number;
  /** Samples per run (default 32; a model with a fixed batch dimension runs that many). */
  readonly batchSize?: number;
}

/**
 * A pretrained encoder run by ONNX Runtime (no training). At open, the model's single float32
 * input is matched against the data (layout, channels, height, width; `model_mismatch` with both
 * shapes and the fix otherwise), its embedding output is chosen, and one zero sample is run to
 * learn the width D and prove the model runs on this input. Embeddings are N×D float32 (outputs
 * of shape [N, D, 1, 1] are flattened); non-finite outputs are refused naming the model.
 */
export async function openOnnxEncoder(options: OnnxEncoderOptions): Promise<Encoder> {
  const { file } = options;
  const bytes = await readModel(file);
  const metadata = onnxMetadata(bytes, file);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new EncoderError('invalid_argument', `threads must be a positive integer, got ${threads}`, { file });
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new EncoderError('bad_format', `ONNX Runtime cannot load the model (${firstLine(error)})`, { file, cause: error });
  }
  try {
    const layoutText = metadata.get(METADATA_KEYS.layout);
    const input = resolveOnnxInput(session, options.input, options.layout ?? (layoutText === undefined ? undefined : parseLayout(layoutText, file)), file);
    const outputName = resolveOnnxOutput(session, options.embeddingOutput ?? metadata.get(METADATA_KEYS.embeddingOutput), file);
    const normalization = options.normalization ?? metadataNormalization(metadata, file);
    const runner = new OnnxRunner(session, input, outputName, normalization, options.batchSize ?? 32, file);
    const width = await runner.probeWidth();
    const card = onnxCard(file, bytes, input, outputName, normalization, width, threads);
    return {
      kind: 'onnx',
      width,
      card,
      embed: (batch) => runner.embed(batch, width),
      embedAnchors: (anchors) => embedAnchorInputs({ embed: (batch) => runner.embed(batch, width) }, anchors),
      dispose: () => session.release(),
    };
  } catch (error) {
    await session.release();
    throw error;
  }
}

/** Runs a session on batches: preprocessing, fixed or free batch sizes, output checks. */
class OnnxRunner {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly input: OnnxInput,
    private readonly outputName: string,
    private readonly normalization: Normalization | undefined,
    private readonly batchSize: number,
    private readonly file: string,
  ) {}

  /** D, from one zero sample's output (`model_mismatch` when the model cannot run on this input). */
  async probeWidth(): Promise<number> {
    const rows = this.input.fixedBatch ?? 1;
    const output = await this.run(new Float32Array(rows * this.input.sampleSize), rows);
    return output.data.length / rows;
  }

  async embed(batch: SampleBatch, width: number): Promise<Float32Array> {
    if (!sameShape(batch.shape, this.input.shape)) {
      throw new EncoderError('model_mismatch', `the model was opened for ${shapeText(this.input.shape)} samples, got ${shapeText(batch.shape)}`, { file: this.file });
    }
    const x = modelInput(batch, this.normalization, this.input.layout);
    const out = new Float32Array(batch.count * width);
    const step = this.input.fixedBatch ?? this.batchSize;
    const size = this.input.sampleSize;
    for (let start = 0; start < batch.count; start += step) {
      const rows = Math.min(step, batch.count - start);
      // A fixed batch dimension gets zero rows after the last sample; their outputs are dropped.
      const feed = this.input.fixedBatch === undefined ? x.subarray(start * size, (start + rows) * size) : padded(x.subarray(start * size, (start + rows) * size), step * size);
      const output = await this.run(feed, this.input.fixedBatch ?? rows);
      out.set(output.data.subarray(0, rows * width), start * width);
    }
    checkFiniteRows(out, width, this.file, 'an output');
    return out;
  }

  private async run(data: Float32Array, rows: number): Promise<{ data: Float32Array }> {
    const tensor = new ort.Tensor('float32', data, inputDims(this.input.shape, rows, this.input.layout));
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run({ [this.input.name]: tensor }, [this.outputName]);
    } catch (error) {
      throw new EncoderError('model_mismatch', `the model does not run on ${shapeText(this.input.shape)} samples as ${this.input.layout} (${firstLine(error)})`, { file: this.file, cause: error });
    }
    const output = result[this.outputName] as ort.Tensor;
    const dims = output.dims;
    const flat = dims.length === 2 || (dims.length === 4 && dims[2] === 1 && dims[3] === 1);
    if (!(output.data instanceof Float32Array) || dims[0] !== rows || !flat) {
      throw new EncoderError('model_mismatch', `output "${this.outputName}" is ${output.type} [${dims.join(', ')}]; an embedding must be float32 [N, D] (or [N, D, 1, 1])`, {
        file: this.file,
      });
    }
    return { data: output.data };
  }
}

function padded(values: Float32Array, length: number): Float32Array {
  if (values.length === length) return values;
  const out = new Float32Array(length);
  out.set(values);
  return out;
}

async function readModel(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new EncoderError(code === 'ENOENT' ? 'not_found' : 'bad_format', code === 'ENOENT' ? 'no such model file' : `cannot read the model (${String(code)})`, { file, cause: error });
  }
}

function onnxCard(file: string, bytes: Uint8Array, input: OnnxInput, output: string, normalization: Normalization | undefined, width: number, threads: number): ModelCard {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const inputText = input.shape.kind === 'image' ? `${shapeText(input.shape)} ${input.layout}` : shapeText(input.shape);
  const normalizationText = normalization === undefined ? 'x/255' : `mean ${normalization.mean.join(',')} std ${normalization.std.join(',')}`;
  return {
    architecture: `onnx ${path.basename(file)} (sha256 ${sha256.slice(0, 12)}), input ${inputText}, output "${output}" ${width}`,
    embeddingWidth: width,
    details: {
      kind: 'onnx',
      file: path.basename(file),
      sha256,
      input: inputText,
      normalization: normalizationText,
      output,
      runtime: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}, ${threads} thread(s)`,
    },
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
