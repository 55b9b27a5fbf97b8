import { pcaSpec, renderSvg, type ScatterPoint } from '@rlsa/charts';
import { barSpec, type BarDatum } from './charts.ts';
import { SPACE_LABELS, type CkaResult, type SimulationResults } from './results.ts';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** An HTML table; cells are escaped. */
export function htmlTable(caption: string, header: readonly string[], rows: readonly (readonly string[])[], id?: string): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${id ? ` id="${escapeHtml(id)}"` : ''}><caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** The 2-D views drawn in the report, one per space. */
export interface ReportViews {
  readonly pca: readonly { title: string; points: readonly ScatterPoint[]; explained: readonly [number, number] }[];
  readonly numClasses: number;
  /** Class names by label, for the legend. */
  readonly classNames?: readonly string[];
}

/** A table of the report: caption, header, rows and its id. */
interface ReportTable {
  readonly caption: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly id: string;
}

function runTable(results: SimulationResults): ReportTable {
  const rows: string[][] = [
    ['scenario', results.scenario],
    ['dataset', `${results.dataset}${results.data_dir ? ` (${results.data_dir})` : ''}`],
    ['preset', results.preset ?? '–'],
    ['nodes', `${results.partition.tasks} trainers + 1 reference`],
    ['partition', partitionText(results)],
    ['anchors', `${results.anchors.count}, ${results.anchors.strategy}, from a pool of ${results.anchors.pool_size}; ${results.anchors.similarity} similarity`],
    ['anchor fingerprint', results.anchors.fingerprint],
    ['training', `${results.training.epochs} epochs, batch ${results.training.batch_size}${results.partition.max_samples ? `, at most ${results.partition.max_samples} training samples per node` : ''}`],
    ['backend', results.backend],
    ['seed', String(results.seed)],
    ['run id', results.run_id],
    ['created', results.created_at],
  ];
  return { caption: 'Run', header: ['setting', 'value'], rows, id: 'table-run' };
}

function nodesTable(results: SimulationResults): ReportTable {
  const rows = results.nodes.map((n) => [
    n.node_id,
    n.role,
    n.task === null ? 'all' : String(n.task),
    n.model,
    n.embedding_width === null ? '–' : String(n.embedding_width),
    classesText(n.classes),
    String(n.relative_rows),
    fmt(n.task_accuracy),
    n.backend ?? '–',
    n.seconds === null ? '–' : n.seconds.toFixed(1),
  ]);
  return { caption: 'Nodes', header: ['node', 'role', 'task', 'model', 'embedding width', 'classes', 'rows uploaded', 'task accuracy', 'backend', 'seconds'], rows, id: 'table-nodes' };
}

function ckaTable(results: SimulationResults): ReportTable {
  const paper = results.paper;
  const ckaRow = (name: string, c: CkaResult | null, paperValue: number | null | undefined): string[] | null =>
    c ? [name, fmt(c.linear), fmt(c.linear_debiased), String(c.n), ...(paper ? [fmt(paperValue)] : [])] : null;
  const rows = [
    ckaRow('merged vs reference', results.cka.merged_vs_reference, paper?.cka_merged_vs_reference),
    ckaRow('merged vs reference, shared classes', results.cka.merged_vs_reference_shared_classes, paper?.cka_shared_classes),
    ckaRow('merged vs reference, task-specific classes', results.cka.merged_vs_reference_task_specific_classes, paper?.cka_task_specific_classes),
    ckaRow('naive vs reference', results.cka.naive_vs_reference, null),
    ...results.cka.nodes_vs_reference.map((c) => ckaRow(`${c.node_id} (alone) vs reference`, c, null)),
  ].filter((r): r is string[] => r !== null);
  return { caption: 'CKA against the reference (test samples)', header: ['comparison', 'linear', 'debiased', 'n', ...(paper ? ['paper: linear'] : [])], rows, id: 'table-cka' };
}

function spacesTable(results: SimulationResults): ReportTable {
  const paper = results.paper;
  const rows = results.spaces.map((s) => [
    SPACE_LABELS[s.name] ?? s.name,
    String(s.width),
    `${s.train_rows} / ${s.test_rows}`,
    fmt(s.probe_accuracy),
    ...(paper ? [fmt(paper.probe_accuracy[s.name])] : []),
    fmt(s.nearest_centroid_accuracy),
    fmt(s.separability),
    ...(paper ? [fmt(paper.separability[s.name])] : []),
    s.probe_epochs === null ? '–' : String(s.probe_epochs),
  ]);
  const header = [
    'space',
    'width',
    'train / test rows',
    'probe accuracy',
    ...(paper ? ['paper: probe accuracy'] : []),
    'nearest-centroid accuracy',
    'separability',
    ...(paper ? ['paper: separability'] : []),
    'probe epochs',
  ];
  return { caption: 'Spaces', header, rows, id: 'table-spaces' };
}

