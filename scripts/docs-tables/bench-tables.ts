import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, at, numberAt, objectAt, readJson, type JsonSource } from './read-json.ts';

/**
 * Tables of the benchmarks' JSON (`npm run bench:core`, `bench:aggregator`, `bench:train`; the
 * benchmark scripts in bench/ define the fields). Each reads only the fields it shows and fails
 * naming the field when one is missing; optional parts (NumPy, PyTorch, the stock profile) show
 * as "–" when the run skipped them.
 */

/** Best-of-rounds milliseconds of one side, or null when the side was skipped. */
function bestMs(source: JsonSource, side: string, what: string): number | null {
  const value = at(source.value, [side, `${what}_ms`]);
  return Array.isArray(value) && value.length > 0 ? Math.min(...(value as number[])) : null;
}

function optionalNumber(source: JsonSource, keys: readonly (string | number)[]): number | null {
  const value = at(source.value, keys);
  return typeof value === 'number' ? value : null;
}

function times(value: number | null, digits = 2): string {
  return value === null ? '–' : `${fixed(value, digits)}×`;
}

function load(values: unknown): string {
  return Array.isArray(values) ? values.map((v) => fixed(v as number, 1)).join(' / ') : '–';
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
      `${load(at(source.value, ['machine', 'loadavg_after']))} on ${numberAt(source, ['machine', 'cpus'])} CPUs.`,
  ].join('\n');
}

/** Aggregator ingest against a bare grpc-js service: rounds, throughput, CPU, peak RSS and the targets. */
export function benchAggregator(path: string): string {
  const source = readJson(path);
  const rounds = arrayAt(source, ['rounds']).map((_, i) => [
    String(i + 1),
    `${fixed(numberAt(source, ['rounds', i, 'aggregatorSeconds']), 2)} s`,
    `${fixed(numberAt(source, ['rounds', i, 'rawSeconds']), 2)} s`,
    fixed(numberAt(source, ['rounds', i, 'ratio']), 3),
  ]);
  const cpu = (side: string): string =>
    ['eventLoop', 'allThreads', 'clients'].map((key) => fixed(numberAt(source, [side, 'cpuSeconds', key]), 2)).join(' / ');
  const sides = markdownTable(
    ['', 'aggregator', 'raw grpc-js'],
    [
      ['MB/s', fixed(numberAt(source, ['aggregator', 'MBps']), 1), fixed(numberAt(source, ['rawGrpc', 'MBps']), 1)],
      ['rows/s', numberAt(source, ['aggregator', 'rowsPerSecond']).toLocaleString('en-US'), numberAt(source, ['rawGrpc', 'rowsPerSecond']).toLocaleString('en-US')],
      ['CPU-s: event loop / all threads / clients', cpu('aggregator'), cpu('rawGrpc')],
      ['peak RSS', `${fixed(numberAt(source, ['aggregator', 'peakRssMB']), 0)} MB (merged state ${fixed(numberAt(source, ['aggregator', 'mergedStateMB']), 1)} MB)`, '–'],
    ],
    [1, 2],
  );
  const met = (key: string): string => (at(source.value, ['targets', key, 'met']) === true ? 'met' : 'not met');
  const targets = markdownTable(
    ['target', 'measured', ''],
    [
      [`throughput ≥ ${numberAt(source, ['targets', 'throughputRatio', 'target'])}× raw grpc-js`, `${fixed(numberAt(source, ['ratioToRawGrpc']), 3)}×`, met('throughputRatio')],
      [`peak RSS ≤ ${fixed(numberAt(source, ['targets', 'peakRss', 'targetMB']), 0)} MB`, `${fixed(numberAt(source, ['aggregator', 'peakRssMB']), 0)} MB`, met('peakRss')],
    ],
  );
  const setup =
    `${numberAt(source, ['rows']).toLocaleString('en-US')} rows × ${numberAt(source, ['cols']).toLocaleString('en-US')} float32 from ${numberAt(source, ['nodes'])} streams, ` +
    `chunks of ${numberAt(source, ['chunkRows'])} rows, durability ${String(at(source.value, ['durability']))}; load average at the end ${load(at(source.value, ['loadAverage']))}.`;
  return [markdownTable(['round', 'aggregator', 'raw grpc-js', 'ratio'], rounds, [1, 2, 3]), '', sides, '', targets, '', setup].join('\n');
}

