import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulationResults } from '@rlsa/simulation';
import { describe, expect, it } from 'vitest';
import { TABLES } from '../../docs-tables/tables.ts';

/**
 * The renderers against the JSON the commands wrote (committed in docs/results and bench/results):
 * every cell checked here is recomputed from the parsed JSON, independently of the renderer.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN_JOB = join(ROOT, 'docs/results/main-job.json');

function json<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
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
    const bench = json<{ rounds: { ratio: number }[]; ratioToRawGrpc: number; targets: { throughputRatio: { met: boolean } } }>(path);
    const table = await TABLES['bench-aggregator'].render(path);
    bench.rounds.forEach((round, i) => expect(row(table, String(i + 1))[3]).toBe(round.ratio.toFixed(3)));
    const throughput = table.split('\n').find((l) => l.startsWith('| throughput'))!;
    expect(throughput).toContain(`${bench.ratioToRawGrpc.toFixed(3)}×`);
    expect(throughput.endsWith(bench.targets.throughputRatio.met ? '| met |' : '| not met |')).toBe(true);
  });

  it('training: one row per round and the medians', async () => {
    const path = join(ROOT, 'bench/results/train.json');
    const bench = json<{ rounds: { tfjsImagesPerSecond: number }[]; ratios: { tfjsOverTorch1Thread: number | null } }>(path);
    const table = await TABLES['bench-train'].render(path);
    bench.rounds.forEach((round, i) => expect(row(table, String(i + 1))[1]).toMatch(new RegExp(`^${round.tfjsImagesPerSecond.toFixed(1)} `)));
    expect(table).toContain(`**${bench.ratios.tfjsOverTorch1Thread?.toFixed(3) ?? '–'}**`);
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
