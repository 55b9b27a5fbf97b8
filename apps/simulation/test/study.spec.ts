import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DEFAULTS } from '../src/presets.ts';
import type { SimulateOptions } from '../src/simulate.ts';
import { settingsForValue, studyHtml, studyTable, type StudyRow } from '../src/study.ts';

const base: SimulateOptions = { ...DEFAULTS, out: '/tmp/x', cliEntry: '/x', logger: pino({ level: 'silent' }), progress: false };

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
});

describe('settingsForValue', () => {
  it('reads strategy:count for anchors, a count for nodes, models joined by + for architectures', () => {
    expect(settingsForValue('anchors', 'fps:128', base)).toEqual({ anchorStrategy: 'fps', anchors: 128 });
    expect(settingsForValue('anchors', '64', base)).toEqual({ anchorStrategy: 'random', anchors: 64 });
    expect(settingsForValue('nodes', '5', base)).toEqual({ nodes: 5 });
    expect(settingsForValue('architectures', 'mlp+vanilla-cnn', base)).toEqual({ models: ['mlp', 'vanilla-cnn'], nodes: 2 });
  });

  it('refuses malformed values with a user-facing error', () => {
    for (const [kind, value] of [['anchors', 'best:12'], ['anchors', 'fps:0'], ['nodes', '1'], ['nodes', 'x'], ['architectures', '+']] as const) {
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
