import { cpuMs, load, optionalNumber } from './bench-format.ts';
import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, at, numberAt, objectAt, readJson, stringAt, type JsonSource } from './read-json.ts';

/**
 * The table of `npm run bench:embed` (bench/embed-bench.ts defines the fields): a party's image
 * folder decoded, resized and embedded by an ONNX encoder in TypeScript against PyTorch, per thread
 * count. PyTorch's fields show as "–" when the run skipped it (`--no-torch`); any other missing
 * field fails naming it.
 */

/** Decimals of CPU-ms per image: the benchmark rounds CPU-seconds per image to 4. */
const CPU_MS_DIGITS = 1;

/** The machine as the embedding benchmark records it: CPU model, cores and the SIMD flags of /proc/cpuinfo. */
function embedMachine(source: JsonSource): string {
  const flags = arrayAt(source, ['machine', 'simd']).map(String);
  return `${stringAt(source, ['machine', 'cpu'])}, ${numberAt(source, ['machine', 'cpus'])} CPUs, SIMD flags ${flags.length === 0 ? 'none' : flags.join(' ')}`;
}

/** One thread count's row: both sides' images/s and CPU-ms per image, the ratios by round and their median, peak RSS. */
function threadsRow(source: JsonSource, key: string): string[] {
  const ts = ['results', key, 'typescript'];
  const py = ['results', key, 'pytorch'];
  const byRound = at(source.value, ['results', key, 'ratioImagesPerSecondByRound']);
  const bound = numberAt(source, ['setup', 'peakRssBoundMb']);
  const within = at(source.value, [...ts, 'peakRssWithinBound']) === true ? `≤ ${bound}` : `**over ${bound}**`;
  return [
    key.replace(/^threads/, ''),
    fixed(numberAt(source, [...ts, 'imagesPerSecond']), 1),
    cpuMs(numberAt(source, [...ts, 'cpuSecondsPerImage']), CPU_MS_DIGITS),
    fixed(optionalNumber(source, [...py, 'imagesPerSecond']), 1),
    cpuMs(optionalNumber(source, [...py, 'cpuSecondsPerImage']), CPU_MS_DIGITS),
    Array.isArray(byRound) ? byRound.map((r) => fixed(r as number, 3)).join(', ') : '–',
    `**${fixed(optionalNumber(source, ['results', key, 'ratioImagesPerSecondMedianOfRounds']), 3)}**`,
    fixed(optionalNumber(source, ['results', key, 'ratioCpuSecondsPerImage']), 3),
    `${fixed(numberAt(source, [...ts, 'peakRssMb']), 0)} / ${fixed(numberAt(source, [...ts, 'peakRssMbSmallFolder']), 0)} MB (${within})`,
  ];
}

/**
 * Embedding throughput per thread count (images/s; CPU milliseconds per image, all threads of the
 * process), the TypeScript side over PyTorch by round and their median, CPU-time ratio, the peak
 * RSS on the large and the small folder against the stated bound, then the setup, model and machine.
 */
export function benchEmbed(path: string): string {
  const source = readJson(path);
  const keys = Object.keys(objectAt(source, ['results']));
  const header = [
    'threads',
    'TypeScript images/s',
    'TypeScript CPU-ms per image',
    'PyTorch images/s',
    'PyTorch CPU-ms per image',
    'TypeScript / PyTorch by round',
    'median',
    'ratio per CPU-s',
    'TypeScript peak RSS: large / small folder',
  ];
  const setup = (key: string): number => numberAt(source, ['setup', key]);
  const versions = ['onnxruntime', 'sharp', 'libvips'].map((name) => `${name} ${stringAt(source, ['versions', name])}`).join(', ');
  return [
    markdownTable(header, keys.map((key) => threadsRow(source, key)), [1, 2, 3, 4, 5, 6, 7, 8]),
    '',
    `${setup('images').toLocaleString('en-US')} images (the small folder ${setup('smallFolderImages').toLocaleString('en-US')}) resized to ${setup('size')}×${setup('size')} ` +
      `(${stringAt(source, ['setup', 'resize'])}), batches of ${setup('batch')}, prefetch ${setup('prefetch')}, ${setup('rounds')} rounds; ` +
      `model ${stringAt(source, ['model', 'file'])} (ONNX against PyTorch: max |difference| ${numberAt(source, ['model', 'onnxVsTorchMaxAbsDiff']).toExponential(1)}); ${versions}. ` +
      `Load average before / after: ${load(at(source.value, ['loadAverage', 'before']))}, ${load(at(source.value, ['loadAverage', 'after']))}. ` +
      `Machine: ${embedMachine(source)}.`,
  ].join('\n');
}
