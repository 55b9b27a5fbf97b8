import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ANCHOR_STRATEGIES, type AnchorStrategy } from '@rlsa/core';
import { renderSvg } from '@rlsa/charts';
import { intervalSpec, lineSpec, type LineDatum } from './charts.ts';
import { escapeHtml, htmlTable } from './report.ts';
import { SPACE_LABELS, textTable, type SimulationResults } from './results.ts';
import { METRIC_LABELS, SEED_CONFIDENCE, describeOverSeeds, metricOverSeeds, seedInterval, type MetricOverSeeds, type SeedInterval } from './seed-summary.ts';
import { withChanges, type RunChanges } from './options.ts';
import { simulate, type SimulateOptions } from './simulate.ts';
import { SimulationError } from './simulation-error.ts';

import { STUDY_KINDS, type StudyKind } from './presets.ts';

export { STUDY_KINDS, type StudyKind };

/** The swept values of each study when none are given. */
export const STUDY_DEFAULT_VALUES: Readonly<Record<StudyKind, readonly string[]>> = {
  // strategy:count — the count at the paper's strategy, then every strategy at the paper's count.
  anchors: ['random:32', 'random:64', 'random:128', 'random:256', 'stratified:256', 'fps:256', 'kmeans:256'],
  nodes: ['2', '3', '5', '10'],
  // one model per node, separated by '+'
  architectures: ['mlp+mlp', 'mlp+vanilla-cnn', 'vanilla-cnn+vanilla-cnn'],
  // one seed per run: partitions, anchors, model initialisation and probes all change with it
  seeds: ['1', '2', '3', '4', '5'],
};

export interface StudyOptions {
  readonly kind: StudyKind;
  /** Swept values (see STUDY_DEFAULT_VALUES for the syntax); default: STUDY_DEFAULT_VALUES[kind]. */
  readonly values?: readonly string[] | undefined;
  /** Settings of every run; the swept setting is overridden per run. `output.out` is the study's directory. */
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
  /** Probe accuracy of every space the run measured, by space name. */
  readonly probe: Readonly<Record<string, number | null>>;
  /** Separability of every space the run measured, by space name. */
  readonly separability: Readonly<Record<string, number | null>>;
}

/** A seeds study's verdict: each metric's mean and interval over the seeds, against the paper's order. */
export interface SeedsSummary {
  readonly seeds: readonly string[];
  readonly confidence: number;
  readonly cka_linear: SeedInterval;
  readonly naive_cka_linear: SeedInterval;
  readonly probe_accuracy: MetricOverSeeds;
  readonly separability: MetricOverSeeds;
  /** The paper's numbers the orders are compared with (null: the runs had none). */
  readonly paper: { readonly probe_accuracy: Readonly<Record<string, number>>; readonly separability: Readonly<Record<string, number>>; readonly key: string } | null;
  /** Sentences for the table and the page. */
  readonly lines: readonly string[];
}

export interface StudyOutput {
  readonly rows: readonly StudyRow[];
  /** Only in a seeds study with at least one finished run. */
  readonly summary: SeedsSummary | null;
  readonly outDir: string;
  readonly table: string;
}

