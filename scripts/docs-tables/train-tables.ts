import { cpuMs, load, machineLine, met, optionalNumber } from './bench-format.ts';
import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, at, numberAt, objectAt, readJson, stringAt, type JsonSource } from './read-json.ts';

/**
 * Tables of `npm run bench:train` (bench/train-bench.ts defines the fields): the node's VanillaCNN
 * training on tfjs (the project's native kernels on the wasm backend, else its wasm SIMD kernels)
 * against PyTorch, one thread against one and two against two. PyTorch's fields and the profiles
 * a run skipped show as "–"; any other missing field fails naming it.
 */

const THREADS = [1, 2] as const;
/** Decimals of CPU-ms per image: the benchmark rounds CPU-seconds per image to 6. */
const CPU_MS_DIGITS = 3;

/** `The project's native kernels (avx512, 11 kernels) on the wasm backend`, or why they were off. */
function nativeSummary(source: JsonSource): string {
  if (at(source.value, ['tfjs', 'native', 'active']) !== true) {
    return `Native kernels off (${stringAt(source, ['tfjs', 'native', 'reason'])}): the project's wasm SIMD kernels, one thread`;
  }
  const kernels = arrayAt(source, ['tfjs', 'native', 'kernels']).length;
  return `The project's native kernels (${stringAt(source, ['tfjs', 'native', 'simd'])}, ${kernels} kernels) on the ${stringAt(source, ['tfjs', 'backend'])} backend`;
}

/** One row of the throughput table: images/s and CPU-ms per image of each side, and the ratios. */
function throughputRow(label: string, threads: number, project: readonly [number, number], torch: readonly [number | null, number | null], ratios: readonly [number | null, number | null], loadavg: string): string[] {
  return [label, String(threads), fixed(project[0], 1), cpuMs(project[1], CPU_MS_DIGITS), fixed(torch[0], 1), cpuMs(torch[1], CPU_MS_DIGITS), `${fixed(ratios[0], 3)} (${fixed(ratios[1], 3)})`, loadavg];
}

/**
 * Training throughput per round and thread count, then the medians over rounds (images/s; CPU
 * milliseconds per image, all threads of the process; the project over PyTorch, wall clock and per
 * CPU-second), the target and the machine.
 */
export function benchTrain(path: string): string {
  const source = readJson(path);
  const rows = arrayAt(source, ['rounds']).flatMap((_, i) =>
    THREADS.map((t) => {
      const side = ['rounds', i, `threads${t}`];
      return throughputRow(
        String(i + 1),
        t,
        [numberAt(source, [...side, 'tfjsImagesPerSecond']), numberAt(source, [...side, 'tfjsCpuSecondsPerImage'])],
        [optionalNumber(source, [...side, 'torchImagesPerSecond']), optionalNumber(source, [...side, 'torchCpuSecondsPerImage'])],
        [optionalNumber(source, [...side, 'tfjsOverTorch']), optionalNumber(source, [...side, 'tfjsOverTorchCpu'])],
        fixed(numberAt(source, ['rounds', i, 'loadavg1m']), 2),
      );
    }),
  );
  const ratioKey = (t: number): string => (t === 1 ? 'tfjsOverTorch1Thread' : 'tfjsOverTorch2Threads');
  for (const t of THREADS) {
    rows.push(
      throughputRow(
        'median',
        t,
        [numberAt(source, ['tfjs', `threads${t}`, 'imagesPerSecond']), numberAt(source, ['tfjs', `threads${t}`, 'cpuSecondsPerImage'])],
        [optionalNumber(source, ['torch', `threads${t}`, 'imagesPerSecond']), optionalNumber(source, ['torch', `threads${t}`, 'cpuSecondsPerImage'])],
        [optionalNumber(source, ['ratios', ratioKey(t)]), optionalNumber(source, ['ratios', `${ratioKey(t)}Cpu`])],
        '',
      ),
    );
  }
  const header = ['round', 'threads', 'project images/s', 'project CPU-ms per image', 'PyTorch images/s', 'PyTorch CPU-ms per image', 'project / PyTorch: wall (per CPU-s)', 'load (1 min)'];
  const target = numberAt(source, ['ratios', 'target']);
  const ratio = (t: number): number | null => optionalNumber(source, ['ratios', ratioKey(t)]);
  const verdict = (value: number | null): string => (value === null ? '–' : `${fixed(value, 3)}× (${met(value, target)})`);
  const torchSkipped = at(source.value, ['torch', 'skipped']);
  const note = at(source.value, ['tfjs', 'threadsNote']);
  return [
    markdownTable(header, rows, [2, 3, 4, 5, 6, 7]),
    '',
    `Target: the project ≥ ${fixed(target, 1)}× PyTorch, median over rounds: on 1 thread ${verdict(ratio(1))}, on 2 threads ${verdict(ratio(2))}.` +
      (typeof torchSkipped === 'string' ? ` PyTorch skipped: ${torchSkipped}.` : '') +
      (typeof note === 'string' ? ` Note: ${note}.` : ''),
    '',
    `${nativeSummary(source)}. Batch ${numberAt(source, ['batch'])}, ${numberAt(source, ['steps'])} steps per measurement after ${numberAt(source, ['warmup'])} warm-up; ` +
      `load average before / after ${load(at(source.value, ['machine', 'loadavgBefore']))}, ${load(at(source.value, ['machine', 'loadavgAfter']))}. ` +
      `Machine: ${machineLine(source)}.`,
  ].join('\n');
}

