import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy, readMatrix, writeNpy } from '@rlsa/npy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The offline commands end to end: the real CLI (`node apps/cli/bin/rlsa.mjs ...`) on NPY files,
 * outputs compared with NumPy's values (fixtures/offline/make_fixtures.py, committed results),
 * and every bad input ending with status 2 and one line on stderr. All processes are started
 * in beforeAll, two at a time (each pays ~1 s of tsx start-up).
 */

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const BIN = path.join(ROOT, 'apps/cli/bin/rlsa.mjs');
const FIX = path.join(HERE, 'fixtures/offline');
const fx = (name: string) => path.join(FIX, name);

interface Expected {
  relative: Record<'cosine' | 'angular' | 'euclidean_center' | 'l1' | 'cosine_center', number[]>;
  merge_cosine: number[];
  cka: Record<'linear' | 'linear_debiased' | 'rbf' | 'rbf_debiased', number>;
  separability: { score: number; pairs: number };
  separability_subset_1_2: { score: number; pairs: number };
  shape: { n: number; anchors: number };
}
const expected = JSON.parse(readFileSync(fx('expected.json'), 'utf8')) as Expected;

/** float32 outputs against NumPy's float64 values. */
const FLOAT32_TOLERANCE = 2e-6;
/** Scalars computed in float64 from float32 inputs (the core shifts rows in float32). */
const SCALAR_TOLERANCE = 1e-6;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function rlsa(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the jobs with at most `limit` processes at once (the machine has 2 cores). */
async function runAll<K extends string>(jobs: Record<K, () => Promise<Run>>, limit = 2): Promise<Record<K, Run>> {
  const keys = Object.keys(jobs) as K[];
  const results = {} as Record<K, Run>;
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      results[key] = await jobs[key]();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

const work = mkdtempSync(path.join(tmpdir(), 'rlsa-offline-spec-'));
const out = (name: string) => path.join(work, name);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Bad inputs, written by the test.
const x = readMatrix(fx('x.npy'));
function withRow(name: string, row: number, values: number[]): string {
  const data = Float32Array.from(x.data);
  data.set(values, row * x.cols);
  writeNpy(out(name), { dtype: 'float32', shape: [x.rows, x.cols], data });
  return out(name);
}

let runs: Record<string, Run>;

beforeAll(async () => {
  const nanFile = withRow('nan.npy', 4, [0, 0, NaN]);
  const infFile = withRow('inf.npy', 2, [Infinity]);
  const zeroAnchor = withRow('zero-anchor.npy', 5, [0, 0, 0, 0, 0, 0]); // row 5 = anchor 2
  writeFileSync(out('text.npy'), 'not an array\n');
  writeNpy(out('short.npy'), { dtype: 'float32', shape: [expected.shape.n - 1, 3], data: new Float32Array((expected.shape.n - 1) * 3).fill(1) });
  writeNpy(out('idx-range.npy'), { dtype: 'int64', shape: [3], data: new BigInt64Array([0n, 24n, 2n]) });
  writeNpy(out('labels-short.npy'), { dtype: 'int32', shape: [5], data: new Int32Array(5) });
  // A Fortran-ordered file: the same bytes as a C-ordered one with the header flag flipped.
  const fortran = Buffer.from(encodeNpy({ dtype: 'float32', shape: [x.rows, x.cols], data: Float32Array.from(x.data) }));
  fortran.write("'fortran_order': True, ", fortran.indexOf("'fortran_order': False,"), 'latin1');
  writeFileSync(out('fortran.npy'), fortran);

  const idx = fx('idx.npy');
  runs = await runAll({
    cosine: () => rlsa(['relative', '--anchors-idx', idx, '--out', out('r-cos.npy'), fx('x.npy')]),
    cosineTfjs: () => rlsa(['relative', '--anchors-idx', idx, '--out', out('r-cos-tfjs.npy'), fx('x.npy')], { RLSA_LINALG: 'tfjs' }),
    angular: () => rlsa(['relative', '--similarity', 'angular', '--anchors-idx', idx, '--out', out('r-ang.npy'), fx('x.npy')]),
    euclidean: () => rlsa(['relative', '--similarity', 'euclidean', '--center', '--anchors-idx', idx, '--out', out('r-euc.npy'), fx('x.npy')]),
    l1: () => rlsa(['relative', '--similarity', 'l1', '--anchors-idx', idx, '--out', out('r-l1.npy'), fx('x.npy')]),
    merge: () => rlsa(['merge', '--anchors-idx', idx, '--out', out('m.npy'), fx('x.npy'), fx('x2.npy')]),
    ckaLinear: () => rlsa(['cka', fx('x.npy'), fx('x2.npy')]),
    ckaLinearDebiased: () => rlsa(['cka', '--debiased', fx('x.npy'), fx('x2.npy')], { RLSA_LINALG: 'tfjs' }),
    ckaRbf: () => rlsa(['cka', '--kernel', 'rbf', fx('x.npy'), fx('x2.npy')]),
    ckaRbfDebiased: () => rlsa(['cka', '--kernel', 'rbf', '--debiased', fx('x.npy'), fx('x2.npy')]),
    separability: () => rlsa(['separability', '--labels', fx('labels.npy'), fx('x.npy')]),
    separabilitySubset: () => rlsa(['separability', '--labels', fx('labels.npy'), '--subset', '1,2', fx('x.npy')]),
    // Bad input: status 2 and one line each.
    missing: () => rlsa(['relative', '--anchors-idx', idx, '--out', out('x.npy'), out('missing.npy')]),
    notNpy: () => rlsa(['cka', fx('x.npy'), out('text.npy')]),
    rowsMismatchMerge: () => rlsa(['merge', '--anchors-idx', idx, '--out', out('bad.npy'), fx('x.npy'), out('short.npy')]),
    rowsMismatchCka: () => rlsa(['cka', fx('x.npy'), out('short.npy')]),
    nan: () => rlsa(['relative', '--anchors-idx', idx, '--out', out('bad.npy'), nanFile]),
    inf: () => rlsa(['merge', '--anchors-idx', idx, '--out', out('bad.npy'), fx('x.npy'), infFile]),
    zeroAnchor: () => rlsa(['relative', '--anchors-idx', idx, '--out', out('bad.npy'), zeroAnchor]),
    indexRange: () => rlsa(['relative', '--anchors-idx', out('idx-range.npy'), '--out', out('bad.npy'), fx('x.npy')]),
    fortran: () => rlsa(['separability', '--labels', fx('labels.npy'), out('fortran.npy')]),
    labelsMismatch: () => rlsa(['separability', '--labels', out('labels-short.npy'), fx('x.npy')]),
    badSimilarity: () => rlsa(['relative', '--similarity', 'dot', '--anchors-idx', idx, '--out', out('bad.npy'), fx('x.npy')]),
  });
}, 420_000);

function matrixClose(file: string, want: number[], tolerance = FLOAT32_TOLERANCE): void {
  const got = readMatrix(file);
  expect(got.data).toBeInstanceOf(Float32Array);
  expect([got.rows, got.cols]).toEqual([expected.shape.n, expected.shape.anchors]);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want[i]!));
  expect(worst).toBeLessThan(tolerance);
}