/** The run settings one swept value stands for. Throws on a malformed value. */
export function settingsForValue(kind: StudyKind, value: string, base: SimulateOptions): RunChanges {
  if (kind === 'anchors') {
    const [strategy, countText] = value.includes(':') ? value.split(':') : [base.anchors.strategy, value];
    const count = Number(countText);
    if (!(ANCHOR_STRATEGIES as readonly string[]).includes(strategy ?? '') || !Number.isInteger(count) || count < 1) {
      throw new SimulationError('invalid_argument', `study anchors: bad value "${value}" (expected strategy:count, e.g. fps:128)`);
    }
    return { anchors: { strategy: strategy as AnchorStrategy, count } };
  }
  if (kind === 'seeds') {
    const seed = Number(value);
    if (!Number.isInteger(seed) || seed < 0) throw new SimulationError('invalid_argument', `study seeds: bad value "${value}" (an integer ≥ 0)`);
    return { partition: { seed } };
  }
  if (kind === 'nodes') {
    const nodes = Number(value);
    if (!Number.isInteger(nodes) || nodes < 2) throw new SimulationError('invalid_argument', `study nodes: bad value "${value}" (an integer ≥ 2)`);
    return { partition: { nodes } };
  }
  const models = value.split('+').filter((m) => m.length > 0);
  if (models.length === 0) throw new SimulationError('invalid_argument', `study architectures: bad value "${value}" (models joined by +)`);
  return { training: { models }, partition: { nodes: models.length === 1 ? base.partition.nodes : models.length } };
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
  const outDir = resolve(options.base.output.out);
  // Every value is checked before anything is written: a malformed one leaves no directory behind.
  const settings = values.map((v) => settingsForValue(options.kind, v, options.base));
  mkdirSync(outDir, { recursive: true });
  const rows: StudyRow[] = [];
  let paper: SeedsSummary['paper'] = null;
  for (const [i, value] of values.entries()) {
    const out = join(outDir, `${i}-${safeName(value)}`);
    options.base.processes.logger.info({ study: options.kind, value, out }, 'study run starting');
    let results: SimulationResults | null = null;
    let error: string | null = null;
    try {
      const run = withChanges(options.base, settings[i]!);
      results = (await simulate({ ...run, output: { ...run.output, out } })).results;
    } catch (e: unknown) {
      if (options.base.processes.signal?.aborted) throw e;
      error = e instanceof Error ? e.message : String(e);
      options.base.processes.logger.error({ study: options.kind, value, err: error }, 'study run failed');
    }
    const space = (name: string) => results?.spaces.find((s) => s.name === name) ?? null;
    if (results?.paper && !paper) paper = { probe_accuracy: results.paper.probe_accuracy, separability: results.paper.separability, key: results.paper.key };
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
      probe: Object.fromEntries((results?.spaces ?? []).map((s) => [s.name, s.probe_accuracy])),
      separability: Object.fromEntries((results?.spaces ?? []).map((s) => [s.name, s.separability])),
    });
  }
  const summary = options.kind === 'seeds' ? seedsSummary(rows, paper) : null;
  const table = summary ? `${studyTable(options.kind, rows)}\n\n${summary.lines.join('\n')}` : studyTable(options.kind, rows);
  writeFileSync(join(outDir, 'study.json'), `${JSON.stringify({ kind: options.kind, scenario: options.base.partition.scenario, dataset: options.base.data.dataset, rows, summary }, null, 2)}\n`);
  writeFileSync(join(outDir, 'study.txt'), `${table}\n`);
  writeFileSync(join(outDir, 'study.html'), await studyHtml(options.kind, options.base, rows, summary));
  return { rows, summary, outDir, table };
}

/**
 * The seeds study's summary over the runs that finished: CKA's mean and interval, and for probe accuracy
 * and separability each space's mean and interval and the paired gap of every pair the paper orders.
 * Null when no run finished.
 */
export function seedsSummary(rows: readonly StudyRow[], paper: SeedsSummary['paper']): SeedsSummary | null {
  const done = rows.filter((r) => r.error === null && r.cka_linear !== null && r.naive_cka_linear !== null);
  if (done.length === 0) return null;
  const probeAccuracy = metricOverSeeds('probe_accuracy', done.map((r) => r.probe), paper?.probe_accuracy ?? {});
  const separability = metricOverSeeds('separability', done.map((r) => r.separability), paper?.separability ?? {});
  const cka = seedInterval(done.map((r) => r.cka_linear!));
  const naive = seedInterval(done.map((r) => r.naive_cka_linear!));
  const interval = (i: SeedInterval): string => (i.low === null ? f(i.mean) : `${f(i.mean)} [${f(i.low)}, ${f(i.high)}]`);
  const lines = [
    `${done.length} of ${rows.length} seeds finished; means with ${Math.round(100 * SEED_CONFIDENCE)} % t intervals${paper ? `; the paper's numbers from ${paper.key}` : ''}.`,
    `CKA(merged, reference) ${interval(cka)}; CKA(naive, reference) ${interval(naive)}.`,
    ...[probeAccuracy, separability].flatMap((m) => [
      `${METRIC_LABELS[m.metric]}: ${m.order_of_means.map((name) => `${SPACE_LABELS[name] ?? name} ${interval(m.spaces[name]!)}`).join('; ')}.`,
      ...describeOverSeeds(m),
    ]),
  ];
  return {
    seeds: done.map((r) => r.value),
    confidence: SEED_CONFIDENCE,
    cka_linear: cka,
    naive_cka_linear: naive,
    probe_accuracy: probeAccuracy,
    separability,
    paper,
    lines,
  };
}

