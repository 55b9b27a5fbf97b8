import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PAPER_RESULTS_DIR, readPaperResults } from '../src/paper-results.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The paper's raw file, parsed independently of readPaperResults. */
function raw(file: string): Record<string, Record<string, Record<string, unknown>>> {
  return JSON.parse(readFileSync(join(PAPER_RESULTS_DIR, file), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
}

function totalAcc(entry: unknown): number {
  return (entry as { total_acc: number }).total_acc;
}

describe("the paper's published results shipped in the repository", () => {
  it('live inside the repository', () => {
    const inside = relative(REPO_ROOT, PAPER_RESULTS_DIR);
    expect(isAbsolute(inside)).toBe(false);
    expect(inside.startsWith('..')).toBe(false);
    expect(inside).toBe(join('apps', 'simulation', 'paper-results'));
  });

  it('are the nine files of SHA256SUMS, each unchanged', () => {
    const sums = readFileSync(join(PAPER_RESULTS_DIR, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => /^([0-9a-f]{64}) {2}(\S+)$/.exec(line));
    expect(sums.every((m) => m !== null)).toBe(true);
    const listed = sums.map((m) => m![2]!);
    expect(listed).toHaveLength(9);
    expect(readdirSync(PAPER_RESULTS_DIR).filter((name) => name.endsWith('.json')).sort()).toEqual([...listed].sort());
    for (const m of sums) {
      expect(createHash('sha256').update(readFileSync(join(PAPER_RESULTS_DIR, m![2]!))).digest('hex'), m![2]).toBe(m![1]);
    }
  });

  it('carry their attribution: the paper, the source repository and its license', () => {
    const readme = readFileSync(join(PAPER_RESULTS_DIR, 'README.md'), 'utf8');
    expect(readme).toContain('From Charts to Atlas: Merging Latent Spaces into One');
    expect(readme).toContain('https://github.com/crisostomi/latent-aggregation');
    expect(readme).toContain('MIT');
  });

  it("are read by default for every experiment of the CIFAR-100 preset, with the paper's own values", () => {
    const cka = raw('exp_1_cka_analysis.json')['cifar100']!['vanilla_cnn']!['S80'] as Record<string, Record<string, number>>;
    const samples = readPaperResults(PAPER_RESULTS_DIR, { scenario: 'shared-samples', dataset: 'cifar100', shared: 80, novel: 10 });
    expect(samples.note).toBeNull();
    expect(samples.comparison?.cka_merged_vs_reference).toBe(cka['N10']!['cka_orig_aggr_rel_rel']);
    expect(samples.comparison?.cka_shared_classes).toBe(cka['N10']!['cka_shared']);
    expect(samples.comparison?.cka_task_specific_classes).toBe(cka['N10']!['cka_non_shared']);

    const classes = raw('exp_2_classification_results.json')['cifar100']!['from_scratch_cnn']!;
    const sharedClasses = readPaperResults(PAPER_RESULTS_DIR, { scenario: 'shared-classes', dataset: 'cifar100' }).comparison;
    expect(sharedClasses?.probe_accuracy).toEqual({
      merged: totalAcc(classes['merged']),
      naive: totalAcc(classes['jumble']),
      end_to_end: totalAcc(classes['original_rel']),
      end_to_end_absolute: totalAcc(classes['original_abs']),
    });

    const disjoint = raw('exp_3_classification_results.json')['cifar100']!['from_scratch_cnn']!['1'] as Record<string, unknown>;
    const separability = raw('exp_3_separability_analysis.json')['cifar100']!['from_scratch_cnn']!['1'] as Record<string, number>;
    const comparison = readPaperResults(PAPER_RESULTS_DIR, { scenario: 'disjoint', dataset: 'cifar100' }).comparison;
    expect(comparison?.probe_accuracy['task_embedding']).toBe(totalAcc(disjoint['task_embed_abs']));
    expect(comparison?.separability).toEqual({
      merged: separability['mean_separability_ours'],
      naive: separability['mean_separability_naive'],
      end_to_end_absolute: separability['mean_separability_original'],
    });
  });
});
