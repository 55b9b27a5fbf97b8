import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulationResults } from '../src/results.ts';
import { runCli } from './run-cli.ts';
import { seedInterval } from '../src/seed-summary.ts';
import type { SeedsSummary, StudyRow } from '../src/study.ts';

/**
 * `rlsa study seeds` end to end on the synthetic data set: two full simulations (real processes and
 * gRPC), and a summary whose means and intervals are recomputed from the runs' own results.json.
 */


describe('rlsa study seeds (synthetic, real processes)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'rlsa-study-')), 'study');
  let result: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    result = await runCli(
      ['study', 'seeds', '--values', '3,4', '--dataset', 'synthetic', '--model', 'mlp', '--epochs', '1', '--anchors', '32', '--probe-epochs', '3', '--probe-patience', '1', '--no-progress', '--out', out],
      280_000,
    );
  }, 290_000);

  afterAll(() => {
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('runs one simulation per seed, each with its seed, and summarises them', () => {
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const study = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as { kind: string; rows: StudyRow[]; summary: SeedsSummary };
    expect(study.kind).toBe('seeds');
    expect(study.rows.map((r) => r.value)).toEqual(['3', '4']);
    const runs = study.rows.map((r) => JSON.parse(readFileSync(join(r.out, 'results.json'), 'utf8')) as SimulationResults);
    expect(runs.map((r) => r.seed)).toEqual([3, 4]);
    expect(study.summary.seeds).toEqual(['3', '4']);
    // Recomputed from each run's own results.json.
    const cka = seedInterval(runs.map((r) => r.cka.merged_vs_reference.linear));
    expect(study.summary.cka_linear).toEqual(cka);
    for (const name of ['merged', 'naive', 'end_to_end', 'end_to_end_absolute']) {
      const values = runs.map((r) => r.spaces.find((s) => s.name === name)!.probe_accuracy!);
      expect(study.summary.probe_accuracy.spaces[name]).toEqual(seedInterval(values));
    }
    // The synthetic data set has no paper numbers: no pairs to judge.
    expect(study.summary.paper).toBeNull();
    expect(study.summary.probe_accuracy.pairs).toEqual([]);
    expect(result.stdout).toMatch(/^seed\s+CKA/m);
    expect(result.stdout).toContain('2 of 2 seeds finished; means with 95 % t intervals.');
    const html = readFileSync(join(out, 'study.html'), 'utf8');
    expect(html).toContain('<table id="table-seeds">');
    expect(html).toMatch(/<figure id="plot-study-accuracy"><svg[\s\S]*?<\/svg><\/figure>/);
  });
});

describe('rlsa study usage errors', () => {
  it('refuses a preset with several runs and no --scenario (exit 2, one line)', async () => {
    const r = await runCli(['study', 'seeds', '--preset', 'paper-cifar100', '--no-progress'], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('rlsa: a study sweeps one scenario: give --scenario with preset "paper-cifar100" (its runs: shared-samples, shared-classes, disjoint)');
  }, 70_000);

  it('refuses a malformed seed (exit 2, one line)', async () => {
    const never = join(mkdtempSync(join(tmpdir(), 'rlsa-study-bad-')), 'study');
    const r = await runCli(['study', 'seeds', '--values', '1,x', '--dataset', 'synthetic', '--no-progress', '--out', never], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('rlsa: study seeds: bad value "x" (an integer ≥ 0)');
    expect(existsSync(never)).toBe(false);
    rmSync(join(never, '..'), { recursive: true, force: true });
  }, 70_000);
});
