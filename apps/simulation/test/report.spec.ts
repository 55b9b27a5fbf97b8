import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPaperResults } from '../src/paper-results.ts';
import { paperDifferences, renderReport } from '../src/report.ts';
import { formatSummary, RESULTS_SCHEMA, type SimulationResults } from '../src/results.ts';

function results(overrides: Partial<SimulationResults> = {}): SimulationResults {
  const cka = (linear: number) => ({ linear, linear_debiased: linear - 0.05, n: 500 });
  return {
    schema: RESULTS_SCHEMA,
    created_at: '2026-11-29T09:00:00.000Z',
    preset: null,
    scenario: 'shared-samples',
    dataset: 'cifar100',
    data_dir: null,
    seed: 42,
    partition: { tasks: 2, shared: 80, novel: 10, shared_percent: null, shared_classes: [0, 1], max_samples: null, max_test_samples: null, test_split: 'classes' },
    training: { epochs: 3, batch_size: 128 },
    backend: 'wasm',
    anchors: { count: 256, strategy: 'random', pool_size: 1000, similarity: 'cosine', fingerprint: 'ab'.repeat(32) },
    run_id: 'sim-x',
    nodes: [
      { node_id: 'node-0', role: 'trainer', task: 0, model: 'vanilla-cnn', embedding_width: 128, classes: [0, 1, 2], relative_rows: 900, task_accuracy: 0.41, backend: 'wasm', seconds: 12 },
      { node_id: 'reference', role: 'reference', task: null, model: 'vanilla-cnn', embedding_width: 128, classes: [0, 1, 2, 3], relative_rows: 1500, task_accuracy: 0.38, backend: 'wasm', seconds: 20 },
    ],
    cka: {
      evaluated_on: 'the test samples',
      merged_vs_reference: cka(0.85),
      merged_vs_reference_shared_classes: cka(0.88),
      merged_vs_reference_task_specific_classes: cka(0.8),
      naive_vs_reference: { ...cka(0.3), definition: 'stacked <rows> & more' },
      nodes_vs_reference: [{ node_id: 'node-0', ...cka(0.7) }],
      aggregator_evaluate: [{ subject: 'merged', ...cka(0.84) }],
    },
    spaces: [
      { name: 'merged', description: '', width: 256, train_rows: 1000, test_rows: 500, probe_accuracy: 0.45, probe_epochs: 20, nearest_centroid_accuracy: 0.4, separability: 1.1 },
      { name: 'naive', description: '', width: 128, train_rows: 1000, test_rows: 800, probe_accuracy: 0.35, probe_epochs: 15, nearest_centroid_accuracy: 0.3, separability: 0.8 },
      { name: 'end_to_end', description: '', width: 256, train_rows: 1000, test_rows: 500, probe_accuracy: 0.36, probe_epochs: 22, nearest_centroid_accuracy: 0.33, separability: 0.82 },
      { name: 'end_to_end_absolute', description: '', width: 128, train_rows: 1000, test_rows: 500, probe_accuracy: null, probe_epochs: null, nearest_centroid_accuracy: 0.31, separability: 0.7 },
    ],
    probe: { architecture: 'InstanceNorm1d → Linear', optimizer: 'Adam', batch_size: 128, max_epochs: 100, patience: 10, validation_fraction: 0.1, max_train_rows: null },
    timings_s: { prepare: 1.5, total: 60.25 },
    paper: null,
    paper_note: 'not a paper preset',
    files: {},
    notes: ['a caveat <of the setup>'],
    ...overrides,
  };
}

function paperDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-paper-'));
  const write = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value));
  write('exp_1_cka_analysis.json', { cifar100: { vanilla_cnn: { S80: { N10: { cka_orig_aggr_rel_rel: 0.9, cka_shared: 0.91, cka_non_shared: 0.87 } } } } });
  write('exp_1_classification_results.json', {
    cifar100: { vanilla_cnn: { S80: { N10: { merged: { total_acc: 0.43 }, jumble_abs: { total_acc: 0.36 }, original_rel: { total_acc: 0.35 }, original_abs: { total_acc: 0.37 } } } } },
  });
  write('exp_1_separability_analysis.json', {
    cifar100: { vanilla_cnn: { S80: { N10: { mean_separability_ours: 1.08, mean_separability_naive: 0.79, mean_separability_original: 0.82 } } } },
  });
  write('exp_2_classification_results.json', { cifar100: { from_scratch_cnn: { merged: { total_acc: 0.4 }, jumble: { total_acc: 0.41 } } } });
  write('exp_3_classification_results.json', { cifar100: { from_scratch_cnn: { '1': { merged: { total_acc: 0.49 }, task_embed_abs: { total_acc: 0.52 } }, '2': {} } } });
  return dir;
}

