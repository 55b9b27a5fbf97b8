import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulationResults } from '@rlsa/simulation';
import { describe, expect, it } from 'vitest';
import { TABLES } from '../../docs-tables/tables.ts';
import { caught } from './caught.ts';

/**
 * The renderers against the JSON the commands wrote (committed in docs/results and bench/results):
 * every cell checked here is recomputed from the parsed JSON, independently of the renderer.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN_JOB = join(ROOT, 'docs/results/main-job.json');

function json<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** `value` written to a fresh temporary JSON file; its path. */
function writeJson(value: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rlsa-bench-table-')), 'bench.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** The JSON at `path` with the field at `keys` set to `value` (removed when undefined), written to a fresh file. */
function withField(path: string, keys: readonly string[], value: unknown): string {
  const root = json<Record<string, unknown>>(path);
  const parent = keys.slice(0, -1).reduce((node, key) => node[key] as Record<string, unknown>, root);
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return writeJson(root);
}

interface TrainSide {
  tfjsImagesPerSecond: number;
  tfjsCpuSecondsPerImage: number;
  torchImagesPerSecond: number;
  torchCpuSecondsPerImage: number;
  tfjsOverTorch: number;
  tfjsOverTorchCpu: number;
}
interface KernelProfile {
  msPerStep: Record<string, number>;
  totalMs: number;
}
/** The fields of bench/train-bench.ts's JSON these specs read. */
interface TrainBench {
  rounds: { threads1: TrainSide; threads2: TrainSide; loadavg1m: number }[];
  tfjs: {
    native: { simd: string; kernels: string[] };
    threads1: { imagesPerSecond: number };
    kernelMsPerStep: KernelProfile;
    wasmKernelMsPerStep: KernelProfile;
    stockKernelMsPerStep: KernelProfile;
  };
  ratios: { tfjsOverTorch1Thread: number; tfjsOverTorch2Threads: number; tfjsOverTorch1ThreadCpu: number; tfjsOverTorch2ThreadsCpu: number; target: number };
  machine: { cpuModel: string; cpus: number; simd: string };
}
interface EmbedSide {
  imagesPerSecond: number;
  cpuSecondsPerImage: number;
}
/** The fields of bench/embed-bench.ts's JSON these specs read. */
interface EmbedBench {
  machine: { cpu: string; cpus: number; simd: string[] };
  setup: { peakRssBoundMb: number };
  model: { file: string };
  results: Record<
    string,
    {
      typescript: EmbedSide & { peakRssMb: number; peakRssMbSmallFolder: number; peakRssWithinBound: boolean };
      pytorch: EmbedSide;
      ratioImagesPerSecondByRound: number[];
      ratioImagesPerSecondMedianOfRounds: number;
      ratioCpuSecondsPerImage: number;
    }
  >;
}
interface AggregatorSide {
  cpuSecondsPerMB: { eventLoop: number; allThreads: number; clients: number };
}
/** The fields of bench/aggregator-bench.ts's JSON these specs read. */
interface AggregatorBench {
  rounds: { cpuRatio: number }[];
  aggregator: AggregatorSide & { healthDuringUpload: { p99Ms: number } };
  rawGrpc: AggregatorSide;
  targets: { healthP99: { targetMs: number; duringUpload: boolean } };
  machine: { cpuModel: string; cpus: number; simd: string; simdBits: number };
}

/** The cells of the table row whose first cell is `label`. */
function row(markdown: string, label: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${label} |`));
  if (line === undefined) throw new Error(`no row ${label} in\n${markdown}`);
  return line.slice(2, -2).split(' | ');
}

describe('simulation tables', () => {
  const results = json<SimulationResults>(MAIN_JOB);

  it('CKA: each row from results.cka, three decimals, n with separators', async () => {
    const table = await TABLES['simulation-cka'].render(MAIN_JOB);
    const merged = results.cka.merged_vs_reference;
    expect(row(table, 'merged vs reference')).toEqual(['merged vs reference', merged.linear.toFixed(3), merged.linear_debiased.toFixed(3), merged.n.toLocaleString('en-US')]);
    for (const node of results.cka.nodes_vs_reference) {
      expect(row(table, `${node.node_id} alone vs reference`)[1]).toBe(node.linear.toFixed(3));
    }
    expect(row(table, 'naive vs reference')[1]).toBe(results.cka.naive_vs_reference.linear.toFixed(3));
  });

  it('spaces and nodes: one row each, in the order of results.json', async () => {
    const spaces = await TABLES['simulation-spaces'].render(MAIN_JOB);
    const rows = spaces.split('\n').slice(2);
    expect(rows).toHaveLength(results.spaces.length);
    results.spaces.forEach((space, i) => {
      expect(rows[i]!.slice(2, -2).split(' | ').slice(1, 4)).toEqual([space.probe_accuracy, space.nearest_centroid_accuracy, space.separability].map((v) => (v === null ? '–' : v.toFixed(3))));
    });
    const nodes = await TABLES['simulation-nodes'].render(MAIN_JOB);
    for (const node of results.nodes) expect(row(nodes, node.node_id)[4]).toBe(node.task_accuracy?.toFixed(3));
  });

  it('timings: every phase, the total last', async () => {
    const table = await TABLES['simulation-timings'].render(MAIN_JOB);
    const lines = table.split('\n').slice(2);
    expect(lines).toHaveLength(Object.keys(results.timings_s).length);
    expect(lines.at(-1)).toBe(`| total | ${results.timings_s['total']!.toFixed(1)} |`);
  });

  it("a JSON without the part a table reads is refused naming the field", () => {
    expect(() => TABLES['simulation-cka'].render(join(ROOT, 'bench/results/core.json'))).toThrow(/core\.json: field cka is not an object$/);
  });
});

describe('benchmark tables', () => {
  it('core: best of the rounds on each side, and the ratios as the JSON gives them', async () => {
    const path = join(ROOT, 'bench/results/core.json');
    const core = json<{ project: { relative_ms: number[]; cka_ms: number[] }; ratio_project_over_numpy: { relative: number } }>(path);
    const table = await TABLES['bench-core'].render(path);
    const relative = row(table, 'relative projection (cosine)');
    expect(relative[1]).toMatch(new RegExp(`^${Math.min(...core.project.relative_ms).toFixed(1)} ms`));
    expect(relative[3]).toMatch(new RegExp(`^${core.ratio_project_over_numpy.relative.toFixed(2)}×`));
    expect(row(table, 'linear CKA')[1]).toMatch(new RegExp(`^${Math.min(...core.project.cka_ms).toFixed(1)} ms`));
  });

  it('aggregator: one row per round, the ratio to raw gRPC and whether each target is met', async () => {
    const path = join(ROOT, 'bench/results/aggregator.json');
    const bench = json<{ rounds: { ratio: number }[]; ratioToRawGrpc: number; medianRatioToRawGrpc?: number; targets: { throughputRatio: { met: boolean } } }>(path);
    const table = await TABLES['bench-aggregator'].render(path);
    bench.rounds.forEach((round, i) => expect(row(table, String(i + 1))[3]).toBe(round.ratio.toFixed(3)));
    const throughput = table.split('\n').find((l) => l.startsWith('| throughput'))!;
    // The figure the target is judged on: the median of the rounds' ratios (the ratio of the mean times in a JSON without it).
    expect(throughput).toContain(`${(bench.medianRatioToRawGrpc ?? bench.ratioToRawGrpc).toFixed(3)}×`);
    expect(throughput.endsWith(bench.targets.throughputRatio.met ? '| met |' : '| not met |')).toBe(true);
  });

  it('aggregator: --health-port latencies and the first read after the upload, where the JSON has them (and no such rows where it has not)', async () => {
    const path = join(ROOT, 'bench/results/aggregator.json');
    const bench = json<{
      aggregator: { healthPortDuringUpload: { p99Ms: number }; healthPortDuringEvaluate: { p99Ms: number }; firstReadAfterUploadSeconds: number };
      targets: { healthP99: { targetMs: number; healthPortDuringUpload: boolean; healthPortDuringEvaluate: boolean } };
    }>(path);
    const table = await TABLES['bench-aggregator'].render(path);
    const target = bench.targets.healthP99.targetMs;
    expect(row(table, `health Check p99 < ${target} ms during upload (--health-port)`).slice(1)).toEqual([
      `${bench.aggregator.healthPortDuringUpload.p99Ms.toFixed(1)} ms`,
      bench.targets.healthP99.healthPortDuringUpload ? 'met' : 'not met',
    ]);
    expect(row(table, `health Check p99 < ${target} ms during Evaluate (--health-port)`).slice(1)).toEqual([
      `${bench.aggregator.healthPortDuringEvaluate.p99Ms.toFixed(1)} ms`,
      bench.targets.healthP99.healthPortDuringEvaluate ? 'met' : 'not met',
    ]);
    expect(row(table, 'first read after the upload (waits for the merge)')[1]).toBe(`${bench.aggregator.firstReadAfterUploadSeconds.toFixed(2)} s`);
    const older = await TABLES['bench-aggregator'].render(join(ROOT, 'scripts/test/fixtures/aggregator-bench.json'));
    expect(older).not.toContain('--health-port');
    expect(older).not.toContain('first read after the upload');
  });

  it('aggregator: health on the main port during the upload, the aggregator beside raw grpc-js, pooled over rounds where the JSON says so', async () => {
    type Latency = { checks: number; p50Ms: number; p99Ms: number; maxMs: number; rounds?: number };
    const path = join(ROOT, 'bench/results/aggregator.json');
    const bench = json<{ aggregator: { healthDuringUpload: Latency }; rawGrpc: { healthDuringUpload: Latency } }>(path);
    const table = await TABLES['bench-aggregator'].render(path);
    const cells = row(table, 'health Check during the upload, main port: p50 / p99 / max').slice(1);
    const expected = (h: Latency): string =>
      `${h.p50Ms.toFixed(1)} / ${h.p99Ms.toFixed(1)} / ${h.maxMs.toFixed(1)} ms (${h.checks} checks${h.rounds === undefined ? ', the worst round' : ` in ${h.rounds} rounds`})`;
    expect(cells).toEqual([expected(bench.aggregator.healthDuringUpload), expected(bench.rawGrpc.healthDuringUpload)]);
    // A JSON from before the raw side was probed has no such row.
    expect(await TABLES['bench-aggregator'].render(join(ROOT, 'scripts/test/fixtures/aggregator-bench.json'))).not.toContain('health Check during the upload');
  });

  it('aggregator: the fields of the current benchmark (machine, CPU per MB, health) from a run that wrote them', async () => {
    // scripts/test/fixtures/aggregator-bench.json: the JSON of npm run bench:aggregator -- --rounds 2 (2026-12-04, quiet machine).
    const path = join(ROOT, 'scripts/test/fixtures/aggregator-bench.json');
    const bench = json<AggregatorBench>(path);
    const table = await TABLES['bench-aggregator'].render(path);
    bench.rounds.forEach((round, i) => expect(row(table, String(i + 1))[4]).toBe(round.cpuRatio.toFixed(3)));
    const perMb = (side: AggregatorBench['rawGrpc']) => [side.cpuSecondsPerMB.eventLoop, side.cpuSecondsPerMB.allThreads, side.cpuSecondsPerMB.clients].map((v) => v.toFixed(5)).join(' / ');
    expect(row(table, 'CPU-s per MB: event loop / all threads / clients').slice(1)).toEqual([perMb(bench.aggregator), perMb(bench.rawGrpc)]);
    const upload = row(table, `health Check p99 < ${bench.targets.healthP99.targetMs} ms during upload (main port)`);
    expect(upload.slice(1)).toEqual([`${bench.aggregator.healthDuringUpload.p99Ms.toFixed(1)} ms`, bench.targets.healthP99.duringUpload ? 'met' : 'not met']);
    expect(table).toContain(`Machine: ${bench.machine.cpuModel}, ${bench.machine.cpus} CPUs, SIMD ${bench.machine.simd} (${bench.machine.simdBits}-bit).`);
  });

  it('aggregator: a JSON from before the benchmark recorded the machine says so, its later fields "–"', async () => {
    const table = await TABLES['bench-aggregator'].render(withField(join(ROOT, 'scripts/test/fixtures/aggregator-bench.json'), ['machine'], undefined));
    expect(table).toContain('Machine: not recorded (a run from before the benchmark recorded it).');
    const old = await TABLES['bench-aggregator'].render(withField(join(ROOT, 'scripts/test/fixtures/aggregator-bench.json'), ['aggregator', 'cpuSecondsPerMB'], undefined));
    expect(row(old, 'CPU-s per MB: event loop / all threads / clients')[1]).toBe('–');
  });

  it('training: one row per round and thread count, and the medians', async () => {
    const path = join(ROOT, 'bench/results/train.json');
    const bench = json<TrainBench>(path);
    const table = await TABLES['bench-train'].render(path);
    const lines = table.split('\n').slice(2, 2 + 2 * bench.rounds.length + 2);
    bench.rounds.forEach((round, i) => {
      for (const t of [1, 2] as const) {
        const side = round[`threads${t}`];
        const cells = lines[2 * i + t - 1]!.slice(2, -2).split(' | ');
        expect(cells).toEqual([
          String(i + 1),
          String(t),
          side.tfjsImagesPerSecond.toFixed(1),
          (side.tfjsCpuSecondsPerImage * 1000).toFixed(3),
          side.torchImagesPerSecond.toFixed(1),
          (side.torchCpuSecondsPerImage * 1000).toFixed(3),
          `${side.tfjsOverTorch.toFixed(3)} (${side.tfjsOverTorchCpu.toFixed(3)})`,
          round.loadavg1m.toFixed(2),
        ]);
      }
    });
    const medians = lines.slice(-2).map((l) => l.slice(2, -2).split(' | '));
    expect(medians[0]!.slice(0, 3)).toEqual(['median', '1', bench.tfjs.threads1.imagesPerSecond.toFixed(1)]);
    expect(medians[0]![6]).toBe(`${bench.ratios.tfjsOverTorch1Thread.toFixed(3)} (${bench.ratios.tfjsOverTorch1ThreadCpu.toFixed(3)})`);
    expect(medians[1]![6]).toBe(`${bench.ratios.tfjsOverTorch2Threads.toFixed(3)} (${bench.ratios.tfjsOverTorch2ThreadsCpu.toFixed(3)})`);
    const verdict = (ratio: number) => (ratio >= bench.ratios.target ? 'met' : 'not met');
    expect(table).toContain(`on 1 thread ${bench.ratios.tfjsOverTorch1Thread.toFixed(3)}× (${verdict(bench.ratios.tfjsOverTorch1Thread)})`);
    expect(table).toContain(`on 2 threads ${bench.ratios.tfjsOverTorch2Threads.toFixed(3)}× (${verdict(bench.ratios.tfjsOverTorch2Threads)})`);
    expect(table).toContain(`native kernels (${bench.tfjs.native.simd}, ${bench.tfjs.native.kernels.length} kernels)`);
    expect(table).toContain(`Machine: ${bench.machine.cpuModel}, ${bench.machine.cpus} CPUs, SIMD ${bench.machine.simd}`);
  });

  it('training without PyTorch or the native kernels: "–" where PyTorch was, and why the kernels were off', async () => {
    const path = join(ROOT, 'bench/results/train.json');
    const noTorch = json<Record<string, unknown>>(path);
    noTorch['torch'] = { skipped: '--no-torch' };
    noTorch['rounds'] = (noTorch['rounds'] as { threads1: object; threads2: object; loadavg1m: number }[]).map((r) => ({
      threads1: { tfjsImagesPerSecond: 1, tfjsCpuSecondsPerImage: 0.002 },
      threads2: { tfjsImagesPerSecond: 2, tfjsCpuSecondsPerImage: 0.001 },
      loadavg1m: r.loadavg1m,
    }));
    noTorch['ratios'] = { tfjsOverTorch1Thread: null, tfjsOverTorch2Threads: null, tfjsOverTorch1ThreadCpu: null, tfjsOverTorch2ThreadsCpu: null, target: 1 };
    (noTorch['tfjs'] as Record<string, unknown>)['native'] = { active: false, reason: 'RLSA_NATIVE_DISABLE=1' };
    const table = await TABLES['bench-train'].render(writeJson(noTorch));
    expect(row(table, '1').slice(2)).toEqual(['1.0', '2.000', '–', '–', '– (–)', (noTorch['rounds'] as { loadavg1m: number }[])[0]!.loadavg1m.toFixed(2)]);
    expect(table).toContain('on 1 thread –, on 2 threads –. PyTorch skipped: --no-torch.');
    expect(table).toContain('Native kernels off (RLSA_NATIVE_DISABLE=1)');
  });

  it('training kernels: every profile of the JSON, kernels of at least 1 ms in any, and the totals', async () => {
    const path = join(ROOT, 'bench/results/train.json');
    const bench = json<TrainBench>(path);
    const table = await TABLES['bench-train-kernels'].render(path);
    const profiles = [bench.tfjs.kernelMsPerStep, bench.tfjs.wasmKernelMsPerStep, bench.tfjs.stockKernelMsPerStep];
    const shown = new Set(profiles.flatMap((p) => Object.keys(p.msPerStep).filter((name) => p.msPerStep[name]! >= 1)));
    expect(table.split('\n').slice(2, -1).map((l) => l.split(' | ')[0]!.slice(2))).toEqual(expect.arrayContaining([...shown].map((name) => `\`${name}\``)));
    expect(table.split('\n')).toHaveLength(2 + shown.size + 1);
    for (const name of shown) {
      expect(row(table, `\`${name}\``).slice(1)).toEqual(profiles.map((p) => (p.msPerStep[name] === undefined ? '–' : p.msPerStep[name]!.toFixed(1))));
    }
    expect(row(table, 'total').slice(1)).toEqual(profiles.map((p) => p.totalMs.toFixed(1)));
  });

  it('training kernels: a skipped profile is a column of "–" and says why', async () => {
    const bench = json<Record<string, Record<string, unknown>>>(join(ROOT, 'bench/results/train.json'));
    bench['tfjs']!['stockKernelMsPerStep'] = { skipped: '--no-stock' };
    const table = await TABLES['bench-train-kernels'].render(writeJson(bench));
    expect(row(table, 'total')[3]).toBe('–');
    expect(table.endsWith('Skipped: stock wasm kernels: --no-stock.')).toBe(true);
  });

  it('embedding: one row per thread count, both sides, the ratios by round and their median, peak RSS against the bound', async () => {
    const path = join(ROOT, 'bench/results/embed.json');
    const bench = json<EmbedBench>(path);
    const table = await TABLES['bench-embed'].render(path);
    for (const [key, r] of Object.entries(bench.results)) {
      const within = r.typescript.peakRssWithinBound ? `≤ ${bench.setup.peakRssBoundMb}` : `**over ${bench.setup.peakRssBoundMb}**`;
      expect(row(table, key.replace('threads', ''))).toEqual([
        key.replace('threads', ''),
        r.typescript.imagesPerSecond.toFixed(1),
        (r.typescript.cpuSecondsPerImage * 1000).toFixed(1),
        r.pytorch.imagesPerSecond.toFixed(1),
        (r.pytorch.cpuSecondsPerImage * 1000).toFixed(1),
        r.ratioImagesPerSecondByRound.map((v) => v.toFixed(3)).join(', '),
        `**${r.ratioImagesPerSecondMedianOfRounds.toFixed(3)}**`,
        r.ratioCpuSecondsPerImage.toFixed(3),
        `${r.typescript.peakRssMb.toFixed(0)} / ${r.typescript.peakRssMbSmallFolder.toFixed(0)} MB (${within})`,
      ]);
    }
    expect(table).toContain(`Machine: ${bench.machine.cpu}, ${bench.machine.cpus} CPUs, SIMD flags ${bench.machine.simd.join(' ')}.`);
    expect(table).toContain(`model ${bench.model.file}`);
  });

  it('every benchmark table fails naming the field when the machine or a measured value is missing', async () => {
    const train = json<Record<string, Record<string, unknown>>>(join(ROOT, 'bench/results/train.json'));
    delete train['machine']!['cpuModel'];
    expect((await caught(() => TABLES['bench-train'].render(writeJson(train)))).message).toMatch(/field machine\.cpuModel is not a string$/);
    const core = json<Record<string, Record<string, unknown>>>(join(ROOT, 'bench/results/core.json'));
    delete core['machine']!['simd'];
    expect((await caught(() => TABLES['bench-core'].render(writeJson(core)))).message).toMatch(/field machine\.simd is not a string$/);
    const embed = json<{ results: Record<string, { typescript: Record<string, unknown> }> }>(join(ROOT, 'bench/results/embed.json'));
    delete embed.results['threads2']!.typescript['imagesPerSecond'];
    expect((await caught(() => TABLES['bench-embed'].render(writeJson(embed)))).message).toMatch(/field results\.threads2\.typescript\.imagesPerSecond is not a number$/);
    const aggregator = json<Record<string, Record<string, unknown>>>(join(ROOT, 'scripts/test/fixtures/aggregator-bench.json'));
    delete aggregator['machine']!['cpus'];
    expect((await caught(() => TABLES['bench-aggregator'].render(writeJson(aggregator)))).message).toMatch(/field machine\.cpus is not a number$/);
  });
});

