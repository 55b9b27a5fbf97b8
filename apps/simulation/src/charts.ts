import type { TopLevelSpec } from 'vega-lite';

/** One bar: `group` on the x axis, `series` (e.g. "ours", "paper") side by side within a group. */
export interface BarDatum {
  readonly group: string;
  readonly series: string;
  readonly value: number;
}

/** One point of a line: the swept value on x, one line per `series`. */
export interface LineDatum {
  readonly x: number | string;
  readonly series: string;
  readonly value: number;
}

/** Grouped bars: one group per `group`, one bar per `series` within it, the value printed on top. */
export function barSpec(title: string, data: readonly BarDatum[], options: { yTitle: string; domain?: [number, number] }): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: { step: 28 },
    height: 200,
    data: { values: data.map((d) => ({ ...d })) },
    encoding: {
      x: { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelAngle: -20 } },
      xOffset: { field: 'series', type: 'nominal', sort: null },
      y: {
        field: 'value',
        type: 'quantitative',
        title: options.yTitle,
        ...(options.domain ? { scale: { domain: options.domain } } : {}),
      },
      color: { field: 'series', type: 'nominal', sort: null, title: null, scale: { range: ['#4c78a8', '#f58518', '#54a24b', '#b279a2'] }, legend: { labelLimit: 260 } },
    },
    layer: [
      { mark: 'bar' },
      {
        mark: { type: 'text', dy: -4, fontSize: 9 },
        encoding: { text: { field: 'value', type: 'quantitative', format: '.2f' } },
      },
    ],
  } as TopLevelSpec;
}

/** Lines of a metric against a swept value (studies): one line per series, points marked. */
export function lineSpec(title: string, data: readonly LineDatum[], options: { xTitle: string; yTitle: string; ordinal?: boolean }): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: 220,
    data: { values: data.map((d) => ({ ...d })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: options.ordinal ? 'ordinal' : 'quantitative', title: options.xTitle, sort: null, axis: { labelAngle: options.ordinal ? -20 : 0 } },
      y: { field: 'value', type: 'quantitative', title: options.yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 260 } },
    },
  } as TopLevelSpec;
}

/** One space's mean over seeds with its interval, and the paper's value where there is one. */
export interface IntervalDatum {
  readonly group: string;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly paper: number | null;
}

/**
 * Means with interval bars (seeds studies): one row per group, the mean as a dot, the interval as a
 * rule, the paper's value (where given) as a diamond.
 */
export function intervalSpec(title: string, data: readonly IntervalDatum[], options: { xTitle: string }): TopLevelSpec {
  const rows = data.map((d) => ({ ...d }));
  const y = { field: 'group', type: 'nominal', title: null, sort: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: { step: 26 },
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#4c78a8', strokeWidth: 2 }, encoding: { y, x: { field: 'low', type: 'quantitative', title: options.xTitle, scale: { zero: false } }, x2: { field: 'high' } } },
      { mark: { type: 'point', filled: true, color: '#4c78a8', size: 50 }, encoding: { y, x: { field: 'mean', type: 'quantitative' } } },
      {
        transform: [{ filter: 'datum.paper !== null' }],
        mark: { type: 'point', shape: 'diamond', filled: true, color: '#f58518', size: 60 },
        encoding: { y, x: { field: 'paper', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}