function ok(run: Run | undefined): Run {
  expect(run).toBeDefined();
  expect(run!.stderr).toBe('');
  expect(run!.status).toBe(0);
  return run!;
}

describe('rlsa relative', () => {
  it('writes the cosine relative representation NumPy computes (N×A float32)', () => {
    ok(runs['cosine']);
    matrixClose(out('r-cos.npy'), expected.relative.cosine);
  });
  it('gives the same result through the tfjs (wasm) products', () => {
    ok(runs['cosineTfjs']);
    matrixClose(out('r-cos-tfjs.npy'), expected.relative.cosine, 1e-5);
  });
  it('supports angular, centred euclidean and l1 similarity', () => {
    ok(runs['angular']);
    matrixClose(out('r-ang.npy'), expected.relative.angular);
    ok(runs['euclidean']);
    matrixClose(out('r-euc.npy'), expected.relative.euclidean_center, 1e-5);
    ok(runs['l1']);
    matrixClose(out('r-l1.npy'), expected.relative.l1, 1e-5);
  });
});

describe('rlsa merge', () => {
  it('averages the relative representations of spaces of different widths', () => {
    ok(runs['merge']);
    matrixClose(out('m.npy'), expected.merge_cosine);
  });
});

describe('rlsa cka', () => {
  const cases = [
    ['ckaLinear', 'linear', false, expected.cka.linear],
    ['ckaLinearDebiased', 'linear', true, expected.cka.linear_debiased],
    ['ckaRbf', 'rbf', false, expected.cka.rbf],
    ['ckaRbfDebiased', 'rbf', true, expected.cka.rbf_debiased],
  ] as const;
  for (const [key, kernel, debiased, want] of cases) {
    it(`prints one JSON object with NumPy's ${kernel}${debiased ? ' debiased' : ''} CKA`, () => {
      const run = ok(runs[key]);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const result = JSON.parse(lines[0]!) as { cka: number; n: number; kernel: string; debiased: boolean; dx: number; dy: number };
      expect(result).toMatchObject({ n: expected.shape.n, kernel, debiased, dx: 6, dy: 3 });
      expect(Math.abs(result.cka - want)).toBeLessThan(SCALAR_TOLERANCE);
    });
  }
});

