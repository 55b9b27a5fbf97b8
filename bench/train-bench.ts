/**
 * `npm run bench:train`: images per second of one VanillaCNN training step (32×32×3 inputs,
 * batch 128, Adam 1e-3, softmax cross-entropy) on the tfjs backend in use, split by kernel,
 * against PyTorch on one and on two threads in the same run (Debian's python3-torch, if
 * /usr/bin/python3 can import it). Prints one JSON object.
 *
 *   npm run bench:train -- [--steps 20] [--warmup 3] [--batch 128] [--backend auto|node|wasm|cpu]
 *                          [--rounds 3] [--profile-steps 3] [--no-stock] [--no-torch] [--out FILE]
 *
 * Rounds alternate the measurements (tfjs, then PyTorch on 1 and on 2 threads, `steps` steps each)
 * so that each round's ratios compare runs made within seconds of each other under the same load;
 * the JSON gives every round and the medians.
 *
 * On wasm it also profiles one step with the stock wasm kernels (plus the project's
 * Conv2DBackpropFilter, without its SIMD loops, without which the stock backend cannot train a
 * convolution), tfjs's fused convolution gradient and tfjs-layers' swish, so the JSON shows each
 * kernel before and after. A benchmark, not a test: numbers depend on the load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  initTfjsBackend,
  registerWasmTrainingKernels,
  restoreStockWasmKernels,
  setSimdKernelsEnabled,
  useFusedSiluGradients,
  useLazyConvInputGradients,
  type BackendPreference,
} from '@rlsa/tfjs-kernels';
import { buildModel } from '@rlsa/trainer-node';

const FILTERS: [number, number] = [32, 64];
const EMBEDDING = 128;
const CLASSES = 10;
const INPUT: [number, number, number] = [32, 32, 3];

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '128' },
    backend: { type: 'string', default: 'auto' },
    'profile-steps': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
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
  /** Milliseconds per training step spent in each kernel, summed over its calls, largest first. */
  msPerStep: Record<string, number>;
  /** Sum over kernels (the profiler's view of one step). */
  totalMs: number;
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

