import { load, machineLine, optionalNumber, times } from './bench-format.ts';
import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, at, numberAt, objectAt, readJson, type JsonSource } from './read-json.ts';

/**
 * Tables of the core's and the aggregator's benchmark JSON (`npm run bench:core`,
 * `bench:aggregator`; the benchmark scripts in bench/ define the fields; training and embedding:
 * train-tables.ts, embed-tables.ts). Each reads only the fields it shows and fails naming the field
 * when one is missing; optional parts (NumPy, fields of later versions of a benchmark) show as "–".
 */

/** Best-of-rounds milliseconds of one side, or null when the side was skipped. */
function bestMs(source: JsonSource, side: string, what: string): number | null {
  const value = at(source.value, [side, `${what}_ms`]);
  return Array.isArray(value) && value.length > 0 ? Math.min(...(value as number[])) : null;
}

/** Core: relative projection and linear CKA, the project's kernels against NumPy, best of the rounds. */
export function benchCore(path: string): string {
  const source = readJson(path);
  objectAt(source, ['project']);
  const project = `project (${String(at(source.value, ['project', 'linalg']))}, ${numberAt(source, ['project', 'threads'])} threads)`;
  const blas = at(source.value, ['numpy', 'blas']) as Record<string, unknown> | undefined;
  const numpy = blas ? `NumPy ${String(blas['numpy'])} (${String(blas['library'])} ${String(blas['core'] ?? '')}, ${String(blas['threads'])} threads)` : 'NumPy (skipped)';
  const rows = (['relative', 'cka'] as const).map((what) => {
    const ours = bestMs(source, 'project', what);
    const theirs = bestMs(source, 'numpy', what);
    const gflops = (side: string): string => {
      const value = optionalNumber(source, ['gflops', side, what]);
      return value === null ? '' : ` (${value} GFLOP/s)`;
    };
    return [
      what === 'relative' ? 'relative projection (cosine)' : 'linear CKA',
      ours === null ? '–' : `${fixed(ours, 1)} ms${gflops('project')}`,
      theirs === null ? '–' : `${fixed(theirs, 1)} ms${gflops('numpy')}`,
      `${times(optionalNumber(source, ['ratio_project_over_numpy', what]))} (${times(optionalNumber(source, ['ratio_cpu_time_project_over_numpy', what]))})`,
    ];
  });
  const shapes = `N = ${numberAt(source, ['shapes', 'n']).toLocaleString('en-US')}, D = ${numberAt(source, ['shapes', 'd'])}, A = ${numberAt(source, ['shapes', 'anchors']).toLocaleString('en-US')}`;
  const table = markdownTable([shapes, project, numpy, 'ratio, wall (CPU time)'], rows, [1, 2, 3]);
  const target = optionalNumber(source, ['ratio_project_over_numpy', 'target']);
  const agreement = optionalNumber(source, ['agreement', 'cka_abs_diff']);
  return [
    table,
    '',
    `Target: the project within ${target ?? '–'}× of NumPy. CKA differs from NumPy's by ${agreement === null ? '–' : agreement.toExponential(1)}. ` +
      `${numberAt(source, ['repeats'])} rounds; load average before / after: ${load(at(source.value, ['machine', 'loadavg_before']))}, ` +
      `${load(at(source.value, ['machine', 'loadavg_after']))}. Machine: ${machineLine(source)}.`,
  ].join('\n');
}

/**
 * Aggregator ingest against a bare grpc-js service: rounds, throughput, CPU (seconds, and per MB
 * of values), peak RSS, the targets and the machine. Fields that later versions of the benchmark
 * added (per-round CPU ratio, CPU per MB, health latencies, `machine`) show as "–" or "not
 * recorded" in a JSON written before them; every other field is required.
 */
