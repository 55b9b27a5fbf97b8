import { anchorBatch, anchorCount, type AnchorBatchOptions, type AnchorSet, type SampleBatch } from '@rlsa/sources';
import { EncoderError } from './errors.ts';

/** The kinds of `--model KIND:WHERE` this library opens (the node's own tfjs models are trained elsewhere). */
export const ENCODER_KINDS = ['onnx', 'tfjs', 'embeddings'] as const;
export type EncoderKind = (typeof ENCODER_KINDS)[number];

/** What a node records about the model it used (sent with Join; shown to the run's operator). */
export interface ModelCard {
  /** One line: the kind, the file and its SHA-256 prefix, input, output and width. */
  readonly architecture: string;
  readonly embeddingWidth: number;
  /** The same as fields: kind, file, sha256, input, layout, normalisation, output, runtime. */
  readonly details: Readonly<Record<string, string>>;
}

/** The run's anchors as a node's encoder needs them: how many, and (decoded on demand) the inputs. */
export interface AnchorInputs {
  readonly count: number;
  /** The anchors as one batch of the node's inputs (`anchorBatch` of @rlsa/sources). */
  batch(): Promise<SampleBatch>;
}

/** A run's anchor set as an encoder's anchor inputs: decoded (`anchorBatch`) only if the encoder asks. */
export function anchorInputs(set: AnchorSet, options: AnchorBatchOptions): AnchorInputs {
  return { count: anchorCount(set), batch: () => anchorBatch(set, options) };
}

/**
 * A party's model, reduced to what the node needs: embeddings of its samples and of the run's
 * anchors, rows × width float32, in the given order.
 */
export interface Encoder {
  readonly kind: EncoderKind;
  /** D: the width of an embedding. */
  readonly width: number;
  readonly card: ModelCard;
  /** count × width embeddings of a batch, row i for sample i. */
  embed(batch: SampleBatch): Promise<Float32Array>;
  /** A × width embeddings of the run's anchors, in anchor order. */
  embedAnchors(anchors: AnchorInputs): Promise<Float32Array>;
  /** Frees the runtime's resources; the encoder is unusable afterwards. */
  dispose(): Promise<void>;
}

/** `embedAnchors` of an encoder that runs a model: decode the anchors and embed them like samples. */
export async function embedAnchorInputs(encoder: Pick<Encoder, 'embed'>, anchors: AnchorInputs): Promise<Float32Array> {
  const batch = await anchors.batch();
  if (batch.count !== anchors.count) throw new EncoderError('internal', `${batch.count} anchor inputs for ${anchors.count} anchors`);
  return encoder.embed(batch);
}

/** Refuses (`bad_format`, naming `file`) embeddings holding NaN or ±Inf, with the row. */
export function checkFiniteRows(values: Float32Array, width: number, file: string, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new EncoderError('bad_format', `${what} row ${Math.floor(i / width)} holds ${values[i]}: embeddings must be finite`, { file });
    }
  }
}
