import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearCka, meanOverSpaces, nearestCentroidAccuracy, separability, takeRows, type Matrix } from '@rlsa/core';
import { TEST_ID_OFFSET, loadDataset } from '@rlsa/data';
import { toBuiltinIds } from '@rlsa/client';
import { readNpy } from '@rlsa/npy';
import type { SimulationResults } from '../src/results.ts';
import { CLI, runCli } from './run-cli.ts';

/**
 * `rlsa simulate` end to end on the synthetic data set with tiny models: real processes (the CLI,
 * the aggregator, two trainers and the reference), real gRPC over loopback, real SQLite. The
 * numbers in results.json are checked against values recomputed with @rlsa/core from the arrays the
 * run saved, and against the aggregator's own merge and CKA.
 */

/** Processes whose command line mentions `text` (the run's output directory): none may survive a run. */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const matrixOf = (path: string): Matrix => {
  const a = readNpy(path);
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data as Float32Array };
};
/** A sample id file: uint64, the protocol's ids (here all the built-in data set's, below 2^32). */
const idsOf = (path: string): Uint32Array => {
  const array = readNpy(path);
  expect(array.dtype).toBe('uint64');
  return toBuiltinIds(array.data as BigUint64Array);
};

/** Rows of `x` (ids `xIds`) paired with the rows of `y` (ids `yIds`) holding the same id, test ids only if asked. */
function paired(x: Matrix, xIds: Uint32Array, y: Matrix, yIds: Uint32Array, testOnly: boolean): [Matrix, Matrix] {
  const at = new Map(Array.from(yIds, (id, i) => [id, i] as const));
  const xs: number[] = [];
  const ys: number[] = [];
  xIds.forEach((id, i) => {
    const j = at.get(id);
    if (j !== undefined && (!testOnly || id >= TEST_ID_OFFSET)) {
      xs.push(i);
      ys.push(j);
    }
  });
  return [takeRows(x, xs), takeRows(y, ys)];
}