/** Every table of the report, in page order (the aggregator's Evaluate only when it answered). */
function reportTables(results: SimulationResults): ReportTable[] {
  const evaluateRows = results.cka.aggregator_evaluate.map((c) => [c.subject, fmt(c.linear), fmt(c.linear_debiased), String(c.n)]);
  const timings = Object.entries(results.timings_s).map(([phase, s]) => [phase, s.toFixed(1)]);
  return [
    runTable(results),
    nodesTable(results),
    ckaTable(results),
    spacesTable(results),
    ...(evaluateRows.length > 0
      ? [{ caption: "The aggregator's Evaluate (all samples shared with the reference)", header: ['subject', 'linear', 'debiased', 'n'], rows: evaluateRows, id: 'table-evaluate' }]
      : []),
    { caption: 'Wall time per phase (seconds)', header: ['phase', 'seconds'], rows: timings, id: 'table-timings' },
  ];
}

/** Adds a bar when the value is a finite number (absent paper values are left out). */
function pushBar(list: BarDatum[], group: string, series: string, value: number | null | undefined): void {
  if (value !== null && value !== undefined && Number.isFinite(value)) list.push({ group, series, value });
}

/** The bars of the CKA plot: ours (linear and debiased) and the paper's, per comparison. */
function ckaBars(results: SimulationResults): BarDatum[] {
  const { cka, paper } = results;
  const bars: BarDatum[] = [];
  const groups: [string, CkaResult | null, number | null | undefined][] = [
    ['merged', cka.merged_vs_reference, paper?.cka_merged_vs_reference],
    ['shared classes', cka.merged_vs_reference_shared_classes, paper?.cka_shared_classes],
    ['task-specific', cka.merged_vs_reference_task_specific_classes, paper?.cka_task_specific_classes],
  ];
  for (const [group, ours, paperValue] of groups) {
    if (!ours) continue;
    pushBar(bars, group, 'ours, linear', ours.linear);
    pushBar(bars, group, 'ours, debiased', ours.linear_debiased);
    pushBar(bars, group, 'paper, linear', paperValue);
  }
  for (const [group, ours] of [['naive', cka.naive_vs_reference] as const, ...cka.nodes_vs_reference.map((node) => [node.node_id, node] as const)]) {
    pushBar(bars, group, 'ours, linear', ours.linear);
    pushBar(bars, group, 'ours, debiased', ours.linear_debiased);
  }
  return bars;
}

/** The report's SVG plots: the PCA views, CKA, accuracy and separability bars. */
async function reportPlots(results: SimulationResults, views: ReportViews): Promise<{ id: string; title: string; svg: string }[]> {
  const paper = results.paper;
  const accuracyBars: BarDatum[] = [];
  const separabilityBars: BarDatum[] = [];
  for (const s of results.spaces) {
    const label = SPACE_LABELS[s.name] ?? s.name;
    pushBar(accuracyBars, label, 'ours: probe', s.probe_accuracy);
    pushBar(accuracyBars, label, 'ours: nearest centroid', s.nearest_centroid_accuracy);
    pushBar(accuracyBars, label, 'paper: probe', paper?.probe_accuracy[s.name]);
    pushBar(separabilityBars, label, 'ours', s.separability);
    pushBar(separabilityBars, label, 'paper', paper?.separability[s.name]);
  }
  const plots: { id: string; title: string; svg: string }[] = [];
  if (views.pca.length > 0) {
    const panels = views.pca.map((p) => ({ title: `${p.title} (PC1 ${(100 * p.explained[0]).toFixed(0)}%, PC2 ${(100 * p.explained[1]).toFixed(0)}%)`, points: p.points }));
    plots.push({ id: 'plot-pca', title: 'PCA of the test samples, coloured by class', svg: await renderSvg(pcaSpec(panels, views.numClasses, views.classNames)) });
  }
  plots.push({ id: 'plot-cka', title: 'Linear CKA against the reference', svg: await renderSvg(barSpec('CKA vs reference', ckaBars(results), { yTitle: 'CKA', domain: [0, 1] })) });
  plots.push({ id: 'plot-accuracy', title: 'Accuracy on the test samples', svg: await renderSvg(barSpec('Accuracy', accuracyBars, { yTitle: 'accuracy', domain: [0, 1] })) });
  plots.push({ id: 'plot-separability', title: 'Separability on the test samples', svg: await renderSvg(barSpec('Separability', separabilityBars, { yTitle: 'separability' })) });
  return plots;
}

