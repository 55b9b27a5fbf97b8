import { DATASET_NAMES, type DatasetName } from '@rlsa/data';
import { isEncoderSpec, parseEncoderSpec, type EncoderSpec } from '@rlsa/encoders';
import { parseSourceSpec } from '@rlsa/sources';
import { TrainerError } from './errors.ts';
import { isModelName, MODEL_NAMES, type ModelName } from './model-specs.ts';

/**
 * What `--model` names: a model the node trains on its data (`trained`), a pretrained encoder
 * it only runs (`pretrained`: onnx: or tfjs:), or embeddings computed elsewhere (`embeddings`:
 * then they are the node's data too, and no model runs at all).
 */
export type ModelChoice =
  | { readonly kind: 'trained'; readonly name: ModelName }
  | { readonly kind: 'pretrained'; readonly spec: EncoderSpec & { readonly kind: 'onnx' | 'tfjs' } }
  | { readonly kind: 'embeddings'; readonly spec: EncoderSpec & { readonly kind: 'embeddings' } };

/**
 * What the node reads: a built-in data set (`--dataset NAME` or `--data builtin:NAME`, today's
 * partitions and ids), a party's own folder (`--data imagefolder:DIR | npy:DIR`), or the
 * embeddings folder `--model embeddings:DIR` names.
 */
export type DataChoice =
  | { readonly kind: 'builtin'; readonly dataset: DatasetName }
  | { readonly kind: 'imagefolder' | 'npy'; readonly dir: string }
  | { readonly kind: 'embeddings'; readonly dir: string };

/** Parses `--model`: one of the node's own models, or an encoder spec (`invalid_argument` otherwise). */
export function modelChoice(text: string): ModelChoice {
  if (isModelName(text)) return { kind: 'trained', name: text };
  if (!isEncoderSpec(text)) {
    throw new TrainerError('invalid_argument', `--model must be one of ${MODEL_NAMES.join(', ')}, or onnx:FILE.onnx, tfjs:DIR/model.json, embeddings:DIR, got "${text}"`);
  }
  const spec = parseEncoderSpec(text);
  return spec.kind === 'embeddings' ? { kind: 'embeddings', spec: { kind: 'embeddings', location: spec.location } } : { kind: 'pretrained', spec: { kind: spec.kind, location: spec.location } };
}

/**
 * The node's data from `--data`, `--dataset` and the model: exactly one source must be named
 * (`--dataset` and `--data builtin:` may both name the same set); an embeddings folder is the
 * data itself, so it takes no `--data`.
 */
export function dataChoice(data: { readonly data?: string | undefined; readonly dataset?: DatasetName | undefined }, model: ModelChoice): DataChoice {
  const spec = data.data === undefined ? undefined : parseSourceSpec(data.data);
  if (model.kind === 'embeddings') {
    if (spec !== undefined || data.dataset !== undefined) {
      throw new TrainerError('invalid_argument', `--model embeddings:${model.spec.location} brings its own samples: give no --data or --dataset`);
    }
    return { kind: 'embeddings', dir: model.spec.location };
  }
  if (spec === undefined) {
    if (data.dataset === undefined) throw new TrainerError('invalid_argument', '--data (imagefolder:DIR, npy:DIR, builtin:NAME) or --dataset is required, unless --model embeddings:DIR');
    return { kind: 'builtin', dataset: data.dataset };
  }
  if (spec.kind !== 'builtin') {
    if (data.dataset !== undefined) throw new TrainerError('invalid_argument', `--data ${data.data} and --dataset ${data.dataset} name two sources: give one`);
    return { kind: spec.kind, dir: spec.location };
  }
  const name = spec.location;
  if (!(DATASET_NAMES as readonly string[]).includes(name)) throw new TrainerError('invalid_argument', `--data builtin:NAME must name one of ${DATASET_NAMES.join(', ')}, got "${name}"`);
  if (data.dataset !== undefined && data.dataset !== name) throw new TrainerError('invalid_argument', `--data builtin:${name} and --dataset ${data.dataset} name two data sets`);
  return { kind: 'builtin', dataset: name as DatasetName };
}
