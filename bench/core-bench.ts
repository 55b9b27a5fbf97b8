/**
 * `npm run bench:core`: the numeric core at the size — relative projection (cosine) of
 * N = 50,000 samples of width D = 512 on A = 1,024 anchors, and linear CKA of two N×512 spaces,
 * float32 — on the project's fast path (core functions with the project's own C kernels,
 * @rlsa/linalg-native, when its addon is built; else the ONNX Runtime `Linalg` of @rlsa/linalg-onnx;
 * `--linalg native|onnx|tfjs` forces one), and the
 * same computations in NumPy on the same data (NPY files) in the same run, when python3 can
 * import NumPy. Prints one JSON object with every time, the best of each, and the ratios
 * project / NumPy (target: within 2×).
 *
 *   npm run bench:core -- [--n 50000] [--d 512] [--anchors 1024] [--repeats 3] [--threads 2] [--linalg native|onnx|tfjs]
 *                         [--no-numpy] [--with-js] [--out bench/out/core-bench.json]
 *
 * A benchmark, not a test: the machine is shared, so each computation runs `repeats` times, in
 * rounds that alternate the project and NumPy, and the best times are compared (the load average before and after is in the JSON); CPU times (all
 * threads) are reported beside wall times, as a view less sensitive to other processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jsLinalg, linearCka, relativeProjection, takeRows, type Linalg, type Matrix } from '@rlsa/core';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import { OnnxLinalg } from '@rlsa/linalg-onnx';
import { createTfjsLinalg } from '@rlsa/linalg-tfjs';
import { writeNpy } from '@rlsa/npy';
import { benchMachine } from './machine.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '50000' },
    d: { type: 'string', default: '512' },
    anchors: { type: 'string', default: '1024' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(Math.min(4, os.availableParallelism())) },
    linalg: { type: 'string' },
    'no-numpy': { type: 'boolean', default: false },
    'with-js': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const N = Number(args.n);
const D = Number(args.d);
const A = Number(args.anchors);
const repeats = Number(args.repeats);
const threads = Number(args.threads);
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'out');
/** Rows per float32 product before float64 accumulation in linear CKA (same as `rlsa cka`). */
const CKA_BLOCK_ROWS = 8192;

/** xorshift32 + Box–Muller: deterministic standard normals, fast enough for 50M values. */
function normals(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(t);
    if (i + 1 < count) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Y = a fixed column permutation of X plus noise: a related space, so CKA is far from 0 and 1. */
function relatedSpace(x: Matrix, seed: number): Matrix {
  const noise = normals(x.rows * x.cols, seed);
  const y = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++) {
    const o = i * x.cols;
    for (let j = 0; j < x.cols; j++) y[o + j] = x.data[o + ((j * 7) % x.cols)]! + 0.75 * noise[o + j]!;
  }
  return { rows: x.rows, cols: x.cols, data: y };
}

/**
 * Wall time and CPU time (user + system of the whole process, every thread) of each repeat.
 * On a shared machine the CPU time is the steadier of the two: it counts the work done, not
 * the waiting for a core.
 */
