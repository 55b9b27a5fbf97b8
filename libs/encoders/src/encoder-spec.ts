import { parseKindSpec } from '@rlsa/sources';
import type { Encoder, EncoderKind } from './encoder.ts';
import { ENCODER_KINDS } from './encoder.ts';
import { openEmbeddingsFolder, type EmbeddingsFolder, type EmbeddingsFolderOptions } from './embeddings/embeddings-folder.ts';
import { EncoderError } from './errors.ts';
import type { OnnxEncoderOptions } from './onnx/onnx-encoder.ts';
import type { TfjsEncoderOptions } from './tfjs/tfjs-encoder.ts';

/** A parsed `--model onnx:FILE | tfjs:DIR/model.json | embeddings:DIR`. */
export interface EncoderSpec {
  readonly kind: EncoderKind;
  readonly location: string;
}

/** Parses an encoder spec (`invalid_argument` for anything else; the node's own model names are not specs). */
export function parseEncoderSpec(text: string): EncoderSpec {
  const spec = parseKindSpec(text, ENCODER_KINDS);
  if (spec === undefined) throw new EncoderError('invalid_argument', `--model must be onnx:FILE.onnx, tfjs:DIR/model.json or embeddings:DIR, got "${text}"`);
  return spec;
}

/** Whether `--model` names a pretrained encoder or embeddings (rather than one of the node's own tfjs models). */
export function isEncoderSpec(text: string): boolean {
  return ENCODER_KINDS.some((kind) => text.startsWith(`${kind}:`));
}

/**
 * Opens an ONNX or tfjs encoder. Each runtime is imported here, when its kind is asked for, so
 * that a process that embeds with one never loads the other (nor either, for embeddings).
 */
export async function openModelEncoder(
  spec: EncoderSpec,
  options: Omit<OnnxEncoderOptions, 'file'> & Omit<TfjsEncoderOptions, 'file'>,
): Promise<Encoder> {
  switch (spec.kind) {
    case 'onnx': {
      const { openOnnxEncoder } = await import('./onnx/onnx-encoder.ts');
      return openOnnxEncoder({ ...options, file: spec.location });
    }
    case 'tfjs': {
      const { openTfjsEncoder } = await import('./tfjs/tfjs-encoder.ts');
      return openTfjsEncoder({ ...options, file: spec.location });
    }
    case 'embeddings':
      throw new EncoderError('invalid_argument', 'an embeddings folder brings its own samples: open it with openEmbeddings');
  }
}

/** Opens `embeddings:DIR` (its samples and the pass-through encoder), loading no ML runtime. */
export function openEmbeddings(spec: EncoderSpec, options: EmbeddingsFolderOptions = {}): EmbeddingsFolder {
  if (spec.kind !== 'embeddings') throw new EncoderError('invalid_argument', `${spec.kind}:${spec.location} is a model, not an embeddings folder`);
  return openEmbeddingsFolder(spec.location, options);
}