describe('rlsa separability', () => {
  it("prints NumPy's score over all class pairs and over pairs touching a subset", () => {
    const all = JSON.parse(ok(runs['separability']).stdout) as { score: number; pairs: number; n: number; classes: number; subset: null };
    expect(all).toMatchObject({ pairs: expected.separability.pairs, n: expected.shape.n, classes: 4, subset: null });
    expect(Math.abs(all.score - expected.separability.score)).toBeLessThan(1e-9);
    const sub = JSON.parse(ok(runs['separabilitySubset']).stdout) as { score: number; pairs: number; subset: number[] };
    expect(sub.subset).toEqual([1, 2]);
    expect(sub.pairs).toBe(expected.separability_subset_1_2.pairs);
    expect(Math.abs(sub.score - expected.separability_subset_1_2.score)).toBeLessThan(1e-9);
  });
});

describe('bad input: exit status 2 and one line on stderr', () => {
  const cases: [string, RegExp][] = [
    ['missing', /^rlsa: .*missing\.npy: no such file$/],
    ['notNpy', /^rlsa: .*text\.npy: not an NPY file/],
    ['rowsMismatchMerge', /^rlsa: .*short\.npy has 23 rows but .*x\.npy has 24: merge needs the same samples/],
    ['rowsMismatchCka', /^rlsa: .*short\.npy has 23 rows but .*x\.npy has 24/],
    ['nan', /^rlsa: .*nan\.npy: NaN at row 4, column 2$/],
    ['inf', /^rlsa: .*inf\.npy: Infinity at row 2, column 0$/],
    ['zeroAnchor', /^rlsa: .*zero-anchor\.npy: anchor 2 \(row 5\) has zero norm/],
    ['indexRange', /^rlsa: .*idx-range\.npy: anchor indices .*position 1 holds 24, outside \[0, 24\)$/],
    ['fortran', /^rlsa: .*fortran\.npy: the array is stored in Fortran \(column-major\) order/],
    ['labelsMismatch', /^rlsa: .*labels-short\.npy has 5 labels but .*x\.npy has 24 rows$/],
    ['badSimilarity', /argument 'dot' is invalid/],
  ];
  for (const [key, message] of cases) {
    it(key, () => {
      const run = runs[key]!;
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.endsWith('\n')).toBe(true);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('writes no output file when the input is bad', () => {
    expect(() => readFileSync(out('bad.npy'))).toThrow();
  });
});