describe('rlsa simulate (synthetic, real processes)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'rlsa-sim-')), 'run');
  let result: { code: number | null; stdout: string; stderr: string };
  let results: SimulationResults;

  beforeAll(async () => {
    result = await runCli(
      [
        'simulate',
        '--dataset',
        'synthetic',
        '--scenario',
        'shared-classes',
        '--model',
        'mlp',
        '--epochs',
        '2',
        '--anchors',
        '64',
        '--probe-epochs',
        '5',
        '--probe-patience',
        '2',
        '--no-progress',
        '--out',
        out,
      ],
      170_000,
    );
    if (result.code === 0) results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults;
  }, 180_000);

  afterAll(() => {
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('exits 0, prints the summary table and stops every process it started', () => {
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stdout).toMatch(/merged vs reference\s+\d\.\d{3}\s+\d\.\d{3}\s+\d+/);
    expect(result.stdout).toContain(join(out, 'report.html'));
    expect(processesMentioning(out)).toEqual([]);
    for (const name of ['aggregator', 'node-0', 'node-1', 'reference']) expect(statSync(join(out, 'logs', `${name}.log`)).size).toBeGreaterThan(0);
    expect(existsSync(join(out, 'aggregator', 'aggregator.sqlite'))).toBe(true);
  });

  it('records the run: scenario, nodes, anchors, backend', () => {
    expect(results.scenario).toBe('shared-classes');
    expect(results.dataset).toBe('synthetic');
    expect(results.anchors).toMatchObject({ count: 64, strategy: 'random', pool_size: 1000 });
    expect(results.nodes.map((n) => [n.node_id, n.role, n.task])).toEqual([
      ['node-0', 'trainer', 0],
      ['node-1', 'trainer', 1],
      ['reference', 'reference', null],
    ]);
    for (const n of results.nodes) expect(n.task_accuracy).toBeGreaterThan(0.1);
    expect(['node', 'wasm', 'cpu']).toContain(results.backend);
    expect(results.spaces.map((s) => s.name)).toEqual(['merged', 'naive', 'end_to_end', 'end_to_end_absolute']);
    for (const phase of ['prepare', 'aggregator_start', 'train_and_upload', 'read', 'cka', 'centroid_and_separability', 'probes', 'report', 'total']) expect(results.timings_s[phase]).toBeGreaterThanOrEqual(0);
  });

  it('saved the merged space the aggregator computed: the mean of the trainers’ relative spaces, labelled by id', () => {
    const merged = matrixOf(join(out, 'merged.npy'));
    const ids = idsOf(join(out, 'sample_ids.npy'));
    const labels = readNpy(join(out, 'labels.npy')).data as Int32Array;
    const counts = readNpy(join(out, 'merged_counts.npy')).data as Uint32Array;
    expect(merged.cols).toBe(64);
    expect(ids.length).toBe(merged.rows);
    const nodes = ['node-0', 'node-1'].map((n) => ({
      sampleIds: idsOf(join(out, 'nodes', `${n}_sample_ids.npy`)),
      values: matrixOf(join(out, 'nodes', `${n}_relative.npy`)),
    }));
    const offline = meanOverSpaces(nodes);
    expect(Array.from(offline.sampleIds)).toEqual(Array.from(ids));
    let maxError = 0;
    for (let t = 0; t < merged.data.length; t++) maxError = Math.max(maxError, Math.abs(merged.data[t]! - offline.values.data[t]!));
    expect(maxError).toBeLessThan(1e-6);
    // Shared classes: each training sample belongs to one task, every test sample to both.
    ids.forEach((id, i) => expect(counts[i]).toBe(id >= TEST_ID_OFFSET ? 2 : 1));
    const dataset = loadDataset('synthetic');
    ids.forEach((id, i) => expect(labels[i]).toBe(id >= TEST_ID_OFFSET ? dataset.test.labels[id - TEST_ID_OFFSET] : dataset.train.labels[id]));
  });

  it('reports CKA values that @rlsa/core recomputes from the saved arrays', () => {
    const merged = matrixOf(join(out, 'merged.npy'));
    const ids = idsOf(join(out, 'sample_ids.npy'));
    const reference = matrixOf(join(out, 'reference_relative.npy'));
    const referenceIds = idsOf(join(out, 'reference_sample_ids.npy'));
    const [x, y] = paired(merged, ids, reference, referenceIds, true);
    expect(results.cka.merged_vs_reference.n).toBe(x.rows);
    expect(results.cka.merged_vs_reference.linear).toBeCloseTo(linearCka(x, y), 9);
    expect(results.cka.merged_vs_reference.linear_debiased).toBeCloseTo(linearCka(x, y, { debiased: true }), 9);
    // The aggregator's Evaluate uses every sample shared with the reference (train and test).
    const [xa, ya] = paired(merged, ids, reference, referenceIds, false);
    const evaluated = results.cka.aggregator_evaluate.find((s) => s.subject === 'merged')!;
    expect(evaluated.n).toBe(xa.rows);
    expect(evaluated.linear).toBeCloseTo(linearCka(xa, ya), 6);

    const naive = matrixOf(join(out, 'naive.npy'));
    const naiveIds = idsOf(join(out, 'naive_sample_ids.npy'));
    const referenceAbsolute = matrixOf(join(out, 'reference_absolute.npy'));
    const [nx, ny] = paired(naive, naiveIds, referenceAbsolute, referenceIds, true);
    expect(results.cka.naive_vs_reference.n).toBe(nx.rows);
    expect(results.cka.naive_vs_reference.linear).toBeCloseTo(linearCka(nx, ny), 9);
    expect(results.cka.merged_vs_reference_shared_classes).toBeNull();
  });

  it('reports separability and nearest-centroid accuracy that @rlsa/core recomputes', () => {
    const merged = matrixOf(join(out, 'merged.npy'));
    const ids = idsOf(join(out, 'sample_ids.npy'));
    const labels = readNpy(join(out, 'labels.npy')).data as Int32Array;
    const train = Array.from(ids.keys()).filter((i) => ids[i]! < TEST_ID_OFFSET);
    const test = Array.from(ids.keys()).filter((i) => ids[i]! >= TEST_ID_OFFSET);
    const space = results.spaces.find((s) => s.name === 'merged')!;
    expect(space.train_rows).toBe(train.length);
    expect(space.test_rows).toBe(test.length);
    expect(space.separability).toBeCloseTo(separability(takeRows(merged, test), test.map((i) => labels[i]!)).score, 9);
    expect(space.nearest_centroid_accuracy).toBeCloseTo(
      nearestCentroidAccuracy(takeRows(merged, train), train.map((i) => labels[i]!), takeRows(merged, test), test.map((i) => labels[i]!)),
      12,
    );
    for (const s of results.spaces) expect(s.probe_accuracy).toBeGreaterThan(0.1);
  });

  it('writes a self-contained report with its tables and SVG plots', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['table-run', 'table-nodes', 'table-cka', 'table-spaces', 'table-timings']) expect(html).toContain(`<table id="${id}">`);
    for (const id of ['plot-pca', 'plot-cka', 'plot-accuracy', 'plot-separability']) expect(html).toMatch(new RegExp(`<figure id="${id}">[\\s\\S]*?<svg[\\s\\S]*?</svg>`));
    expect(html).toContain(`<td>${results.cka.merged_vs_reference.linear.toFixed(3)}</td>`);
    expect(html).not.toMatch(/<script/);
  });
});