describe("the paper's published numbers", () => {
  it('come from the files in apps/simulation/paper-results', async () => {
    const dir = join(ROOT, 'apps/simulation/paper-results');
    const cka = json<Record<string, Record<string, Record<string, Record<string, Record<string, number>>>>>>(join(dir, 'exp_1_cka_analysis.json'));
    const classes = json<Record<string, Record<string, Record<string, { total_acc: number }>>>>(join(dir, 'exp_2_classification_results.json'));
    const table = await TABLES['paper-published'].render(dir);
    expect(row(table, 'CKA(merged, reference)')[1]).toBe(cka['cifar100']!['vanilla_cnn']!['S80']!['N10']!['cka_orig_aggr_rel_rel']!.toFixed(3));
    expect(row(table, 'probe accuracy: naive (jumble)')[2]).toBe(classes['cifar100']!['from_scratch_cnn']!['jumble']!.total_acc.toFixed(3));
  });
});

describe('workspace projects', () => {
  it('lists every package with its tag, and the core may import nothing', async () => {
    const table = await TABLES['workspace-projects'].render(ROOT);
    for (const group of ['apps', 'libs']) {
      for (const dir of readdirSync(join(ROOT, group))) {
        const pkg = json<{ name: string; nx: { tags: string[] } }>(join(ROOT, group, dir, 'package.json'));
        expect(row(table, `\`${pkg.name}\``)[2]).toBe(pkg.nx.tags.map((tag) => tag.replace(/^scope:/, '')).join(', '));
      }
    }
    expect(row(table, '`@rlsa/core`')[3]).toBe('nothing');
    expect(row(table, '`@rlsa/cli`')[3]).toBe('any');
  });
});

