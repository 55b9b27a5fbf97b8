import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PaperComparison } from './results.ts';

/** Our space names for the paper's classification keys. */
const CLASSIFICATION_NAMES: Readonly<Record<string, string>> = {
  merged: 'merged',
  jumble: 'naive',
  jumble_abs: 'naive',
  original_rel: 'end_to_end',
  original_abs: 'end_to_end_absolute',
  task_embed_abs: 'task_embedding',
};

/** Our space names for the paper's separability keys. */
const SEPARABILITY_NAMES: Readonly<Record<string, string>> = {
  mean_separability_ours: 'merged',
  mean_separability_naive: 'naive',
  mean_separability_original: 'end_to_end_absolute',
};

/** The paper's key for the VanillaCNN: `vanilla_cnn` in the experiment-1 files, `from_scratch_cnn` in the others. */
const BACKBONES = ['vanilla_cnn', 'from_scratch_cnn'] as const;

/** The value at `keys` in a parsed JSON tree, or undefined. */
function at(tree: unknown, keys: readonly string[]): unknown {
  let node = tree;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The first non-empty entry at `<dataset>.<backbone>.<tail>` over the backbones, with the backbone found. */
function firstAt(tree: unknown, datasetKey: string, tail: readonly string[]): { value: unknown; backbone: string } | undefined {
  for (const backbone of BACKBONES) {
    const value = at(tree, [datasetKey, backbone, ...tail]);
    if (value !== undefined && value !== null && !(typeof value === 'object' && Object.keys(value).length === 0)) return { value, backbone };
  }
  return undefined;
}

/** An entry's numbers under our names (`inner`: the number is a field of each value). */
function rename(entry: unknown, names: Readonly<Record<string, string>>, inner: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (entry === null || typeof entry !== 'object') return out;
  for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
    const ours = names[key];
    const v = inner === null ? value : at(value, [inner]);
    if (ours && typeof v === 'number') out[ours] = v;
  }
  return out;
}

const numberAt = (tree: unknown, keys: readonly string[]): number | null => {
  const v = at(tree, keys);
  return typeof v === 'number' ? v : null;
};

/** The paper's file prefix of an experiment and the key path of its setting. */
function experimentKeys(query: { scenario: PaperComparison['experiment']; shared?: number; novel?: number }): { prefix: string; tail: string[] } {
  if (query.scenario === 'shared-samples') return { prefix: 'exp_1', tail: [`S${query.shared ?? 80}`, `N${query.novel ?? 10}`] };
  if (query.scenario === 'shared-classes') return { prefix: 'exp_2', tail: [] };
  return { prefix: 'exp_3', tail: ['1'] };
}

/**
 * The paper's published results as shipped in this repository (`apps/simulation/paper-results`,
 * copied unchanged from crisostomi/latent-aggregation with their attribution): the default
 * directory of `rlsa simulate --paper-results`.
 */
export const PAPER_RESULTS_DIR = fileURLToPath(new URL('../paper-results', import.meta.url));

/**
 * Reads the numbers the paper published (crisostomi/latent-aggregation, `paper_results/`) for one
 * experiment, and names them after our spaces so that the report can show them beside ours.
 *
 * Mapping (see the README in the results directory):
 * - classification `merged` → merged, `jumble`/`jumble_abs` → naive, `original_rel` → end_to_end,
 *   `original_abs` → end_to_end_absolute, `task_embed_abs` → task_embedding (disjoint only);
 * - separability `mean_separability_ours` → merged, `_naive` → naive, `_original` → end_to_end_absolute
 *   (the paper's analysis scripts compute the "original" separability on the end-to-end model's
 *   absolute embeddings, `original_dataset["embedding"]`, and the merged one on relative embeddings);
 * - CKA (shared samples only) `cka_orig_aggr_rel_rel`, `cka_shared`, `cka_non_shared`.
 *
 * The paper's VanillaCNN is keyed `vanilla_cnn` in the experiment-1 files and `from_scratch_cnn` in
 * the others; both are tried. Returns null (with the reason) when the directory or the entry is missing.
 */
export function readPaperResults(
  dir: string,
  query: { scenario: PaperComparison['experiment']; dataset: string; shared?: number; novel?: number },
): { comparison: PaperComparison | null; note: string | null } {
  if (!existsSync(dir)) return { comparison: null, note: `paper results not found at ${dir}` };
  const datasetKey = ({ cifar100: 'cifar100', 'tiny-imagenet': 'tiny_imagenet' } as Record<string, string>)[query.dataset];
  if (!datasetKey) return { comparison: null, note: `the paper reports no ${query.dataset} results` };
  const load = (file: string): unknown => {
    const path = join(dir, file);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : undefined;
  };
  const { prefix, tail } = experimentKeys(query);
  const classification = firstAt(load(`${prefix}_classification_results.json`), datasetKey, tail);
  const separability = firstAt(load(`${prefix}_separability_analysis.json`), datasetKey, tail);
  const cka = prefix === 'exp_1' ? firstAt(load('exp_1_cka_analysis.json'), datasetKey, tail) : undefined;
  if (!classification && !separability && !cka) {
    return { comparison: null, note: `the paper reports no ${query.scenario} VanillaCNN results for ${query.dataset} ${tail.join(' ')}`.trim() };
  }
  const backbone = (classification ?? separability ?? cka)!.backbone;
  return {
    comparison: {
      source: `${dir} (${prefix}_*.json)`,
      experiment: query.scenario,
      backbone,
      key: [datasetKey, backbone, ...tail].join('.'),
      cka_merged_vs_reference: cka ? numberAt(cka.value, ['cka_orig_aggr_rel_rel']) : null,
      cka_shared_classes: cka ? numberAt(cka.value, ['cka_shared']) : null,
      cka_task_specific_classes: cka ? numberAt(cka.value, ['cka_non_shared']) : null,
      probe_accuracy: classification ? rename(classification.value, CLASSIFICATION_NAMES, 'total_acc') : {},
      separability: separability ? rename(separability.value, SEPARABILITY_NAMES, null) : {},
    },
    note: null,
  };
}
