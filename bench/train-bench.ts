/**
 * `npm run bench:train`: images per second of one VanillaCNN training step (32×32×3 inputs,
 * batch 128, Adam 1e-3, softmax cross-entropy) on the tfjs backend in use, split by kernel,
 * against PyTorch (Debian's python3-torch, if /usr/bin/python3 can import it) in the same run:
 * the project on one thread against PyTorch on one, and on two against two. Prints one JSON object.
 *
 *   npm run bench:train -- [--steps 20] [--warmup 3] [--batch 128] [--backend auto|node|wasm|cpu]
 *                          [--rounds 3] [--profile-steps 3] [--no-native] [--no-stock] [--no-torch] [--out FILE]
 *
 * Rounds alternate the measurements (the project on 1 thread, PyTorch on 1, the project on 2,
 * PyTorch on 2; `steps` steps each) so that each round's ratios compare runs made within seconds
 * of each other under the same load; the JSON gives every round and the medians, wall-clock and
 * per CPU-second (the CPU time of each process, all its threads: less disturbed by other processes).
 * The project's thread count is that of its native kernels (@rlsa/linalg-native on the wasm
 * backend); without them (not built, or --no-native) the wasm backend runs one thread whatever
 * is asked, and the two-thread rows say so.
 *
 * It also profiles the kernels of one step (CPU milliseconds, one thread): with the native
 * kernels, with the project's wasm kernels only, and (unless --no-stock) with the stock wasm
 * kernels, so the JSON shows each kernel before and after. A benchmark, not a test: numbers depend
 * on the load, which the JSON records.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { nativeTrainingKernels, type NativeTrainingKernels } from '@rlsa/linalg-native';
import {
  initTfjsBackend,
  registerNativeTrainingKernels,
  registerWasmTrainingKernels,
  restoreReplacedByNative,
  restoreStockWasmKernels,
  setSimdKernelsEnabled,
  useFusedSiluGradients,
  useLazyConvInputGradients,
  type BackendPreference,
  type TfjsBackendInfo,
} from '@rlsa/tfjs-kernels';
import { buildModel } from '@rlsa/trainer-node';
import { benchMachine } from './machine.ts';

const FILTERS: [number, number] = [32, 64];
const EMBEDDING = 128;
const CLASSES = 10;
const INPUT: [number, number, number] = [32, 32, 3];
const THREAD_COUNTS = [1, 2] as const;
type Threads = (typeof THREAD_COUNTS)[number];

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '128' },
    backend: { type: 'string', default: 'auto' },
    'profile-steps': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'no-native': { type: 'boolean', default: false },
    'no-stock': { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const steps = Number(args.steps);
const warmup = Number(args.warmup);
const batch = Number(args.batch);
const profileSteps = Number(args['profile-steps']);
const rounds = Math.max(1, Number(args.rounds));

interface KernelTimes {
  /** CPU milliseconds per training step spent in each kernel, summed over its calls, largest first. */
  msPerStep: Record<string, number>;
  /** Sum over kernels (the profiler's view of one step). */
  totalMs: number;
}

interface Throughput {
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  /** CPU time of the process (user + system, all threads) per image. */
  cpuSecondsPerImage: number;
  msPerStepMean: number;
  msPerStepMedian: number;
}

function makeStep(model: ReturnType<typeof buildModel>, x: tf.Tensor, y: tf.Tensor): () => number {
  const optimizer = tf.train.adam(1e-3);
  return () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    const value = loss!.dataSync()[0]!;
    loss!.dispose();
    return value;
  };
}

/**
 * Kernel times of `n` profiled steps, per step. Times are the process's CPU time (user + system)
 * around each kernel rather than wall time, so other processes on a shared machine inflate them
 * less; entries named `*__op` are op scopes that contain other kernels, so they are left out.
 */
