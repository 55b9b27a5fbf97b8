import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DEFAULTS } from '../src/options.ts';
import type { SimulateOptions } from '../src/simulate.ts';
import { seedsSummary, settingsForValue, studyHtml, studyTable, type StudyRow } from '../src/study.ts';

const base: SimulateOptions = { ...DEFAULTS, output: { out: '/tmp/x' }, processes: { cliEntry: '/x', logger: pino({ level: 'silent' }), progress: false } };

const row = (value: string, cka: number | null, error: string | null = null): StudyRow => ({
  value,
  out: `/runs/${value}`,
  error,
  cka_linear: cka,
  cka_debiased: cka === null ? null : cka - 0.02,
  naive_cka_linear: cka === null ? null : 0.2,
  probe_merged: cka === null ? null : 0.8,
  probe_naive: null,
  probe_end_to_end: cka === null ? null : 0.85,
  centroid_merged: 0.7,
  separability_merged: 1.2,
  seconds: 50,
  probe: cka === null ? {} : { merged: 0.8, end_to_end: 0.85 },
  separability: cka === null ? {} : { merged: 1.2 },
});

describe('settingsForValue', () => {
  it('reads strategy:count for anchors, a count for nodes, models joined by + for architectures', () => {
    expect(settingsForValue('anchors', 'fps:128', base)).toEqual({ anchors: { strategy: 'fps', count: 128 } });
    expect(settingsForValue('anchors', '64', base)).toEqual({ anchors: { strategy: 'random', count: 64 } });
    expect(settingsForValue('nodes', '5', base)).toEqual({ partition: { nodes: 5 } });
    expect(settingsForValue('architectures', 'mlp+vanilla-cnn', base)).toEqual({ training: { models: ['mlp', 'vanilla-cnn'] }, partition: { nodes: 2 } });
    expect(settingsForValue('seeds', '7', base)).toEqual({ partition: { seed: 7 } });
  });

  it('refuses malformed values with a user-facing error', () => {
    for (const [kind, value] of [['anchors', 'best:12'], ['anchors', 'fps:0'], ['nodes', '1'], ['nodes', 'x'], ['architectures', '+'], ['seeds', '-1'], ['seeds', '1.5']] as const) {
      expect(() => settingsForValue(kind, value, base)).toThrow(/bad value/);
    }
    try {
      settingsForValue('nodes', '1', base);
    } catch (e) {
      expect((e as { userFacing?: boolean }).userFacing).toBe(true);
    }
  });
});

describe('study output', () => {
  const rows = [row('2', 0.81), row('3', 0.76), row('5', null, 'node-3 failed')];

  it('tabulates each swept value, failures included', () => {
    const table = studyTable('nodes', rows);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^nodes\s+CKA\s+CKA debiased/);
    expect(lines[2]).toMatch(/^2\s+0\.810\s+0\.790\s+0\.200\s+0\.800\s+–\s+0\.850\s+0\.700\s+50\.0$/);
    expect(lines[4]).toMatch(/^5\s+failed: node-3 failed/);
  });

  it('draws CKA and accuracy against the swept value as SVG', async () => {
    const html = await studyHtml('nodes', base, rows);
    expect(html).toContain('<table id="table-study">');
    expect(html).toMatch(/<figure id="plot-study-cka"><svg[\s\S]*?<\/svg><\/figure>/);
    expect(html).toMatch(/<figure id="plot-study-accuracy"><svg[\s\S]*?<\/svg><\/figure>/);
    // Three line series in the CKA plot: merged (linear and debiased) and naive.
    expect(html).toContain('merged, debiased');
  });
});

describe('seeds study summary', () => {
  const seedRow = (seed: string, merged: number, naive: number, error: string | null = null): StudyRow => ({
    ...row(seed, error ? null : 0.8 + merged / 10, error),
    probe: error ? {} : { merged, naive },
    separability: error ? {} : { merged: 1 + merged, naive: 0.5 },
  });
  const paper = { probe_accuracy: { merged: 0.4, naive: 0.41 }, separability: { merged: 1.07, naive: 0.73 }, key: 'cifar100.from_scratch_cnn' };

  it('summarises the finished seeds only, with the paired gaps of the pairs the paper orders', () => {
    const rows = [seedRow('1', 0.3, 0.32), seedRow('2', 0.31, 0.331), seedRow('3', 0, 0, 'node-1 failed'), seedRow('4', 0.29, 0.309)];
    const summary = seedsSummary(rows, paper)!;
    expect(summary.seeds).toEqual(['1', '2', '4']);
    expect(summary.cka_linear.mean).toBeCloseTo(0.8 + 0.03, 12);
    expect(summary.probe_accuracy.spaces['merged']!.mean).toBeCloseTo(0.3, 12);
    // naive − merged per seed: 0.020, 0.021, 0.019 (mean 0.02, sd 0.001); t(0.975, 2) = 4.302652729749462 (SciPy).
    const gap = summary.probe_accuracy.pairs[0]!;
    expect([gap.higher, gap.lower, gap.verdict]).toEqual(['naive', 'merged', 'paper']);
    expect(gap.gap.low).toBeCloseTo(0.02 - (4.302652729749462 * 0.001) / Math.sqrt(3), 12);
    expect(summary.lines[0]).toBe("3 of 4 seeds finished; means with 95 % t intervals; the paper's numbers from cifar100.from_scratch_cnn.");
    expect(summary.lines).toContain("Mean probe accuracy over 3 seeds is in the paper's order: naive (jumble) > merged (RLSA).");
  });

  it('is null when no seed finished, and the page shows the summary table when there is one', async () => {
    expect(seedsSummary([seedRow('1', 0, 0, 'boom')], paper)).toBeNull();
    const rows = [seedRow('1', 0.3, 0.32), seedRow('2', 0.31, 0.34)];
    const html = await studyHtml('seeds', base, rows, seedsSummary(rows, paper));
    expect(html).toContain('<table id="table-seeds">');
    expect(html).toContain('<ul id="seeds-summary">');
    expect(html).toMatch(/<figure id="plot-seeds-probe-accuracy"><svg[\s\S]*?<\/svg><\/figure>/);
    expect(html).toMatch(/<figure id="plot-seeds-separability"><svg[\s\S]*?<\/svg><\/figure>/);
    expect(studyTable('seeds', rows).split('\n')[0]).toMatch(/^seed\s+CKA/);
  });
});