/** Field-wise medians of several runs' throughputs (rounded). */
function medianThroughput(runs: Throughput[]): Throughput {
  return {
    imagesPerSecond: round(median(runs.map((r) => r.imagesPerSecond))),
    imagesPerCpuSecond: round(median(runs.map((r) => r.imagesPerCpuSecond))),
    msPerStepMean: round(median(runs.map((r) => r.msPerStepMean))),
    msPerStepMedian: round(median(runs.map((r) => r.msPerStepMedian))),
  };
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
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

interface Throughput {
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  msPerStepMean: number;
  msPerStepMedian: number;
}

function torchRuns(): Record<string, Throughput> {
  const python = PYTHON;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train_torch.py');
  const runs: Record<string, Throughput> = {};
  for (const threads of [1, 2]) {
    const r = spawnSync(python, [script, '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup), '--batch', String(batch), '--filters', FILTERS.join(','), '--embedding', String(EMBEDDING), '--classes', String(CLASSES)], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`train_torch.py failed: ${r.stderr}`);
    runs[`threads${threads}`] = JSON.parse(r.stdout.trim().split('\n').pop()!) as Throughput;
  }
  return runs;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const info = await initTfjsBackend(args.backend as BackendPreference);
  // The trainer's own VanillaCNN (conv 5×5 'same' (32) → SiLU → pool → conv 5×5 'same' (64) → SiLU → pool → dense 128 → sigmoid → dense 10).
  const model = buildModel('vanilla-cnn', INPUT, CLASSES, 42);
  const x = tf.randomUniform([batch, ...INPUT], 0, 1, 'float32', 1);
  const labels = tf.randomUniform([batch], 0, CLASSES, 'int32', 2);
  const y = tf.oneHot(labels as tf.Tensor1D, CLASSES);
  const step = makeStep(model, x, y);

  for (let i = 0; i < warmup; i++) step();
  let lastLoss = NaN;
  const timeTfjs = (): Throughput => {
    const times: number[] = [];
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      lastLoss = step();
      times.push(performance.now() - t);
    }
    const cpuUsed = process.cpuUsage(cpuStart);
    const total = times.reduce((a, b) => a + b, 0);
    const sorted = [...times].sort((a, b) => a - b);
    return {
      imagesPerSecond: round((batch * steps) / (total / 1000)),
      imagesPerCpuSecond: round((batch * steps) / ((cpuUsed.user + cpuUsed.system) / 1e6)),
      msPerStepMean: round(total / steps),
      msPerStepMedian: round(sorted[Math.floor(sorted.length / 2)]!),
    };
  };
  const torchSkipped = args['no-torch'] ? '--no-torch' : torchUnavailable();
  const perRound: { tfjs: Throughput; torch?: Record<string, Throughput>; loadavg: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const tfjsRound = timeTfjs();
    const torchRound = torchSkipped === undefined ? torchRuns() : undefined;
    perRound.push({ tfjs: tfjsRound, ...(torchRound === undefined ? {} : { torch: torchRound }), loadavg: round(os.loadavg()[0]!, 2) });
  }
  const after = await kernelTimes(step, profileSteps);

  let stock: KernelTimes | { skipped: string } = { skipped: 'backend is not wasm' };
  if (info.backend === 'wasm' && !args['no-stock']) {
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

  const tfjsMedian = medianThroughput(perRound.map((p) => p.tfjs));
  const tfjs = {
    backend: info.backend,
    threads: info.threads,
    kernels: info.kernels,
    lazyConvInputGradients: info.lazyConvInputGradients,
    fusedSiluGradients: info.fusedSiluGradients,
    ...tfjsMedian,
    lastLoss: round(lastLoss, 4),
    kernelMsPerStep: after,
    stockKernelMsPerStep: stock,
  };
  const torch: Record<string, Throughput> | { skipped: string } =
    torchSkipped !== undefined
      ? { skipped: torchSkipped }
      : Object.fromEntries(['threads1', 'threads2'].map((key) => [key, medianThroughput(perRound.map((p) => p.torch![key]!))]));
  // Each round's ratio compares runs made seconds apart; the median over rounds is the headline.
  const ratio = (key: string, field: 'imagesPerSecond' | 'imagesPerCpuSecond' = 'imagesPerSecond'): number | null => {
    if (torchSkipped !== undefined) return null;
    return round(median(perRound.map((p) => p.tfjs[field] / p.torch![key]![field])), 3);
  };
  const roundsReport = perRound.map((p) => ({
    tfjsImagesPerSecond: p.tfjs.imagesPerSecond,
    tfjsImagesPerCpuSecond: p.tfjs.imagesPerCpuSecond,
    ...(p.torch === undefined
      ? {}
      : {
          torch1ImagesPerSecond: round(p.torch['threads1']!.imagesPerSecond),
          torch1ImagesPerCpuSecond: round(p.torch['threads1']!.imagesPerCpuSecond),
          torch2ImagesPerSecond: round(p.torch['threads2']!.imagesPerSecond),
          tfjsOverTorch1Thread: round(p.tfjs.imagesPerSecond / p.torch['threads1']!.imagesPerSecond, 3),
          tfjsOverTorch1ThreadCpu: round(p.tfjs.imagesPerCpuSecond / p.torch['threads1']!.imagesPerCpuSecond, 3),
        }),
    loadavg1m: p.loadavg,
  }));
  const result = {
    bench: 'train',
    model: `vanilla-cnn (@rlsa/trainer-node buildModel): conv5x5same(${FILTERS[0]})-silu-pool2-conv5x5same(${FILTERS[1]})-silu-pool2-dense${EMBEDDING}-sigmoid-dense${CLASSES}`,
    input: INPUT,
    batch,
    steps,
    warmup,
    rounds: roundsReport,
    tfjs,
    torch,
    // Medians over rounds of the ratios within each round.
    ratios: {
      tfjsOverTorch1Thread: ratio('threads1'),
      tfjsOverTorch2Threads: ratio('threads2'),
      // Per CPU-second, one thread each: the comparison least disturbed by other processes.
      tfjsOverTorch1ThreadCpu: ratio('threads1', 'imagesPerCpuSecond'),
      target: 0.8,
    },
    machine: { cpus: os.cpus().length, loadavgBefore: loadBefore.map((v) => round(v, 2)), loadavgAfter: os.loadavg().map((v) => round(v, 2)) },
    caveat: 'wall-clock on a shared machine: compare ratios within one round; load averages show how busy it was',
  };
  const json = JSON.stringify(result, null, 2);
  if (args.out !== undefined) writeFileSync(args.out, json + '\n');
  process.stdout.write(json + '\n');
}

await main();