async function kernelTimes(step: () => number, n: number): Promise<KernelTimes> {
  const backend = tf.backend() as unknown as { time: (f: () => void) => Promise<tf.TimingInfo> };
  const wallTime = backend.time;
  backend.time = async (f) => {
    const start = process.cpuUsage();
    f();
    const used = process.cpuUsage(start);
    return { kernelMs: (used.user + used.system) / 1000, wallMs: NaN } as tf.TimingInfo;
  };
  const checks = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const sums = new Map<string, number>();
  try {
    for (let i = 0; i < n; i++) {
      const info = await tf.profile(() => {
        step();
      });
      for (const k of info.kernels) {
        if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        sums.set(k.name, (sums.get(k.name) ?? 0) + ms);
      }
    }
  } finally {
    backend.time = wallTime;
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', checks);
  }
  const msPerStep = Object.fromEntries(
    [...sums.entries()].map(([name, ms]) => [name, round(ms / n)] as const).sort((a, b) => b[1] - a[1]),
  );
  return { msPerStep, totalMs: round(Object.values(msPerStep).reduce((a, b) => a + b, 0)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Field-wise medians of several runs' throughputs (rounded). */
function medianThroughput(runs: Throughput[]): Throughput {
  return {
    imagesPerSecond: round(median(runs.map((r) => r.imagesPerSecond))),
    imagesPerCpuSecond: round(median(runs.map((r) => r.imagesPerCpuSecond))),
    cpuSecondsPerImage: round(median(runs.map((r) => r.cpuSecondsPerImage)), 6),
    msPerStepMean: round(median(runs.map((r) => r.msPerStepMean))),
    msPerStepMedian: round(median(runs.map((r) => r.msPerStepMedian))),
  };
}

const PYTHON = '/usr/bin/python3';

/** Why PyTorch cannot run here, or undefined when it can. */
function torchUnavailable(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${PYTHON} cannot import torch (Debian package python3-torch)`;
  }
}

function torchRun(threads: Threads): Throughput {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train_torch.py');
  const flags = ['--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup), '--batch', String(batch)];
  const model = ['--filters', FILTERS.join(','), '--embedding', String(EMBEDDING), '--classes', String(CLASSES)];
  const r = spawnSync(PYTHON, [script, ...flags, ...model], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train_torch.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Throughput, 'cpuSecondsPerImage'>;
  return { ...out, cpuSecondsPerImage: 1 / out.imagesPerCpuSecond };
}

/** Runs `steps` steps and measures them (wall clock and the process's CPU time). */
function timeSteps(step: () => number): Throughput & { lastLoss: number } {
  const times: number[] = [];
  let lastLoss = NaN;
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    lastLoss = step();
    times.push(performance.now() - t);
  }
  const cpuUsed = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
  const total = times.reduce((a, b) => a + b, 0);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    imagesPerSecond: round((batch * steps) / (total / 1000)),
    imagesPerCpuSecond: round((batch * steps) / cpuSeconds),
    cpuSecondsPerImage: round(cpuSeconds / (batch * steps), 6),
    msPerStepMean: round(total / steps),
    msPerStepMedian: round(sorted[Math.floor(sorted.length / 2)]!),
    lastLoss,
  };
}

/** The native kernels with one thread count each, or none (not built, --no-native, not wasm). */
function nativeByThreads(info: TfjsBackendInfo): Map<Threads, NativeTrainingKernels> | undefined {
  const active = info.native;
  if (!active.active) return undefined;
  return new Map(THREAD_COUNTS.map((t) => [t, nativeTrainingKernels({ threads: t, level: active.simd })!]));
}

/** Registers the native kernels computing with `threads` threads (the kernels read their threads once, at registration). */
function useThreads(native: Map<Threads, NativeTrainingKernels> | undefined, threads: Threads): void {
  if (native === undefined) return;
  restoreReplacedByNative();
  registerNativeTrainingKernels(native.get(threads)!);
}

/** Kernel profiles with the project's wasm kernels only, then with the stock ones; the native kernels are put back after. */
async function wasmProfiles(info: TfjsBackendInfo, step: () => number, native: Map<Threads, NativeTrainingKernels> | undefined) {
  const skipped = { skipped: 'backend is not wasm' };
  if (info.backend !== 'wasm') return { wasm: skipped, stock: skipped };
  restoreReplacedByNative();
  step();
  const wasm = await kernelTimes(step, Math.max(1, Math.min(profileSteps, 2)));
  let stock: KernelTimes | { skipped: string } = { skipped: '--no-stock' };
  if (!args['no-stock']) {
    // Stock wasm kernels, tfjs's fused convolution gradient and tfjs-layers' swish, but for the
    // filter gradient the stock backend lacks (in its JavaScript loops, as before the SIMD ones).
    useLazyConvInputGradients()?.();
    useFusedSiluGradients()?.();
    restoreStockWasmKernels();
    registerWasmTrainingKernels(['Conv2DBackpropFilter']);
    const simd = setSimdKernelsEnabled(false);
    step();
    stock = await kernelTimes(step, Math.max(1, Math.min(profileSteps, 2)));
    setSimdKernelsEnabled(simd);
    restoreStockWasmKernels();
    registerWasmTrainingKernels('all');
    if (info.lazyConvInputGradients) useLazyConvInputGradients();
    if (info.fusedSiluGradients) useFusedSiluGradients();
  }
  useThreads(native, 1);
  return { wasm: native === undefined ? { skipped: 'the native kernels are off: the profile above is the wasm one' } : wasm, stock };
}

interface Round {
  tfjs: Record<Threads, Throughput>;
  torch?: Record<Threads, Throughput>;
  loadavg: number;
}

function roundReport(p: Round) {
  const side = (t: Threads) => ({
    tfjsImagesPerSecond: p.tfjs[t].imagesPerSecond,
    tfjsCpuSecondsPerImage: p.tfjs[t].cpuSecondsPerImage,
    ...(p.torch === undefined
      ? {}
      : {
          torchImagesPerSecond: round(p.torch[t].imagesPerSecond),
          torchCpuSecondsPerImage: round(p.torch[t].cpuSecondsPerImage, 6),
          tfjsOverTorch: round(p.tfjs[t].imagesPerSecond / p.torch[t].imagesPerSecond, 3),
          tfjsOverTorchCpu: round(p.tfjs[t].imagesPerCpuSecond / p.torch[t].imagesPerCpuSecond, 3),
        }),
  });
  return { threads1: side(1), threads2: side(2), loadavg1m: p.loadavg };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const info = await initTfjsBackend(args.backend as BackendPreference, { native: !args['no-native'], threads: 1 });
  const native = nativeByThreads(info);
  // The trainer's own VanillaCNN (conv 5×5 'same' (32) → SiLU → pool → conv 5×5 'same' (64) → SiLU → pool → dense 128 → sigmoid → dense 10).
  const model = buildModel('vanilla-cnn', INPUT, CLASSES, 42);
  const x = tf.randomUniform([batch, ...INPUT], 0, 1, 'float32', 1);
  const labels = tf.randomUniform([batch], 0, CLASSES, 'int32', 2);
  const y = tf.oneHot(labels as tf.Tensor1D, CLASSES);
  const step = makeStep(model, x, y);

  for (let i = 0; i < warmup; i++) step();
  let lastLoss = NaN;
  const torchSkipped = args['no-torch'] ? '--no-torch' : torchUnavailable();
  const perRound: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const tfjs = {} as Record<Threads, Throughput>;
    const torch = {} as Record<Threads, Throughput>;
    for (const threads of THREAD_COUNTS) {
      useThreads(native, threads);
      step();
      const { lastLoss: loss, ...measured } = timeSteps(step);
      tfjs[threads] = measured;
      lastLoss = loss;
      if (torchSkipped === undefined) torch[threads] = torchRun(threads);
    }
    perRound.push({ tfjs, ...(torchSkipped === undefined ? { torch } : {}), loadavg: round(os.loadavg()[0]!, 2) });
  }
  useThreads(native, 1);
  const after = await kernelTimes(step, profileSteps);
  const profiles = await wasmProfiles(info, step, native);

  const medians = (pick: (p: Round) => Record<Threads, Throughput>) =>
    Object.fromEntries(THREAD_COUNTS.map((t) => [`threads${t}`, medianThroughput(perRound.map((p) => pick(p)[t]))]));
  const tfjs = {
    backend: info.backend,
    native: info.native,
    ...(native === undefined ? { threadsNote: 'without the native kernels the wasm backend runs one thread: the threads2 rows are one thread too' } : {}),
    kernels: info.kernels,
    lazyConvInputGradients: info.lazyConvInputGradients,
    fusedSiluGradients: info.fusedSiluGradients,
    ...medians((p) => p.tfjs),
    lastLoss: round(lastLoss, 4),
    kernelMsPerStep: after,
    wasmKernelMsPerStep: profiles.wasm,
    stockKernelMsPerStep: profiles.stock,
  };
  const torch = torchSkipped !== undefined ? { skipped: torchSkipped } : medians((p) => p.torch!);
  // Each round's ratio compares runs made seconds apart; the median over rounds is the headline.
  const ratio = (t: Threads, field: 'imagesPerSecond' | 'imagesPerCpuSecond' = 'imagesPerSecond'): number | null => {
    if (torchSkipped !== undefined) return null;
    return round(median(perRound.map((p) => p.tfjs[t][field] / p.torch![t][field])), 3);
  };
  const result = {
    bench: 'train',
    model: `vanilla-cnn (@rlsa/trainer-node buildModel): conv5x5same(${FILTERS[0]})-silu-pool2-conv5x5same(${FILTERS[1]})-silu-pool2-dense${EMBEDDING}-sigmoid-dense${CLASSES}`,
    input: INPUT,
    batch,
    steps,
    warmup,
    rounds: perRound.map(roundReport),
    tfjs,
    torch,
    // Medians over rounds of the ratios within each round: one thread each, two threads each.
    ratios: {
      tfjsOverTorch1Thread: ratio(1),
      tfjsOverTorch2Threads: ratio(2),
      tfjsOverTorch1ThreadCpu: ratio(1, 'imagesPerCpuSecond'),
      tfjsOverTorch2ThreadsCpu: ratio(2, 'imagesPerCpuSecond'),
      target: 1.0,
    },
    machine: {
      // The SIMD the project's kernels ran: the native kernels' level, else the wasm backend's 128-bit SIMD.
      ...benchMachine(info.native.active ? info.native.simd : info.backend === 'wasm' ? 'wasm-simd128' : 'unknown'),
      loadavgBefore: loadBefore.map((v) => round(v, 2)),
      loadavgAfter: os.loadavg().map((v) => round(v, 2)),
    },
    caveat: 'wall-clock on a shared machine: compare ratios within one round; CPU-second ratios and load averages show how busy it was',
  };
  const json = JSON.stringify(result, null, 2);
  if (args.out !== undefined) writeFileSync(args.out, json + '\n');
  process.stdout.write(json + '\n');
}

await main();