export function benchAggregator(path: string): string {
  const source = readJson(path);
  const rounds = arrayAt(source, ['rounds']).map((_, i) => [
    String(i + 1),
    `${fixed(numberAt(source, ['rounds', i, 'aggregatorSeconds']), 2)} s`,
    `${fixed(numberAt(source, ['rounds', i, 'rawSeconds']), 2)} s`,
    fixed(numberAt(source, ['rounds', i, 'ratio']), 3),
    fixed(optionalNumber(source, ['rounds', i, 'cpuRatio']), 3),
  ]);
  const cpu = (side: string, unit: 'cpuSeconds' | 'cpuSecondsPerMB'): string => {
    if (unit === 'cpuSecondsPerMB' && at(source.value, [side, unit]) === undefined) return '–';
    const digits = unit === 'cpuSeconds' ? 2 : 5;
    return ['eventLoop', 'allThreads', 'clients'].map((key) => fixed(numberAt(source, [side, unit, key]), digits)).join(' / ');
  };
  const sides = markdownTable(
    ['', 'aggregator', 'raw grpc-js'],
    [
      ['MB/s', fixed(numberAt(source, ['aggregator', 'MBps']), 1), fixed(numberAt(source, ['rawGrpc', 'MBps']), 1)],
      ['rows/s', numberAt(source, ['aggregator', 'rowsPerSecond']).toLocaleString('en-US'), numberAt(source, ['rawGrpc', 'rowsPerSecond']).toLocaleString('en-US')],
      ['CPU-s: event loop / all threads / clients', cpu('aggregator', 'cpuSeconds'), cpu('rawGrpc', 'cpuSeconds')],
      ['CPU-s per MB: event loop / all threads / clients', cpu('aggregator', 'cpuSecondsPerMB'), cpu('rawGrpc', 'cpuSecondsPerMB')],
      ['peak RSS', `${fixed(numberAt(source, ['aggregator', 'peakRssMB']), 0)} MB (merged state ${fixed(numberAt(source, ['aggregator', 'mergedStateMB']), 1)} MB)`, '–'],
      ...firstRead(source),
      ...healthDuringUpload(source),
    ],
    [1, 2],
  );
  const met = (keys: readonly string[]): string => (at(source.value, ['targets', ...keys]) === true ? 'met' : 'not met');
  const targetRows = [
    // The target is judged on the median of the rounds' ratios where the JSON has it (the ratio of the mean times before).
    [
      `throughput ≥ ${numberAt(source, ['targets', 'throughputRatio', 'target'])}× raw grpc-js (${optionalNumber(source, ['medianRatioToRawGrpc']) === null ? 'mean times' : 'median of rounds'})`,
      `${fixed(optionalNumber(source, ['medianRatioToRawGrpc']) ?? numberAt(source, ['ratioToRawGrpc']), 3)}×`,
      met(['throughputRatio', 'met']),
    ],
    [`peak RSS ≤ ${fixed(numberAt(source, ['targets', 'peakRss', 'targetMB']), 0)} MB`, `${fixed(numberAt(source, ['aggregator', 'peakRssMB']), 0)} MB`, met(['peakRss', 'met'])],
  ];
  const healthTarget = optionalNumber(source, ['targets', 'healthP99', 'targetMs']);
  if (healthTarget !== null) {
    const phases = [
      ['upload', 'duringUpload', 'healthDuringUpload'],
      ['Evaluate', 'duringEvaluate', 'healthDuringEvaluate'],
    ] as const;
    for (const [during, targetKey, latencyKey] of phases) {
      const p99 = numberAt(source, ['aggregator', latencyKey, 'p99Ms']);
      targetRows.push([`health Check p99 < ${healthTarget} ms during ${during} (main port)`, `${fixed(p99, 1)} ms`, met(['healthP99', targetKey])]);
    }
    // --health-port, served by a thread of its own (JSON from before it was measured has none).
    const portPhases = [
      ['upload', 'healthPortDuringUpload'],
      ['Evaluate', 'healthPortDuringEvaluate'],
    ] as const;
    for (const [during, key] of portPhases) {
      const p99 = optionalNumber(source, ['aggregator', key, 'p99Ms']);
      if (p99 !== null) targetRows.push([`health Check p99 < ${healthTarget} ms during ${during} (--health-port)`, `${fixed(p99, 1)} ms`, met(['healthP99', key])]);
    }
  }
  const machine = at(source.value, ['machine']) === undefined ? 'not recorded (a run from before the benchmark recorded it)' : machineLine(source);
  const setup =
    `${numberAt(source, ['rows']).toLocaleString('en-US')} rows × ${numberAt(source, ['cols']).toLocaleString('en-US')} float32 from ${numberAt(source, ['nodes'])} streams, ` +
    `chunks of ${numberAt(source, ['chunkRows'])} rows, durability ${String(at(source.value, ['durability']))}; load average at the end ${load(at(source.value, ['loadAverage']))}. ` +
    `Machine: ${machine}.`;
  const roundTable = markdownTable(['round', 'aggregator', 'raw grpc-js', 'ratio', 'CPU ratio (server threads, raw / aggregator)'], rounds, [1, 2, 3, 4]);
  return [roundTable, '', sides, '', markdownTable(['target', 'measured', ''], targetRows), '', setup].join('\n');
}

/**
 * Health checks on the main port during the upload, the aggregator's and raw grpc-js's side by
 * side (p50 / p99 / max and how many checks: pooled over the rounds where the JSON says so), where
 * the JSON has the raw side's.
 */
function healthDuringUpload(source: JsonSource): string[][] {
  if (at(source.value, ['rawGrpc', 'healthDuringUpload']) === undefined) return [];
  const latencies = (side: string): string => {
    const value = (key: string): string => fixed(numberAt(source, [side, 'healthDuringUpload', key]), 1);
    const checks = numberAt(source, [side, 'healthDuringUpload', 'checks']);
    const rounds = optionalNumber(source, [side, 'healthDuringUpload', 'rounds']);
    return `${value('p50Ms')} / ${value('p99Ms')} / ${value('maxMs')} ms (${checks} checks${rounds === null ? ', the worst round' : ` in ${rounds} rounds`})`;
  };
  return [['health Check during the upload, main port: p50 / p99 / max', latencies('aggregator'), latencies('rawGrpc')]];
}

/** The first read after the upload (it waits for the merge, which trails the commits), where the JSON has it. */
function firstRead(source: JsonSource): string[][] {
  const seconds = optionalNumber(source, ['aggregator', 'firstReadAfterUploadSeconds']);
  return seconds === null ? [] : [['first read after the upload (waits for the merge)', `${fixed(seconds, 2)} s`, '–']];
}