function time<T>(fn: () => T, times: number): { ms: number[]; cpuMs: number[]; result: T } {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let result: T | undefined;
  for (let r = 0; r < times; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  return { ms: ms.map(round1), cpuMs: cpuMs.map(round1), result: result as T };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const best = (ms: number[]) => Math.min(...ms);
const sum = (data: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s;
};

function runProject(linalg: Linalg, x: Matrix, y: Matrix, anchors: Matrix, times: number) {
  const relative = time(() => relativeProjection(x, anchors, { similarity: 'cosine', linalg }), times);
  const checksum = sum(relative.result.data);
  const cka = time(() => linearCka(x, y, { linalg, blockRows: CKA_BLOCK_ROWS }), times);
  return {
    relative_ms: relative.ms,
    relative_cpu_ms: relative.cpuMs,
    relative_checksum: checksum,
    cka_ms: cka.ms,
    cka_cpu_ms: cka.cpuMs,
    cka: cka.result,
  };
}

function runNumpy(files: { x: string; y: string; idx: string }, times: number): Record<string, unknown> | { skipped: string } {
  const env = { ...process.env };
  // These pin an old OpenBLAS kernel on this machine (see the environment notes); NumPy runs without them.
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const probe = spawnSync('python3', ['-c', 'import numpy'], { env, encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'python3 with NumPy is not available' };
  const run = spawnSync('python3', [path.join(here, 'core_numpy.py'), '--x', files.x, '--y', files.y, '--idx', files.idx, '--repeats', String(times)], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return { skipped: `core_numpy.py failed: ${run.stderr.trim().split('\n').pop()}` };
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const loadBefore = os.loadavg().map(round1);
const tData = performance.now();
const x: Matrix = { rows: N, cols: D, data: normals(N * D, 42) };
const y = relatedSpace(x, 7);
// Anchors: A distinct rows spread over X (every ⌊N/A⌋-th row), the same indices NumPy gets.
const idx = Int32Array.from({ length: A }, (_, j) => Math.floor((j * N) / A));
const anchors = takeRows(x, idx);
mkdirSync(outDir, { recursive: true });
const files = { x: path.join(outDir, 'core-x.npy'), y: path.join(outDir, 'core-y.npy'), idx: path.join(outDir, 'core-idx.npy') };
writeNpy(files.x, { dtype: 'float32', shape: [N, D], data: x.data });
writeNpy(files.y, { dtype: 'float32', shape: [N, D], data: y.data });
writeNpy(files.idx, { dtype: 'int32', shape: [A], data: idx });
const dataMs = performance.now() - tData;

const tInit = performance.now();
// Default: the project's own kernels when the addon was built, ONNX Runtime otherwise (the JSON says which, and why).
const nativeStatus = nativeLinalgStatus();
const linalgName = args.linalg ?? (nativeStatus.available ? 'native' : 'onnx');
if (linalgName !== 'native' && linalgName !== 'onnx' && linalgName !== 'tfjs') throw new Error(`--linalg must be native, onnx or tfjs, got '${linalgName}'`);
const { linalg, info } =
  linalgName === 'native'
    ? (() => {
        const native = new NativeLinalg({ threads });
        return { linalg: native as Linalg, info: { name: `native-${native.level}`, threads: native.threads, simd: native.level } };
      })()
    : linalgName === 'onnx'
      ? (() => {
          const onnx = new OnnxLinalg({ threads });
          // MLAS picks its own kernels; the addon's level says what the CPU offers.
          return { linalg: onnx as Linalg, info: { name: `onnxruntime-${onnx.ortVersion}-cpu`, threads: onnx.threads, simd: undefined } };
        })()
      : await createTfjsLinalg({ threads }).then(({ linalg, info }) => ({
          linalg: linalg as Linalg,
          info: { name: `tfjs-${info.backend}`, threads: info.threads, simd: info.backend === 'wasm' ? 'wasm-simd128' : undefined },
        }));
const initMs = performance.now() - tInit;
// Rounds alternate between the project and NumPy, so that both meet the same changes of load.
type ProjectRun = ReturnType<typeof runProject>;
const rounds: { project: ProjectRun; numpy: Record<string, unknown> }[] = [];
let numpySkipped: string | null = args['no-numpy'] ? '--no-numpy' : null;
for (let r = 0; r < repeats; r++) {
  const projectRound = runProject(linalg, x, y, anchors, 1);
  const numpyRound = numpySkipped === null ? runNumpy(files, 1) : { skipped: numpySkipped };
  if ('skipped' in numpyRound) numpySkipped = String(numpyRound.skipped);
  rounds.push({ project: projectRound, numpy: numpyRound });
}
const concat = (key: string, runs: Record<string, unknown>[]) => runs.flatMap((run) => (run[key] as number[] | undefined) ?? []);
const projectRuns = rounds.map((round) => round.project as unknown as Record<string, unknown>);
const last = rounds[rounds.length - 1]!.project;
const project = {
  relative_ms: concat('relative_ms', projectRuns),
  relative_cpu_ms: concat('relative_cpu_ms', projectRuns),
  relative_checksum: last.relative_checksum,
  cka_ms: concat('cka_ms', projectRuns),
  cka_cpu_ms: concat('cka_cpu_ms', projectRuns),
  cka: last.cka,
};
const numpyRuns = rounds.map((round) => round.numpy);
const numpy: Record<string, unknown> =
  numpySkipped !== null
    ? { skipped: numpySkipped }
    : {
        blas: numpyRuns[0]!['blas'],
        relative_ms: concat('relative_ms', numpyRuns).map(round1),
        relative_cpu_ms: concat('relative_cpu_ms', numpyRuns).map(round1),
        relative_checksum: numpyRuns[0]!['relative_checksum'],
        cka_ms: concat('cka_ms', numpyRuns).map(round1),
        cka_cpu_ms: concat('cka_cpu_ms', numpyRuns).map(round1),
        cka: numpyRuns[0]!['cka'],
      };
const js = args['with-js'] ? runProject(jsLinalg, x, y, anchors, repeats) : undefined;

const ratio = (ours: number[], theirs: unknown) =>
  Array.isArray(theirs) && theirs.length > 0 ? Math.round((best(ours) / Math.min(...(theirs as number[]))) * 100) / 100 : null;
/** Nominal floating-point operations (2 per multiply-add) of each computation, the same count for both sides. */
const flops = { relative: 2 * N * A * D, cka: 3 * 2 * N * D * D };
const gflops = (flop: number, ms: number[] | unknown) =>
  Array.isArray(ms) && ms.length > 0 ? Math.round(flop / (Math.min(...(ms as number[])) * 1e6)) : null;
const report = {
  benchmark: 'core',
  shapes: { n: N, d: D, anchors: A, dtype: 'float32' },
  machine: { ...benchMachine(info.simd), loadavg_before: loadBefore, loadavg_after: os.loadavg().map(round1), node: process.version },
  repeats,
  data_ms: round1(dataMs),
  project: {
    linalg: info.name,
    ...(nativeStatus.available ? {} : { native_unavailable: nativeStatus.reason }),
    threads: info.threads,
    backend_init_ms: round1(initMs),
    ...project,
    relative_best_ms: best(project.relative_ms),
    cka_best_ms: best(project.cka_ms),
  },
  ...(js ? { js: { ...js, relative_best_ms: best(js.relative_ms), cka_best_ms: best(js.cka_ms) } } : {}),
  numpy,
  ratio_project_over_numpy: {
    relative: 'relative_ms' in numpy ? ratio(project.relative_ms, numpy['relative_ms']) : null,
    cka: 'cka_ms' in numpy ? ratio(project.cka_ms, numpy['cka_ms']) : null,
    target: 2,
  },
  // Nominal GFLOP/s from the best wall times (relative: 2·N·A·D; CKA: three products of 2·N·D², although XᵀX and YᵀY are symmetric).
  gflops: {
    project: { relative: gflops(flops.relative, project.relative_ms), cka: gflops(flops.cka, project.cka_ms) },
    numpy: { relative: gflops(flops.relative, numpy['relative_ms']), cka: gflops(flops.cka, numpy['cka_ms']) },
  },
  // Best CPU time over best CPU time (all threads of each side): the load-independent view.
  ratio_cpu_time_project_over_numpy: {
    relative: 'relative_cpu_ms' in numpy ? ratio(project.relative_cpu_ms, numpy['relative_cpu_ms']) : null,
    cka: 'cka_cpu_ms' in numpy ? ratio(project.cka_cpu_ms, numpy['cka_cpu_ms']) : null,
  },
  agreement: 'cka' in numpy ? { cka_abs_diff: Math.abs(project.cka - (numpy['cka'] as number)), relative_checksum_numpy: numpy['relative_checksum'] } : null,
};
const json = JSON.stringify(report, null, 2);
writeFileSync(args.out ?? path.join(outDir, 'core-bench.json'), `${json}\n`);
process.stdout.write(`${json}\n`);
