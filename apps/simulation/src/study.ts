import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AnchorStrategy } from '@rlsa/core';
import { lineSpec, renderSvg, type LineDatum } from './charts.ts';
import { escapeHtml, htmlTable } from './report.ts';
import { textTable, type SimulationResults } from './results.ts';
import { simulate, type SimulateOptions } from './simulate.ts';

import { STUDY_KINDS, type StudyKind } from './presets.ts';

export { STUDY_KINDS, type StudyKind };

/** The swept values of each study when none are given. */
export const STUDY_DEFAULT_VALUES: Readonly<Record<StudyKind, readonly string[]>> = {
  // strategy:count — the count at the paper's strategy, then every strategy at the paper's count.
  anchors: ['random:32', 'random:64', 'random:128', 'random:256', 'stratified:256', 'fps:256', 'kmeans:256'],
  nodes: ['2', '3', '5', '10'],
  // one model per node, separated by '+'
  architectures: ['mlp+mlp', 'mlp+vanilla-cnn', 'vanilla-cnn+vanilla-cnn'],
};

const STRATEGIES: readonly AnchorStrategy[] = ['random', 'stratified', 'fps', 'kmeans'];

export interface StudyOptions {
  readonly kind: StudyKind;
  /** Swept values (see STUDY_DEFAULT_VALUES for the syntax); default: STUDY_DEFAULT_VALUES[kind]. */
  readonly values?: readonly string[] | undefined;
  /** Settings of every run; the swept setting is overridden per run. `out` is the study's directory. */
  readonly base: SimulateOptions;
}

export interface StudyRow {
  readonly value: string;
  readonly out: string;
  readonly error: string | null;
  readonly cka_linear: number | null;
  readonly cka_debiased: number | null;
  readonly naive_cka_linear: number | null;
  readonly probe_merged: number | null;
  readonly probe_naive: number | null;
  readonly probe_end_to_end: number | null;
  readonly centroid_merged: number | null;
  readonly separability_merged: number | null;
  readonly seconds: number | null;
}

export interface StudyOutput {
  readonly rows: readonly StudyRow[];
  readonly outDir: string;
  readonly table: string;
}

/** The run settings one swept value stands for. Throws on a malformed value. */
export function settingsForValue(kind: StudyKind, value: string, base: SimulateOptions): Partial<SimulateOptions> {
  if (kind === 'anchors') {
    const [strategy, countText] = value.includes(':') ? value.split(':') : [base.anchorStrategy, value];
    const count = Number(countText);
    if (!STRATEGIES.includes(strategy as AnchorStrategy) || !Number.isInteger(count) || count < 1) {
      throw Object.assign(new Error(`study anchors: bad value "${value}" (expected strategy:count, e.g. fps:128)`), { userFacing: true });
    }
    return { anchorStrategy: strategy as AnchorStrategy, anchors: count };
  }
  if (kind === 'nodes') {
    const nodes = Number(value);
    if (!Number.isInteger(nodes) || nodes < 2) throw Object.assign(new Error(`study nodes: bad value "${value}" (an integer ≥ 2)`), { userFacing: true });
    return { nodes };
  }
  const models = value.split('+').filter((m) => m.length > 0);
  if (models.length === 0) throw Object.assign(new Error(`study architectures: bad value "${value}" (models joined by +)`), { userFacing: true });
  return { models, nodes: models.length === 1 ? base.nodes : models.length };
}

const safeName = (value: string): string => value.replace(/[^A-Za-z0-9.+_-]+/g, '_');

/**
 * One of the paper's open questions as a sweep: runs `simulate` once per swept value (anchor
 * strategy and count; number of nodes; mixed architectures), each into `<out>/<i>-<value>/`, and
 * writes `study.json`, `study.txt` (the table) and `study.html` (the table and SVG plots of CKA and
 * accuracy against the swept value). A failed run is recorded with its error and the sweep goes on.
 */