/** What the numbers mean, the run's caveats, and where the paper's column comes from (or why there is none). */
function reportNotes(results: SimulationResults): string[] {
  const paper = results.paper;
  const notes: string[] = [
    `CKA is linear CKA on ${results.cka.evaluated_on}; “linear” uses the biased HSIC estimator, as the paper; “debiased” the unbiased one.`,
    `Naive baseline: ${results.cka.naive_vs_reference.definition}`,
    `Probe: ${results.probe.architecture}; ${results.probe.optimizer}, batch ${results.probe.batch_size}, at most ${results.probe.max_epochs} epochs, early stopping with patience ${results.probe.patience} on a ${Math.round(100 * results.probe.validation_fraction)}% validation split of the training rows${results.probe.max_train_rows ? `, at most ${results.probe.max_train_rows} training rows (seeded sample)` : ''}; trained on training-sample embeddings, tested on test-sample embeddings.`,
    'Separability (the paper’s): mean over class pairs of the distance between class means divided by the mean of the two classes’ average distances to their means; on the test rows.',
    ...results.notes,
  ];
  if (paper) {
    notes.push(
      `Paper column: the numbers published with the paper (${paper.key}), read from ${paper.source}; they are the paper's, not ours. The paper's “original” separability is that of the end-to-end model's absolute space (as its analysis scripts compute it), so it is shown beside our end-to-end absolute space.`,
    );
    notes.push(...paperDifferences(results));
  } else if (results.paper_note) {
    notes.push(`No paper column: ${results.paper_note}.`);
  }
  return notes;
}

const REPORT_STYLE = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-variant-numeric:tabular-nums}
caption{font-weight:bold;text-align:left;padding:4px 0}figure{margin:1.5em 0}figcaption{font-weight:bold}svg{max-width:100%;height:auto}
li{margin:.3em 0}`;

/**
 * The self-contained HTML report of one run: run settings, nodes, CKA, each space's probe accuracy,
 * centroid accuracy and separability (the paper's numbers beside ours where a preset reproduces the
 * paper), wall times, and SVG plots drawn by Vega-Lite in Node (no script, no network).
 */
export async function renderReport(results: SimulationResults, views: ReportViews): Promise<string> {
  const plots = await reportPlots(results, views);
  const title = `RLSA simulation: ${escapeHtml(results.scenario)} on ${escapeHtml(results.dataset)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>${REPORT_STYLE}</style></head>
<body>
<h1>${title}</h1>
<p>CKA(merged, reference) = <strong>${fmt(results.cka.merged_vs_reference.linear)}</strong> (debiased ${fmt(results.cka.merged_vs_reference.linear_debiased)}); naive: ${fmt(results.cka.naive_vs_reference.linear)}.</p>
${reportTables(results)
  .map((t) => htmlTable(t.caption, t.header, t.rows, t.id))
  .join('\n')}
${plots.map((p) => `<figure id="${p.id}"><figcaption>${escapeHtml(p.title)}</figcaption>\n${p.svg}\n</figure>`).join('\n')}
<h2>Notes</h2>
<ul>${reportNotes(results)
    .map((n) => `<li>${escapeHtml(n)}</li>`)
    .join('\n')}</ul>
</body></html>
`;
}

function classesText(classes: readonly number[]): string {
  if (classes.length <= 12) return classes.join(', ');
  return `${classes.length} classes (${classes.slice(0, 6).join(', ')}, …)`;
}

function partitionText(results: SimulationResults): string {
  const p = results.partition;
  if (results.scenario === 'shared-samples') return `S = ${p.shared} shared classes, N = ${p.novel} novel classes per task`;
  if (results.scenario === 'shared-classes') return `${p.shared_percent}% / ${100 - (p.shared_percent ?? 80)}% split of the samples of every class`;
  return `classes cut into ${p.tasks} disjoint blocks`;
}

/**
 * Where our results and the paper's disagree: the CKA gap (target: within 0.1) and the order of the
 * spaces by probe accuracy and by separability.
 */
export function paperDifferences(results: SimulationResults): string[] {
  const paper = results.paper;
  if (!paper) return [];
  const out: string[] = [];
  const cka = paper.cka_merged_vs_reference;
  if (cka !== null) {
    const gap = results.cka.merged_vs_reference.linear - cka;
    out.push(
      Math.abs(gap) <= 0.1
        ? `CKA(merged, reference) is within 0.1 of the paper's (${fmt(results.cka.merged_vs_reference.linear)} vs ${fmt(cka)}).`
        : `CKA(merged, reference) differs from the paper's by ${gap.toFixed(3)} (${fmt(results.cka.merged_vs_reference.linear)} vs ${fmt(cka)}).`,
    );
  }
  const order = (values: Record<string, number | null>): string[] =>
    Object.entries(values)
      .filter((e): e is [string, number] => e[1] !== null && Number.isFinite(e[1]))
      .sort((a, b) => b[1] - a[1])
      .map((e) => e[0]);
  for (const [what, ours, theirs] of [
    ['probe accuracy', Object.fromEntries(results.spaces.map((s) => [s.name, s.probe_accuracy])), paper.probe_accuracy],
    ['separability', Object.fromEntries(results.spaces.map((s) => [s.name, s.separability])), paper.separability],
  ] as const) {
    const common = Object.keys(theirs).filter((k) => ours[k] !== null && ours[k] !== undefined);
    const a = order(Object.fromEntries(common.map((k) => [k, ours[k] ?? null])));
    const b = order(Object.fromEntries(common.map((k) => [k, theirs[k] ?? null])));
    if (a.length < 2) continue;
    const show = (o: string[]): string => o.map((k) => SPACE_LABELS[k] ?? k).join(' > ');
    out.push(
      a.join() === b.join()
        ? `Ordering by ${what} matches the paper's: ${show(a)}.`
        : `Ordering by ${what} differs from the paper's: ours ${show(a)}; the paper's ${show(b)}.`,
    );
    if (what === 'probe accuracy' && a.join() !== b.join()) out.push(...swappedAccuracies(results, ours, theirs, a, b));
  }
  return out;
}