/** Training throughput of the node's VanillaCNN on tfjs against PyTorch, per round and the medians. */
export function benchTrain(path: string): string {
  const source = readJson(path);
  const round = (i: number, key: string): string => fixed(optionalNumber(source, ['rounds', i, key]), 1);
  const rows = arrayAt(source, ['rounds']).map((_, i) => [
    String(i + 1),
    `${round(i, 'tfjsImagesPerSecond')} (${round(i, 'tfjsImagesPerCpuSecond')})`,
    round(i, 'torch1ImagesPerSecond'),
    round(i, 'torch2ImagesPerSecond'),
    `${fixed(optionalNumber(source, ['rounds', i, 'tfjsOverTorch1Thread']), 3)} (${fixed(optionalNumber(source, ['rounds', i, 'tfjsOverTorch1ThreadCpu']), 3)})`,
  ]);
  const backend = `tfjs ${String(at(source.value, ['tfjs', 'backend']))}, ${numberAt(source, ['tfjs', 'threads'])} thread(s): images/s (per CPU-s)`;
  const table = markdownTable(['round', backend, 'PyTorch, 1 thread', 'PyTorch, 2 threads', 'tfjs / PyTorch 1 thread: wall (CPU)'], rows, [1, 2, 3, 4]);
  const ratio = (key: string): string => fixed(optionalNumber(source, ['ratios', key]), 3);
  return [
    table,
    '',
    `Medians over rounds: tfjs / PyTorch on 1 thread **${ratio('tfjsOverTorch1Thread')}** (per CPU-second ${ratio('tfjsOverTorch1ThreadCpu')}), ` +
      `on 2 threads ${ratio('tfjsOverTorch2Threads')}; target ${ratio('target')}. Batch ${numberAt(source, ['batch'])}, ` +
      `${numberAt(source, ['steps'])} steps per round after ${numberAt(source, ['warmup'])} warm-up; load average before / after ` +
      `${load(at(source.value, ['machine', 'loadavgBefore']))}, ${load(at(source.value, ['machine', 'loadavgAfter']))}.`,
  ].join('\n');
}

/** CPU milliseconds per training step in each tfjs kernel, with the project's kernels and with the stock ones. */
export function benchTrainKernels(path: string): string {
  const source = readJson(path);
  const ours = objectAt(source, ['tfjs', 'kernelMsPerStep', 'msPerStep']);
  const stock = at(source.value, ['tfjs', 'stockKernelMsPerStep', 'msPerStep']) as Record<string, number> | undefined;
  const names = Object.keys(ours).filter((name) => (ours[name] as number) >= 1 || (stock?.[name] ?? 0) >= 1);
  const rows = names.map((name) => [`\`${name}\``, fixed(ours[name] as number, 1), stock ? fixed(stock[name], 1) : '–']);
  rows.push(['total', fixed(numberAt(source, ['tfjs', 'kernelMsPerStep', 'totalMs']), 1), stock ? fixed(optionalNumber(source, ['tfjs', 'stockKernelMsPerStep', 'totalMs']), 1) : '–']);
  const skipped = at(source.value, ['tfjs', 'stockKernelMsPerStep', 'skipped']);
  const table = markdownTable(['kernel (≥ 1 ms per step)', "project's kernels, ms per step", 'stock kernels, ms per step'], rows, [1, 2]);
  return typeof skipped === 'string' ? `${table}\n\nStock profile skipped: ${skipped}.` : table;
}