describe('study tables', () => {
  // Written by: rlsa study seeds --values 3,4,5 --dataset synthetic --model mlp --epochs 1 --anchors 32
  //   --probe-epochs 3 --probe-patience 1 --out <dir> (its study.json; the rows' out dirs made relative).
  const STUDY = join(ROOT, 'scripts/test/fixtures/study-seeds.json');
  const study = json<{ rows: { value: string; cka_linear: number; seconds: number }[]; summary: { lines: string[] } }>(STUDY);

  it('rows: one per seed, from study.json', async () => {
    const table = await TABLES['study-rows'].render(STUDY);
    for (const r of study.rows) {
      const cells = row(table, r.value);
      expect(cells[1]).toBe(r.cka_linear.toFixed(3));
      expect(cells[8]).toBe(r.seconds.toFixed(1));
    }
  });

  it("seeds: each mean and interval as the study's own summary states it", async () => {
    const table = await TABLES['study-seeds'].render(STUDY);
    const lines = study.summary.lines.join('\n');
    for (const line of table.split('\n').slice(2)) {
      const [label, value] = line.slice(2, -2).split(' | ') as [string, string];
      const space = label.includes(': ') ? label.split(': ')[1]! : label;
      expect(lines, label).toContain(`${space} ${value}`);
    }
  });

  it("seeds against a paper preset: each pair's gap and whether the seeds establish the paper's order", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlsa-study-'));
    const withPairs = json<Record<string, Record<string, Record<string, unknown>>>>(STUDY);
    const gap = (mean: number, low: number, high: number) => ({ n: 3, mean, sd: 0.01, low, high });
    withPairs['summary']!['probe_accuracy']!['pairs'] = [
      { higher: 'merged', lower: 'naive', gap: gap(0.375, 0.3, 0.45), verdict: 'paper' },
      { higher: 'end_to_end', lower: 'merged', gap: gap(-0.008, -0.02, 0.004), verdict: 'unresolved' },
    ];
    withPairs['summary']!['probe_accuracy']!['seeds_in_paper_order'] = 2;
    const path = join(dir, 'study.json');
    writeFileSync(path, JSON.stringify(withPairs));
    const table = await TABLES['study-seeds'].render(path);
    expect(table).toContain("| probe accuracy | merged (RLSA) > naive (jumble) | 0.375 [0.300, 0.450] | established in the paper's order |");
    expect(table).toContain('| probe accuracy | end-to-end (relative) > merged (RLSA) | -0.008 [-0.020, 0.004] | not ordered by the seeds |');
    expect(table).toContain("| probe accuracy | every pair in the paper's order | 2 of 3 seeds |  |");
  });
});
