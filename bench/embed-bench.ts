/**
 * `npm run bench:embed`: images per second of a party's whole embedding path — an image folder
 * scanned (content ids), decoded and resized by sharp (`cover`, lanczos3, 224×224), normalised
 * and embedded by ResNet-18 (random weights) in ONNX Runtime — against PyTorch doing the same
 * (PIL decode and the same resize rule, the same model and weights, torch.set_num_threads) in
 * the same run, on one and on two threads. Prints one JSON object.
 *
 *   npm run bench:embed -- [--images 2000] [--small 500] [--rounds 2] [--threads 1,2] [--size 224]
 *                          [--batch 32] [--prefetch 0] [--work DIR] [--no-torch] [--out FILE]
 *
 * Threads: each side gets T threads for decoding (libuv's pool with sharp at one libvips thread
 * per image; a pool of T Python threads) and T for the model (ONNX Runtime's intra-op pool;
 * PyTorch's), one after the other for each batch (`--prefetch 0`; 1 overlaps decoding with the
 * model, using up to 2T cores). Each measurement is its own process (its peak RSS and CPU time
 * are its own); rounds alternate the two sides so each ratio compares runs made under the same
 * load. Peak RSS is also measured on a second folder of `--small` images: streaming keeps it
 * independent of the folder's size. Images, the model and PyTorch's reference outputs are made by
 * bench/embed_torch.py (Debian's python3-torch and python3-torchvision) and kept in --work.
 * A benchmark, not a test: numbers depend on the machine's load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readNpy } from '@rlsa/npy';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * The stated bound on the TypeScript side's peak RSS, whatever the folder's size: Node and V8,
 * libvips, ResNet-18's weights (45 MB) and ONNX Runtime's arena for a batch of 32 activations at
 * 224×224 (a few hundred MB). It grows with --batch and --size, not with --images.
 */
const PEAK_RSS_BOUND_MB = 700;
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = path.join(HERE, 'embed_torch.py');

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    small: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1,2' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '32' },
    prefetch: { type: 'string', default: '0' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'rlsa-embed-bench') },
    'no-torch': { type: 'boolean', default: false },
    out: { type: 'string' },
    // Internal: one measurement of the TypeScript side, in a child process.
    measure: { type: 'boolean', default: false },
    dir: { type: 'string' },
    model: { type: 'string' },
  },
});

/** One side's run over one folder on T threads. */
interface Measurement {
  images: number;
  threads: number;
  seconds: number;
  imagesPerSecond: number;
  cpuSecondsPerImage: number;
  peakRssMb: number;
  /** Sum of every embedding value (the two sides decode slightly differently: close, not equal). */
  checksum: number;
  /** TypeScript only: seconds of the folder scan (reading and hashing every file, reading headers). */
  scanSeconds?: number;
}