export async function study(options: StudyOptions): Promise<StudyOutput> {
  const values = options.values && options.values.length > 0 ? options.values : STUDY_DEFAULT_VALUES[options.kind];
  const outDir = resolve(options.base.out);
  mkdirSync(outDir, { recursive: true });
  const settings = values.map((v) => settingsForValue(options.kind, v, options.base));
  const rows: StudyRow[] = [];
  for (const [i, value] of values.entries()) {
    const out = join(outDir, `${i}-${safeName(value)}`);
    options.base.logger.info({ study: options.kind, value, out }, 'study run starting');
    let results: SimulationResults | null = null;
    let error: string | null = null;
    try {
      results = (await simulate({ ...options.base, ...settings[i], out })).results;
    } catch (e: unknown) {
      if (options.base.signal?.aborted) throw e;
      error = e instanceof Error ? e.message : String(e);
      options.base.logger.error({ study: options.kind, value, err: error }, 'study run failed');
    }
    const space = (name: string) => results?.spaces.find((s) => s.name === name) ?? null;
    rows.push({
      value,
      out,
      error,
      cka_linear: results?.cka.merged_vs_reference.linear ?? null,
      cka_debiased: results?.cka.merged_vs_reference.linear_debiased ?? null,
      naive_cka_linear: results?.cka.naive_vs_reference.linear ?? null,
      probe_merged: space('merged')?.probe_accuracy ?? null,
      probe_naive: space('naive')?.probe_accuracy ?? null,
      probe_end_to_end: space('end_to_end')?.probe_accuracy ?? null,
      centroid_merged: space('merged')?.nearest_centroid_accuracy ?? null,
      separability_merged: space('merged')?.separability ?? null,
      seconds: results?.timings_s['total'] ?? null,
    });
  }
  const table = studyTable(options.kind, rows);
  writeFileSync(join(outDir, 'study.json'), `${JSON.stringify({ kind: options.kind, scenario: options.base.scenario, dataset: options.base.dataset, rows }, null, 2)}\n`);
  writeFileSync(join(outDir, 'study.txt'), `${table}\n`);
  writeFileSync(join(outDir, 'study.html'), await studyHtml(options.kind, options.base, rows));
  return { rows, outDir, table };
}

const f = (v: number | null, digits = 3): string => (v === null ? '–' : v.toFixed(digits));

export function studyTable(kind: StudyKind, rows: readonly StudyRow[]): string {
  return textTable(
    [kind === 'anchors' ? 'anchors' : kind === 'nodes' ? 'nodes' : 'models', 'CKA', 'CKA debiased', 'naive CKA', 'probe merged', 'probe naive', 'probe end-to-end', 'centroid merged', 'seconds'],
    rows.map((r) => [
      r.value,
      r.error ? `failed: ${r.error.slice(0, 60)}` : f(r.cka_linear),
      f(r.cka_debiased),
      f(r.naive_cka_linear),
      f(r.probe_merged),
      f(r.probe_naive),
      f(r.probe_end_to_end),
      f(r.centroid_merged),
      f(r.seconds, 1),
    ]),
  );
}

/** The study's HTML page: settings, the table, and line plots of CKA and accuracy against the swept value. */
export async function studyHtml(kind: StudyKind, base: SimulateOptions, rows: readonly StudyRow[]): Promise<string> {
  const numeric = kind === 'nodes';
  const x = (r: StudyRow): number | string => (numeric ? Number(r.value) : r.value);
  const points = (pairs: readonly [string, (r: StudyRow) => number | null][]): LineDatum[] =>
    rows.flatMap((r) => pairs.flatMap(([series, get]) => (get(r) === null ? [] : [{ x: x(r), series, value: get(r)! }])));
  const xTitle = kind === 'anchors' ? 'anchor strategy:count' : kind === 'nodes' ? 'trainer nodes' : 'models (one per node)';
  const ckaSvg = await renderSvg(
    lineSpec(
      'CKA against the reference',
      points([
        ['merged, linear', (r) => r.cka_linear],
        ['merged, debiased', (r) => r.cka_debiased],
        ['naive, linear', (r) => r.naive_cka_linear],
      ]),
      { xTitle, yTitle: 'CKA', ordinal: !numeric },
    ),
  );
  const accuracySvg = await renderSvg(
    lineSpec(
      'Probe accuracy on the test samples',
      points([
        ['merged', (r) => r.probe_merged],
        ['naive', (r) => r.probe_naive],
        ['end-to-end', (r) => r.probe_end_to_end],
        ['merged, nearest centroid', (r) => r.centroid_merged],
      ]),
      { xTitle, yTitle: 'accuracy', ordinal: !numeric },
    ),
  );
  const header = ['value', 'CKA', 'CKA debiased', 'naive CKA', 'probe merged', 'probe naive', 'probe end-to-end', 'centroid merged', 'seconds', 'run'];
  const body = rows.map((r) => [r.value, r.error ? `failed: ${r.error}` : f(r.cka_linear), f(r.cka_debiased), f(r.naive_cka_linear), f(r.probe_merged), f(r.probe_naive), f(r.probe_end_to_end), f(r.centroid_merged), f(r.seconds, 1), r.out]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RLSA study: ${escapeHtml(kind)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;font-variant-numeric:tabular-nums}caption{font-weight:bold;text-align:left}svg{max-width:100%;height:auto}</style></head>
<body><h1>RLSA study: ${escapeHtml(kind)}</h1>
<p>${escapeHtml(`${base.scenario} on ${base.dataset}; models ${base.models.join(', ')}; ${base.epochs} epochs; seed ${base.seed}. Each row is one full simulation; its own report is in its run directory.`)}</p>
${htmlTable(`Sweep over ${kind}`, header, body, 'table-study')}
<figure id="plot-study-cka">${ckaSvg}</figure>
<figure id="plot-study-accuracy">${accuracySvg}</figure>
</body></html>
`;
}
