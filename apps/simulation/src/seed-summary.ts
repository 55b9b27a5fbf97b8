import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { SPACE_LABELS } from './results.ts';

/** Confidence of every interval in a seeds summary. */
export const SEED_CONFIDENCE = 0.95;

/** A mean over seeds with its two-sided t interval. */
export interface SeedInterval {
  /** Seeds the value was measured in. */
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); null below 2 seeds. */
  readonly sd: number | null;
  /** mean ∓ t_{(1+c)/2, n−1} · sd / √n; null below 2 seeds. */
  readonly low: number | null;
  readonly high: number | null;
}

/**
 * Mean and two-sided Student-t confidence interval of values measured once per seed.
 *
 * mean = Σx/n; sd = √(Σ(x − mean)²/(n − 1)); half width = t_{(1+c)/2, n−1} · sd/√n.
 * Sums in float64 (plain JS numbers); a handful of seeds needs nothing more careful.
 * Throws on an empty list.
 */
export function seedInterval(values: readonly number[], confidence = SEED_CONFIDENCE): SeedInterval {
  const n = values.length;
  if (n === 0) throw new RangeError('seedInterval: no values');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { n, mean, sd: null, low: null, high: null };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = tQuantile((1 + confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, low: mean - half, high: mean + half };
}

/**
 * One pair of spaces the paper orders (`higher` above `lower`), over seeds: the per-seed gap
 * higher − lower (paired, since a seed fixes the partition, the anchors and the models both spaces come from).
 * - `paper`: the interval lies above 0, the paper's order is established;
 * - `opposite`: the interval lies below 0, the reverse order is established;
 * - `unresolved`: the interval holds 0 (or there is one seed), the seeds do not order the pair.
 */
export interface PairOverSeeds {
  readonly higher: string;
  readonly lower: string;
  readonly gap: SeedInterval;
  readonly verdict: 'paper' | 'opposite' | 'unresolved';
}

/** A metric (probe accuracy or separability) of every space over seeds, against the paper's order. */
export interface MetricOverSeeds {
  readonly metric: 'probe_accuracy' | 'separability';
  /** Space name → interval, for the spaces measured in every seed. */
  readonly spaces: Readonly<Record<string, SeedInterval>>;
  /** Our spaces by mean, best first. */
  readonly order_of_means: readonly string[];
  /** The paper's order of the same spaces, best first; empty without the paper's numbers. */
  readonly paper_order: readonly string[];
  /** Every pair the paper orders, with the paired gap over seeds. */
  readonly pairs: readonly PairOverSeeds[];
  /** Seeds whose own run has every space in the paper's order (null without the paper's numbers). */
  readonly seeds_in_paper_order: number | null;
}

/** How each metric is named in sentences, tables and plot titles. */
export const METRIC_LABELS: Readonly<Record<MetricOverSeeds['metric'], string>> = { probe_accuracy: 'probe accuracy', separability: 'separability' };

/** One seed's values of a metric by space (null: not measured). */
export type SeedValues = Readonly<Record<string, number | null>>;

const byValueDescending = (values: Readonly<Record<string, number>>): string[] =>
  Object.entries(values)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name);

/**
 * Summarises one metric over seeds: per space, the mean and interval (spaces missing in any seed are
 * left out, so every mean is over the same seeds); and for every pair of spaces the paper orders, the
 * paired gap's interval and verdict.
 *
 * @param perSeed one record per seed, space name → value
 * @param paper the paper's values by space name (empty: no paper comparison)
 */
export function metricOverSeeds(
  metric: MetricOverSeeds['metric'],
  perSeed: readonly SeedValues[],
  paper: Readonly<Record<string, number>>,
  confidence = SEED_CONFIDENCE,
): MetricOverSeeds {
  const names = perSeed.length === 0 ? [] : Object.keys(perSeed[0]!).filter((name) => perSeed.every((s) => typeof s[name] === 'number' && Number.isFinite(s[name])));
  const valuesOf = (name: string): number[] => perSeed.map((s) => s[name] as number);
  const spaces = Object.fromEntries(names.map((name) => [name, seedInterval(valuesOf(name), confidence)]));
  const orderOfMeans = byValueDescending(Object.fromEntries(names.map((name) => [name, spaces[name]!.mean])));
  const paperOrder = byValueDescending(Object.fromEntries(names.filter((name) => typeof paper[name] === 'number').map((name) => [name, paper[name]!])));
  const pairs: PairOverSeeds[] = [];
  for (let i = 0; i < paperOrder.length; i++) {
    for (let j = i + 1; j < paperOrder.length; j++) {
      const [higher, lower] = [paperOrder[i]!, paperOrder[j]!];
      const hs = valuesOf(higher);
      const ls = valuesOf(lower);
      const gap = seedInterval(hs.map((h, k) => h - ls[k]!), confidence);
      const verdict = gap.low !== null && gap.low > 0 ? 'paper' : gap.high !== null && gap.high < 0 ? 'opposite' : 'unresolved';
      pairs.push({ higher, lower, gap, verdict });
    }
  }
  const inPaperOrder = perSeed.filter((seed) => byValueDescending(Object.fromEntries(paperOrder.map((name) => [name, seed[name] as number]))).join() === paperOrder.join()).length;
  return { metric, spaces, order_of_means: orderOfMeans, paper_order: paperOrder, pairs, seeds_in_paper_order: paperOrder.length < 2 ? null : inPaperOrder };
}

const label = (name: string): string => SPACE_LABELS[name] ?? name;
const fmt = (v: number | null): string => (v === null ? '–' : v.toFixed(3));

/** Sentences for the report: the order of the means against the paper's, and each pair's verdict. */
export function describeOverSeeds(summary: MetricOverSeeds): string[] {
  const what = METRIC_LABELS[summary.metric];
  const n = Object.values(summary.spaces)[0]?.n ?? 0;
  if (summary.paper_order.length < 2) return [`Mean ${what} over ${n} seeds: ${summary.order_of_means.map(label).join(' > ')} (no paper numbers to compare).`];
  const ours = summary.order_of_means.filter((name) => summary.paper_order.includes(name));
  const lines = [
    ours.join() === summary.paper_order.join()
      ? `Mean ${what} over ${n} seeds is in the paper's order: ${ours.map(label).join(' > ')}.`
      : `Mean ${what} over ${n} seeds differs from the paper's order: ours ${ours.map(label).join(' > ')}; the paper's ${summary.paper_order.map(label).join(' > ')}.`,
    `${summary.seeds_in_paper_order} of ${n} seeds have every space in the paper's order on their own.`,
  ];
  for (const pair of summary.pairs) {
    const ci = `${fmt(pair.gap.mean)} [${fmt(pair.gap.low)}, ${fmt(pair.gap.high)}]`;
    const verdict =
      pair.verdict === 'paper' ? "the paper's order, established" : pair.verdict === 'opposite' ? "the reverse of the paper's order, established" : 'not ordered by the seeds (the interval holds 0)';
    lines.push(`${label(pair.higher)} − ${label(pair.lower)}: ${ci}, ${verdict}.`);
  }
  return lines;
}
