import { SPACE_LABELS, type StudyOutput, type StudyRow } from '@rlsa/simulation';
import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, objectAt, readJson } from './read-json.ts';

/** What `rlsa study` writes to `study.json`. */
interface StudyFile {
  readonly kind: string;
  readonly rows: readonly StudyRow[];
  readonly summary: StudyOutput['summary'];
}

type SeedsSummary = NonNullable<StudyOutput['summary']>;
type Interval = SeedsSummary['cka_linear'];

/** `mean [low, high]`, or the mean alone below two seeds. */
function interval(value: Interval, digits = 3): string {
  return value.low === null || value.high === null ? fixed(value.mean, digits) : `${fixed(value.mean, digits)} [${fixed(value.low, digits)}, ${fixed(value.high, digits)}]`;
}

function label(space: string): string {
  return SPACE_LABELS[space] ?? space;
}

const VERDICTS: Readonly<Record<SeedsSummary['probe_accuracy']['pairs'][number]['verdict'], string>> = {
  paper: "established in the paper's order",
  opposite: "established against the paper's order",
  unresolved: 'not ordered by the seeds',
};

/** One row per value of the study (per seed in a seeds study): CKA, probe accuracies, separability, time. */
export function studyRows(path: string): string {
  const source = readJson(path);
  arrayAt(source, ['rows']);
  const study = source.value as StudyFile;
  const rows = study.rows.map((row) =>
    row.error === null
      ? [row.value, fixed(row.cka_linear), fixed(row.cka_debiased), fixed(row.naive_cka_linear), fixed(row.probe_merged), fixed(row.probe_naive), fixed(row.probe_end_to_end), fixed(row.separability_merged), fixed(row.seconds, 1)]
      : [row.value, `failed: ${row.error}`],
  );
  const header = [study.kind === 'seeds' ? 'seed' : 'value', 'CKA', 'CKA debiased', 'naive CKA', 'probe: merged', 'probe: naive', 'probe: end-to-end', 'separability: merged', 'seconds'];
  return markdownTable(header, rows, [1, 2, 3, 4, 5, 6, 7, 8]);
}

/**
 * A seeds study's summary: means with their t intervals over the seeds, and, against a paper
 * preset, each pair of spaces the paper orders with its paired gap and whether the seeds establish it.
 */
export function studySeeds(path: string): string {
  const source = readJson(path);
  objectAt(source, ['summary']);
  const summary = (source.value as StudyFile).summary as SeedsSummary;
  const confidence = `${Math.round(summary.confidence * 100)} %`;
  const rows = [
    ['CKA(merged, reference)', interval(summary.cka_linear)],
    ['CKA(naive, reference)', interval(summary.naive_cka_linear)],
  ];
  const pairs: string[][] = [];
  for (const metric of [summary.probe_accuracy, summary.separability]) {
    const name = metric.metric === 'probe_accuracy' ? 'probe accuracy' : 'separability';
    for (const space of metric.order_of_means) rows.push([`${name}: ${label(space)}`, interval(metric.spaces[space]!)]);
    for (const pair of metric.pairs) pairs.push([name, `${label(pair.higher)} > ${label(pair.lower)}`, interval(pair.gap), VERDICTS[pair.verdict]]);
    if (metric.seeds_in_paper_order !== null) pairs.push([name, "every pair in the paper's order", `${metric.seeds_in_paper_order} of ${summary.seeds.length} seeds`, '']);
  }
  const means = markdownTable([`over seeds ${summary.seeds.join(', ')}`, `mean [${confidence} interval]`], rows, [1]);
  if (pairs.length === 0) return means;
  return [means, '', markdownTable(['metric', "the paper's order", 'gap, higher − lower', 'over the seeds'], pairs, [2])].join('\n');
}