const STUDY_VALUE_HEADERS: Readonly<Record<StudyKind, string>> = { anchors: 'anchors', nodes: 'nodes', architectures: 'models', seeds: 'seed' };

const f = (v: number | null, digits = 3): string => (v === null ? '–' : v.toFixed(digits));

export function studyTable(kind: StudyKind, rows: readonly StudyRow[]): string {
  return textTable(
    [STUDY_VALUE_HEADERS[kind], 'CKA', 'CKA debiased', 'naive CKA', 'probe merged', 'probe naive', 'probe end-to-end', 'centroid merged', 'seconds'],
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
export async function studyHtml(kind: StudyKind, base: SimulateOptions, rows: readonly StudyRow[], summary: SeedsSummary | null = null): Promise<string> {
  const numeric = kind === 'nodes';
  const x = (r: StudyRow): number | string => (numeric ? Number(r.value) : r.value);
  const points = (pairs: readonly [string, (r: StudyRow) => number | null][]): LineDatum[] =>
    rows.flatMap((r) => pairs.flatMap(([series, get]) => (get(r) === null ? [] : [{ x: x(r), series, value: get(r)! }])));
  const xTitle = { anchors: 'anchor strategy:count', nodes: 'trainer nodes', architectures: 'models (one per node)', seeds: 'seed' }[kind];
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
<p>${escapeHtml(`${base.partition.scenario} on ${base.data.dataset}; models ${base.training.models.join(', ')}; ${base.training.epochs} epochs; seed ${base.partition.seed}. Each row is one full simulation; its own report is in its run directory.`)}</p>
${htmlTable(`Sweep over ${kind}`, header, body, 'table-study')}
${summary ? await seedsSummaryHtml(summary) : ''}
<figure id="plot-study-cka">${ckaSvg}</figure>
<figure id="plot-study-accuracy">${accuracySvg}</figure>
</body></html>
`;
}

/**
 * The seeds summary on the study page: its sentences, each metric's per-space mean and interval as a
 * table, and as a plot of the intervals with the paper's values beside them.
 */
async function seedsSummaryHtml(summary: SeedsSummary): Promise<string> {
  const metrics = [summary.probe_accuracy, summary.separability];
  const paperOf = (m: MetricOverSeeds, name: string): number | null => summary.paper?.[m.metric][name] ?? null;
  const rows = metrics.flatMap((m) =>
    m.order_of_means.map((name) => {
      const i = m.spaces[name]!;
      return [METRIC_LABELS[m.metric], SPACE_LABELS[name] ?? name, f(i.mean), f(i.sd), f(i.low), f(i.high), f(paperOf(m, name))];
    }),
  );
  const plots = await Promise.all(
    metrics.map(async (m) => {
      const data = m.order_of_means.map((name) => {
        const i = m.spaces[name]!;
        return { group: SPACE_LABELS[name] ?? name, mean: i.mean, low: i.low ?? i.mean, high: i.high ?? i.mean, paper: paperOf(m, name) };
      });
      const title = `${METRIC_LABELS[m.metric]}: mean over seeds with ${Math.round(100 * summary.confidence)} % interval${summary.paper ? ' (diamond: the paper)' : ''}`;
      return `<figure id="plot-seeds-${m.metric.replace('_', '-')}">${await renderSvg(intervalSpec(title, data, { xTitle: METRIC_LABELS[m.metric] }))}</figure>`;
    }),
  );
  return `<h2>Over ${summary.seeds.length} seeds</h2>
<ul id="seeds-summary">${summary.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${htmlTable(`Means over seeds ${summary.seeds.join(', ')} with ${Math.round(100 * summary.confidence)} % t intervals`, ['metric', 'space', 'mean', 'sd', 'low', 'high', 'paper'], rows, 'table-seeds')}
${plots.join('\n')}`;
}
