import { loadDataset, type ImageDataset, type LoadOptions } from '@rlsa/data';
import { builtinSource, type BuiltinParts } from './builtin-source.ts';
import { SourceError, sourceErrorFrom } from './errors.ts';
import { openImageFolder, type ImageFolderOptions } from './image-folder/image-folder-source.ts';
import { openNpyFolder, type NpyFolderOptions } from './npy/npy-folder-source.ts';
import type { DataSource } from './sample.ts';


/** The kinds of `--data KIND:WHERE`. */
export const SOURCE_KINDS = ['imagefolder', 'npy', 'builtin'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A parsed `--data`: the kind and the folder (or, for `builtin`, the data set's name). */
export interface SourceSpec {
  readonly kind: SourceKind;
  readonly location: string;
}

/**
 * Splits `KIND:LOCATION` (the location may hold colons) when KIND is one of `kinds` and the
 * location is not empty; undefined otherwise (each flag words its own refusal).
 */
export function parseKindSpec<K extends string>(text: string, kinds: readonly K[]): { kind: K; location: string } | undefined {
  const colon = text.indexOf(':');
  const kind = text.slice(0, Math.max(0, colon));
  const location = text.slice(colon + 1);
  if (colon < 0 || !(kinds as readonly string[]).includes(kind) || location === '') return undefined;
  return { kind: kind as K, location };
}

/** Parses `imagefolder:DIR`, `npy:DIR` or `builtin:NAME` (`invalid_argument` otherwise). */
export function parseSourceSpec(text: string): SourceSpec {
  const spec = parseKindSpec(text, SOURCE_KINDS);
  if (spec === undefined) {
    throw new SourceError('invalid_argument', `--data must be one of ${SOURCE_KINDS.map((k) => `${k}:${k === 'builtin' ? 'NAME' : 'DIR'}`).join(', ')}, got "${text}"`);
  }
  return spec;
}

/** Options of each kind of source; only the one of the spec's kind is read. */
export interface OpenSourceOptions {
  readonly imageFolder?: ImageFolderOptions;
  readonly npy?: NpyFolderOptions;
  readonly builtin?: { readonly load?: LoadOptions; readonly parts?: BuiltinParts };
}

/** Opens the source a spec names. */
export async function openSource(spec: SourceSpec, options: OpenSourceOptions = {}): Promise<DataSource> {
  switch (spec.kind) {
    case 'imagefolder':
      return openImageFolder(spec.location, options.imageFolder);
    case 'npy':
      return openNpyFolder(spec.location, options.npy);
    case 'builtin': {
      let dataset: ImageDataset;
      try {
        dataset = loadDataset(spec.location, options.builtin?.load);
      } catch (error) {
        throw sourceErrorFrom(error, spec.location);
      }
      return builtinSource(dataset, options.builtin?.parts);
    }
  }
}