describe('readPaperResults', () => {
  it("maps the paper's keys onto our space names (shared samples, S80/N10)", () => {
    const { comparison, note } = readPaperResults(paperDir(), { scenario: 'shared-samples', dataset: 'cifar100', shared: 80, novel: 10 });
    expect(note).toBeNull();
    expect(comparison).toMatchObject({
      backbone: 'vanilla_cnn',
      key: 'cifar100.vanilla_cnn.S80.N10',
      cka_merged_vs_reference: 0.9,
      cka_shared_classes: 0.91,
      cka_task_specific_classes: 0.87,
      probe_accuracy: { merged: 0.43, naive: 0.36, end_to_end: 0.35, end_to_end_absolute: 0.37 },
      separability: { merged: 1.08, naive: 0.79, end_to_end_absolute: 0.82 },
    });
  });

  it('reads the from_scratch_cnn key of experiments 2 and 3, and the task-embedding baseline', () => {
    const dir = paperDir();
    expect(readPaperResults(dir, { scenario: 'shared-classes', dataset: 'cifar100' }).comparison?.probe_accuracy).toEqual({ merged: 0.4, naive: 0.41 });
    const disjoint = readPaperResults(dir, { scenario: 'disjoint', dataset: 'cifar100' }).comparison;
    expect(disjoint?.probe_accuracy).toEqual({ merged: 0.49, task_embedding: 0.52 });
    expect(disjoint?.cka_merged_vs_reference).toBeNull();
  });

  it('says why there is no paper column', () => {
    expect(readPaperResults('/nonexistent/dir', { scenario: 'disjoint', dataset: 'cifar100' })).toEqual({ comparison: null, note: 'paper results not found at /nonexistent/dir' });
    expect(readPaperResults(paperDir(), { scenario: 'disjoint', dataset: 'fashion-mnist' }).note).toBe('the paper reports no fashion-mnist results');
    expect(readPaperResults(paperDir(), { scenario: 'shared-samples', dataset: 'cifar100', shared: 20, novel: 5 }).comparison).toBeNull();
  });
});

describe('renderReport', () => {
  const views = {
    numClasses: 3,
    pca: [
      { title: 'merged', explained: [0.5, 0.2] as const, points: [{ x: 0, y: 1, label: 0 }, { x: 1, y: 0, label: 1 }, { x: 2, y: 2, label: 2 }] },
      { title: 'naive', explained: [0.4, 0.3] as const, points: [{ x: 0, y: 0, label: 0 }, { x: 1, y: 1, label: 2 }] },
    ],
  };

  it('is self-contained HTML with the tables and one SVG per plot, text escaped', async () => {
    const html = await renderReport(results(), views);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const id of ['table-run', 'table-nodes', 'table-cka', 'table-spaces', 'table-evaluate', 'table-timings']) expect(html).toContain(`<table id="${id}">`);
    for (const id of ['plot-pca', 'plot-cka', 'plot-accuracy', 'plot-separability']) expect(html).toMatch(new RegExp(`<figure id="${id}">[\\s\\S]*?<svg[\\s\\S]*?</svg>`));
    expect(html.match(/<svg /g)?.length).toBe(4);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('stacked &lt;rows&gt; &amp; more');
    expect(html).toContain('<td>0.850</td><td>0.800</td><td>500</td>');
    expect(html).toContain('No paper column: not a paper preset.');
    expect(html).toContain('<li>a caveat &lt;of the setup&gt;</li>');
    expect(html).not.toContain('paper: probe accuracy');
  });

  it("puts the paper's numbers beside ours and says where the ordering differs", async () => {
    const paper = readPaperResults(paperDir(), { scenario: 'shared-samples', dataset: 'cifar100', shared: 80, novel: 10 }).comparison;
    const r = results({ paper, paper_note: null });
    const html = await renderReport(r, views);
    expect(html).toContain('paper: probe accuracy');
    expect(html).toContain('<td>merged (RLSA)</td><td>256</td><td>1000 / 500</td><td>0.450</td><td>0.430</td>');
    // CKA 0.85 vs the paper's 0.90: within 0.1.
    expect(paperDifferences(r)).toEqual([
      "CKA(merged, reference) is within 0.1 of the paper's (0.850 vs 0.900).",
      "Ordering by probe accuracy differs from the paper's: ours merged (RLSA) > end-to-end (relative) > naive (jumble); the paper's merged (RLSA) > naive (jumble) > end-to-end (relative).",
      // Two standard errors of a difference of accuracies 0.36 and 0.35: 2·√((0.36·0.64 + 0.35·0.65)/n), n = 500 ours, 1,500 the paper's.
      'end-to-end (relative) vs naive (jumble): our gap 0.010 is within two standard errors (0.061, 500 test samples); the paper\'s 0.010 is within them (0.035, 1500 test samples).',
      // The paper's "original" separability is the end-to-end absolute space's: 0.82 there, 0.70 here.
      "Ordering by separability differs from the paper's: ours merged (RLSA) > naive (jumble) > end-to-end (absolute); the paper's merged (RLSA) > end-to-end (absolute) > naive (jumble).",
    ]);
    expect(formatSummary(r)).toMatch(/merged vs reference\s+0\.850\s+0\.800\s+500\s+0\.900/);
  });
});