/**
 * Test samples the paper's probe accuracies were measured on: its CIFAR-100 test set (10,000), except in
 * the shared-samples experiment, where the probe is tested on 15% of the test embeddings.
 */
const PAPER_TEST_SAMPLES: Readonly<Record<string, number>> = { 'shared-samples': 1500, 'shared-classes': 10000, disjoint: 10000 };

/**
 * For each pair of spaces whose accuracy order differs from the paper's, both gaps beside two standard
 * errors of a difference of two accuracies, 2·√(p₁(1−p₁)/n + p₂(1−p₂)/n) (n test samples): a gap below it
 * is within sampling noise, so the order is not established.
 */
function swappedAccuracies(
  results: SimulationResults,
  ours: Readonly<Record<string, number | null>>,
  theirs: Readonly<Record<string, number>>,
  oursOrder: readonly string[],
  theirsOrder: readonly string[],
): string[] {
  const ourTestSamples = Math.max(0, ...results.spaces.filter((s) => s.name === 'merged' || s.name === 'end_to_end').map((s) => s.test_rows));
  const paperTestSamples = PAPER_TEST_SAMPLES[results.paper?.experiment ?? ''] ?? 10000;
  const twoSe = (p1: number, p2: number, n: number): number => 2 * Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n);
  const out: string[] = [];
  for (let i = 0; i < oursOrder.length; i++) {
    for (let j = i + 1; j < oursOrder.length; j++) {
      const x = oursOrder[i]!;
      const y = oursOrder[j]!;
      if (theirsOrder.indexOf(x) < theirsOrder.indexOf(y)) continue;
      const [ox, oy, tx, ty] = [ours[x]!, ours[y]!, theirs[x]!, theirs[y]!];
      const ourNoise = twoSe(ox, oy, ourTestSamples);
      const paperNoise = twoSe(tx, ty, paperTestSamples);
      const verdict = (gap: number, noise: number): string => (gap < noise ? 'within' : 'beyond');
      out.push(
        `${SPACE_LABELS[x] ?? x} vs ${SPACE_LABELS[y] ?? y}: our gap ${fmt(ox - oy)} is ${verdict(ox - oy, ourNoise)} two standard errors (${fmt(ourNoise)}, ${ourTestSamples} test samples); ` +
          `the paper's ${fmt(ty - tx)} is ${verdict(ty - tx, paperNoise)} them (${fmt(paperNoise)}, ${paperTestSamples} test samples).`,
      );
    }
  }
  return out;
}
