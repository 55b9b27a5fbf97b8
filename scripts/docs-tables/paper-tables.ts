import { readPaperResults, SPACE_LABELS, type PaperComparison } from '@rlsa/simulation';
import { existsSync } from 'node:fs';
import { DocsTableError } from './docs-table-error.ts';
import { fixed, markdownTable } from './markdown-table.ts';

/** The paper's three CIFAR-100 experiments in the order of its tables (shared samples with S = 80, N = 10). */
const EXPERIMENTS = [
  { scenario: 'shared-samples', label: 'shared samples (S = 80, N = 10)', shared: 80, novel: 10 },
  { scenario: 'shared-classes', label: 'shared classes' },
  { scenario: 'disjoint', label: 'disjoint' },
] as const;

const CKA_ROWS = [
  ['CKA(merged, reference)', 'cka_merged_vs_reference'],
  ['CKA on shared classes', 'cka_shared_classes'],
  ['CKA on task-specific classes', 'cka_task_specific_classes'],
] as const;

/**
 * The paper's published CIFAR-100 VanillaCNN numbers as `readPaperResults` maps them onto our
 * spaces: one column per experiment, rows for CKA, then probe accuracy and separability per space.
 */
export function paperPublished(dir: string): string {
  if (!existsSync(dir)) throw new DocsTableError('bad_source', `${dir}: no such directory`);
  const comparisons = EXPERIMENTS.map((experiment): PaperComparison => {
    const { comparison, note } = readPaperResults(dir, { dataset: 'cifar100', ...experiment });
    if (comparison === null) throw new DocsTableError('bad_source', `${dir}: ${note ?? `no ${experiment.scenario} results`}`);
    return comparison;
  });
  const rows: string[][] = CKA_ROWS.map(([label, key]) => [label, ...comparisons.map((c) => fixed(c[key]))]);
  for (const [metric, pick] of [
    ['probe accuracy', (c: PaperComparison) => c.probe_accuracy],
    ['separability', (c: PaperComparison) => c.separability],
  ] as const) {
    for (const [space, label] of Object.entries(SPACE_LABELS)) {
      if (comparisons.every((c) => pick(c)[space] === undefined)) continue;
      rows.push([`${metric}: ${label}`, ...comparisons.map((c) => fixed(pick(c)[space]))]);
    }
  }
  return markdownTable(['', ...EXPERIMENTS.map((e) => e.label)], rows, [1, 2, 3]);
}