describe("rlsa simulate --test-split partition (the paper's shared-classes protocol)", () => {
  it('gives each test sample to one trainer: the merged space holds it once, as that trainer embedded it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rlsa-sim-split-')), 'run');
    const r = await runCli(
      ['simulate', '--dataset', 'synthetic', '--scenario', 'shared-classes', '--test-split', 'partition', '--model', 'mlp', '--epochs', '1', '--anchors', '32', '--no-probe', '--no-progress', '--out', out],
      150_000,
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults;
    expect(results.partition.test_split).toBe('partition');
    expect(results.notes.some((n) => n.includes('each test sample is embedded by one trainer'))).toBe(true);
    const ids = idsOf(join(out, 'sample_ids.npy'));
    const counts = readNpy(join(out, 'merged_counts.npy')).data as Uint32Array;
    expect(Array.from(counts).every((c) => c === 1)).toBe(true);
    const nodeTest = ['node-0', 'node-1'].map((n) => Array.from(idsOf(join(out, 'nodes', `${n}_sample_ids.npy`))).filter((id) => id >= TEST_ID_OFFSET));
    const referenceTest = Array.from(idsOf(join(out, 'reference_sample_ids.npy'))).filter((id) => id >= TEST_ID_OFFSET);
    expect([...nodeTest[0]!, ...nodeTest[1]!].sort((a, b) => a - b)).toEqual(referenceTest);
    expect(Array.from(ids).filter((id) => id >= TEST_ID_OFFSET)).toEqual(referenceTest);
    // Where one trainer holds a sample, the merged row is that trainer's relative row.
    const merged = matrixOf(join(out, 'merged.npy'));
    const node1 = matrixOf(join(out, 'nodes', 'node-1_relative.npy'));
    const node1Ids = idsOf(join(out, 'nodes', 'node-1_sample_ids.npy'));
    const [x, y] = paired(node1, node1Ids, merged, ids, true);
    expect(Array.from(x.data)).toEqual(Array.from(y.data));
    expect(processesMentioning(out)).toEqual([]);
    rmSync(join(out, '..'), { recursive: true, force: true });
  }, 160_000);

  it('with a preset, --scenario keeps only that experiment, and one the preset lacks is a usage error (exit 2, one line)', async () => {
    const r = await runCli(['simulate', '--preset', 'main-job', '--scenario', 'disjoint', '--no-progress'], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('rlsa: preset "main-job" has no disjoint run (its runs: shared-classes)');
  }, 70_000);
});

describe('rlsa simulate failures', () => {
  it('stops everything and says in one line which node failed and where its log is', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rlsa-sim-fail-')), 'run');
    const r = await runCli(['simulate', '--dataset', 'synthetic', '--model', 'no-such-model', '--no-probe', '--no-progress', '--out', out], 120_000);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('rlsa: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rlsa: (node-\d|reference) failed \(exit code \d+\): .* \(log: .*\/logs\/(node-\d|reference)\.log\)$/);
    expect(processesMentioning(out)).toEqual([]);
    rmSync(join(out, '..'), { recursive: true, force: true });
  }, 130_000);
});

describe('rlsa simulate interrupted', () => {
  it('stops the aggregator and the nodes on SIGINT and exits 130 with one line', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rlsa-sim-int-')), 'run');
    const child = spawn(process.execPath, [CLI, 'simulate', '--dataset', 'synthetic', '--model', 'mlp', '--epochs', '50', '--no-progress', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupt once every node has started (its log file exists and the node has printed something).
    const deadline = Date.now() + 90_000;
    const started = () => ['node-0', 'node-1', 'reference'].every((n) => existsSync(join(out, 'logs', `${n}.log`)) && statSync(join(out, 'logs', `${n}.log`)).size > 0);
    while (!started() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(started()).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('rlsa: interrupted; stopped the aggregator and the nodes');
    expect(processesMentioning(out)).toEqual([]);
    rmSync(join(out, '..'), { recursive: true, force: true });
  }, 120_000);
});