/** The TypeScript side, in its own process (`--measure`): what a node does with `--data imagefolder:DIR --model onnx:FILE`. */
async function measure(): Promise<void> {
  const { openImageFolder, parseResizeRule } = await import('@rlsa/sources');
  const { openModelEncoder } = await import('@rlsa/encoders');
  const sharp = (await import('sharp')).default;
  // One libvips thread per image: parallelism comes from libuv's pool (UV_THREADPOOL_SIZE = T).
  sharp.concurrency(1);
  const threads = Number(args.threads);
  const size = Number(args.size);
  const batchSize = Number(args.batch);
  const encoder = await openModelEncoder({ kind: 'onnx', location: args.model! }, { input: { kind: 'image', height: size, width: size, channels: 3 }, threads, batchSize });
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = await openImageFolder(args.dir!, { resize: parseResizeRule(`${size}x${size}`, 'cover', 'lanczos3'), holdoutFraction: 0, concurrency: 2 * threads });
  const scanSeconds = (performance.now() - wall0) / 1000;
  let checksum = 0;
  for await (const batch of source.train.batches(batchSize, { prefetch: Number(args.prefetch) })) {
    for (const v of await encoder.embed(batch)) checksum += v;
  }
  const seconds = (performance.now() - wall0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const images = source.train.count;
  const result: Measurement = {
    images,
    threads,
    seconds,
    imagesPerSecond: images / seconds,
    cpuSecondsPerImage: (cpu.user + cpu.system) / 1e6 / images,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    checksum,
    scanSeconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function python(args: string[]): unknown {
  const out = execFileSync(PYTHON, [TORCH_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function runTypescript(dir: string, model: string, threads: number): Measurement {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', '--dir', dir, '--model', model, '--threads', String(threads), '--size', args.size!, '--batch', args.batch!, '--prefetch', args.prefetch!],
    { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) }, maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`the TypeScript measurement failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

function runTorch(dir: string, threads: number): Measurement {
  return python(['run', '--dir', dir, '--threads', String(threads), '--size', args.size!, '--batch', args.batch!]) as Measurement;
}

/** The generated folder of `count` images (made once, kept in the work folder). */
function imageFolder(work: string, count: number, seed: number): string {
  const dir = path.join(work, `images-${count}-seed${seed}`);
  const done = path.join(dir, '.complete');
  if (!existsSync(done)) {
    python(['images', '--out', dir, '--count', String(count), '--seed', String(seed)]);
    writeFileSync(done, String(count));
  }
  return dir;
}

/** ResNet-18 exported once, and the largest difference between ONNX Runtime's and PyTorch's embeddings of a seeded input. */
async function exportedModel(work: string): Promise<{ file: string; maxAbsDiff: number }> {
  const file = path.join(work, `resnet18-${args.size}.onnx`);
  if (!existsSync(`${file}.check-output.npy`)) python(['export', '--out', file, '--size', args.size!]);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const input = readNpy(`${file}.check-input.npy`);
  const expected = readNpy(`${file}.check-output.npy`).data as Float32Array;
  const output = await session.run({ pixels: new ort.Tensor('float32', input.data as Float32Array, input.shape as number[]) });
  const actual = output['embedding']!.data as Float32Array;
  await session.release();
  return { file, maxAbsDiff: Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!))) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function summary(runs: Measurement[]): Record<string, number> {
  return {
    imagesPerSecond: round(median(runs.map((r) => r.imagesPerSecond))),
    cpuSecondsPerImage: round(median(runs.map((r) => r.cpuSecondsPerImage)), 4),
    peakRssMb: round(Math.max(...runs.map((r) => r.peakRssMb)), 1),
  };
}

function machine(): Record<string, unknown> {
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
  return {
    cpu: os.cpus()[0]?.model,
    cpus: os.cpus().length,
    simd: ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16'].filter((f) => flags.includes(f)),
    node: process.version,
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const work = args.work!;
  const threadCounts = args.threads!.split(',').map(Number);
  const rounds = Math.max(1, Number(args.rounds));
  const big = imageFolder(work, Number(args.images), 1);
  const small = imageFolder(work, Number(args.small), 2);
  const model = await exportedModel(work);
  const torch = !args['no-torch'];
  const ts: Record<number, Measurement[]> = {};
  const py: Record<number, Measurement[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const threads of threadCounts) {
      (ts[threads] ??= []).push(runTypescript(big, model.file, threads));
      if (torch) (py[threads] ??= []).push(runTorch(big, threads));
      const last = (runs: Measurement[] | undefined) => (runs === undefined ? '-' : runs[runs.length - 1]!.imagesPerSecond.toFixed(2));
      process.stderr.write(`round ${round + 1}/${rounds}, ${threads} thread(s): typescript ${last(ts[threads])} images/s, pytorch ${last(py[threads])}\n`);
    }
  }
  const smallRuns = threadCounts.map((threads) => runTypescript(small, model.file, threads));
  const byThreads = Object.fromEntries(
    threadCounts.map((threads, k) => {
      const mine = summary(ts[threads]!);
      const theirs = torch ? summary(py[threads]!) : undefined;
      return [
        `threads${threads}`,
        {
          typescript: {
            ...mine,
            peakRssMbSmallFolder: round(smallRuns[k]!.peakRssMb, 1),
            peakRssGrowthMb: round(mine['peakRssMb']! - smallRuns[k]!.peakRssMb, 1),
            peakRssWithinBound: Math.max(mine['peakRssMb']!, smallRuns[k]!.peakRssMb) <= PEAK_RSS_BOUND_MB,
            scanSecondsMedian: round(median(ts[threads]!.map((r) => r.scanSeconds ?? 0))),
          },
          pytorch: theirs,
          ratioImagesPerSecond: theirs === undefined ? undefined : round(mine['imagesPerSecond']! / theirs['imagesPerSecond']!),
          // Each round's own ratio (its two runs were made back to back, under the same load), and their median.
          ratioImagesPerSecondByRound: torch ? ts[threads]!.map((r, i) => round(r.imagesPerSecond / py[threads]![i]!.imagesPerSecond)) : undefined,
          ratioImagesPerSecondMedianOfRounds: torch ? round(median(ts[threads]!.map((r, i) => r.imagesPerSecond / py[threads]![i]!.imagesPerSecond))) : undefined,
          ratioCpuSecondsPerImage: theirs === undefined ? undefined : round(theirs['cpuSecondsPerImage']! / mine['cpuSecondsPerImage']!),
          rounds: { typescript: ts[threads], pytorch: torch ? py[threads] : undefined },
        },
      ];
    }),
  );
  const ort = await import('onnxruntime-node');
  const sharp = (await import('sharp')).default;
  const result = {
    benchmark: 'embed',
    machine: machine(),
    loadAverage: { before: loadBefore.map((v) => round(v, 2)), after: os.loadavg().map((v) => round(v, 2)) },
    versions: { onnxruntime: ort.env.versions.node, sharp: sharp.versions.sharp, libvips: sharp.versions.vips },
    setup: { images: Number(args.images), smallFolderImages: Number(args.small), peakRssBoundMb: PEAK_RSS_BOUND_MB, size: Number(args.size), batch: Number(args.batch), prefetch: Number(args.prefetch), rounds, resize: 'cover lanczos3' },
    model: { file: path.basename(model.file), onnxVsTorchMaxAbsDiff: model.maxAbsDiff },
    results: byThreads,
  };
  const text = JSON.stringify(result, null, 2);
  if (args.out !== undefined) writeFileSync(args.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
}

await (args.measure ? measure() : main());