/** A kernel profile's milliseconds per step, or the reason the run skipped it. */
function profile(source: JsonSource, key: string): Record<string, unknown> | string {
  const skipped = at(source.value, ['tfjs', key, 'skipped']);
  return typeof skipped === 'string' ? skipped : objectAt(source, ['tfjs', key, 'msPerStep']);
}

/**
 * CPU milliseconds per training step (one thread) in each tfjs kernel: the kernels the node trains
 * on (native, or the project's wasm kernels when the native ones are off), the project's wasm SIMD
 * kernels alone, and the stock wasm kernels. Kernels of at least 1 ms in some profile, in the order
 * of the first profile; a skipped profile is a column of "–" and a line saying why.
 */
export function benchTrainKernels(path: string): string {
  const source = readJson(path);
  const nativeActive = at(source.value, ['tfjs', 'native', 'active']) === true;
  const profiles = [
    { key: 'kernelMsPerStep', title: nativeActive ? `native kernels (${stringAt(source, ['tfjs', 'native', 'simd'])})` : "project's wasm kernels" },
    { key: 'wasmKernelMsPerStep', title: "project's wasm SIMD kernels" },
    { key: 'stockKernelMsPerStep', title: 'stock wasm kernels' },
  ].map((p) => ({ ...p, ms: profile(source, p.key) }));
  const measured = profiles.flatMap((p) => (typeof p.ms === 'string' ? [] : [p.ms]));
  const names = [...new Set(measured.flatMap((ms) => Object.keys(ms)))].filter((name) => measured.some((ms) => (ms[name] as number | undefined ?? 0) >= 1));
  const cell = (ms: Record<string, unknown> | string, name: string): string => (typeof ms === 'string' || typeof ms[name] !== 'number' ? '–' : fixed(ms[name], 1));
  const rows = names.map((name) => [`\`${name}\``, ...profiles.map((p) => cell(p.ms, name))]);
  rows.push(['total', ...profiles.map((p) => (typeof p.ms === 'string' ? '–' : fixed(numberAt(source, ['tfjs', p.key, 'totalMs']), 1)))]);
  const table = markdownTable(['kernel (≥ 1 ms per step)', ...profiles.map((p) => `${p.title}, ms per step`)], rows, [1, 2, 3]);
  const skipped = profiles.flatMap((p) => (typeof p.ms === 'string' ? [`${p.title}: ${p.ms}`] : []));
  return skipped.length === 0 ? table : `${table}\n\nSkipped: ${skipped.join('; ')}.`;
}
