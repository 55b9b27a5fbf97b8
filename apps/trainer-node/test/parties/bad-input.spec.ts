import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregatorClient, type AggregatorClient } from '@rlsa/client';
import type { NpyArray } from '@rlsa/npy';
import { runRlsa, startAggregatorProcess, type AggregatorProcess, type RlsaRun } from '../helpers.ts';
import { createAnchorSetRun, FIXTURES, fixture, imageRow, PARTY_ENCODER, writeNpyFolder, writePng } from './party-files.ts';

// Issue 14's bad inputs, each given to the real `rlsa trainer` against a real aggregator: one line
// on stderr naming the file, exit status 2, no results file, and the aggregator's state unchanged
// (nothing joined, nothing uploaded).

const SIDE = 8;
const ANCHORS = 10;
const pool = fixture('pool');
const anchorImages = fixture('anchors');
/** Node processes at once: each start-up costs a core for a few seconds. */
const CONCURRENCY = 3;

let dir: string;
let aggregator: AggregatorProcess;
let admin: AggregatorClient;

const at = (...parts: string[]): string => path.join(dir, ...parts);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rlsa-bad-input-'));
  aggregator = await startAggregatorProcess(at('aggregator'));
  admin = createAggregatorClient({ address: `127.0.0.1:${aggregator.port}` });
  for (let i = 0; i < ANCHORS; i++) await writePng(at('anchors', `anchor-${String(i).padStart(2, '0')}.png`), imageRow(anchorImages, i), SIDE);
  await createAnchorSetRun(admin, 'bad', at('anchors'));
}, 120_000);

afterAll(async () => {
  admin?.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An image folder of pool images 0..n−1 in class folders. */
async function imageFolder(name: string, n = 8): Promise<string> {
  for (let i = 0; i < n; i++) await writePng(at(name, `class-${i % 2}`, `image-${i}.png`), imageRow(pool, i), SIDE);
  return at(name);
}

/** N feature rows, F wide, with the given ids. */
const features = (rows: number, width: number, value = (i: number) => Math.sin(i)): NpyArray => ({
  dtype: 'float32',
  shape: [rows, width],
  data: Float32Array.from({ length: rows * width }, (_, i) => value(i)),
});
const uint64 = (values: readonly number[]): NpyArray => ({ dtype: 'uint64', shape: [values.length], data: BigUint64Array.from(values, BigInt) });

/** An embeddings folder of 6 rows of 12 with 10 anchor embeddings, as a party computes them; `change` replaces files. */
function embeddingsFolder(name: string, change: Record<string, NpyArray> = {}): string {
  return writeNpyFolder(at(name), {
    'embeddings.npy': features(6, 12),
    'ids.npy': uint64([1, 2, 3, 4, 5, 6]),
    'anchor_embeddings.npy': features(ANCHORS, 12, Math.cos),
    ...change,
  });
}

interface BadInput {
  readonly name: string;
  /** Writes the input; returns the node's arguments after `--run` and `--node-id`. */
  readonly prepare: () => Promise<string[]>;
  /** The file the one line names first. */
  readonly file: () => string;
  readonly message: RegExp;
}

const CASES: readonly BadInput[] = [
  {
    name: 'an unreadable image',
    prepare: async () => {
      const folder = await imageFolder('unreadable');
      writeFileSync(at('unreadable', 'class-0', 'broken.png'), 'not a png at all');
      return ['--data', `imagefolder:${folder}`, '--model', `onnx:${PARTY_ENCODER}`];
    },
    file: () => at('unreadable', 'class-0', 'broken.png'),
    message: /not a readable image/,
  },
  {
    name: 'a truncated image',
    prepare: async () => {
      const folder = await imageFolder('truncated');
      const file = at('truncated', 'class-1', 'image-1.png');
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      return ['--data', `imagefolder:${folder}`, '--model', `onnx:${PARTY_ENCODER}`];
    },
    file: () => at('truncated', 'class-1', 'image-1.png'),
    message: /cannot decode the image .*truncated or corrupt/,
  },
  {
    name: 'a class folder with no images',
    prepare: async () => {
      const folder = await imageFolder('empty-class');
      mkdirSync(at('empty-class', 'class-9'));
      return ['--data', `imagefolder:${folder}`, '--model', `onnx:${PARTY_ENCODER}`];
    },
    file: () => at('empty-class', 'class-9'),
    message: /a class folder with no PNG or JPEG image/,
  },
  {
    name: 'images of mixed sizes without --resize',
    prepare: async () => {
      const folder = await imageFolder('mixed');
      copyFileSync(at('mixed', 'class-0', 'image-0.png'), at('mixed', 'class-0', 'copy.png'));
      await writePng(at('mixed', 'class-1', 'large.png'), new Uint8Array(12 * 12 * 3).fill(90), 12);
      return ['--data', `imagefolder:${folder}`, '--model', `onnx:${PARTY_ENCODER}`];
    },
    file: () => at('mixed'),
    message: /mixed sizes need a resize rule \(--resize HxW\)/,
  },
  {
    name: 'an ONNX model whose input does not fit the data',
    prepare: async () => {
      const folder = writeNpyFolder(at('onnx-input'), { 'x.npy': { dtype: 'uint8', shape: [4, 16, 16, 3], data: new Uint8Array(4 * 16 * 16 * 3).fill(7) } });
      return ['--data', `npy:${folder}`, '--model', `onnx:${PARTY_ENCODER}`];
    },
    file: () => PARTY_ENCODER,
    message: /input "pixels" is \[n, 3, 8, 8\], the data \(16×16×3\)/,
  },
  {
    name: 'an ONNX model whose output does not fit',
    prepare: async () => ['--data', `imagefolder:${await imageFolder('onnx-output')}`, '--model', `onnx:${path.join(FIXTURES, 'rank3-output.onnx')}`],
    file: () => path.join(FIXTURES, 'rank3-output.onnx'),
    message: /an embedding must be float32 \[N, D\]/,
  },
  {
    name: 'embeddings.npy and ids.npy of different lengths',
    prepare: async () => ['--model', `embeddings:${embeddingsFolder('lengths', { 'ids.npy': uint64([1, 2, 3, 4, 5]) })}`],
    file: () => at('lengths', 'ids.npy'),
    message: /5 entries but embeddings\.npy has 6 rows/,
  },
  {
    name: 'anchor embeddings of the wrong count',
    prepare: async () => ['--model', `embeddings:${embeddingsFolder('anchor-count', { 'anchor_embeddings.npy': features(ANCHORS - 1, 12) })}`],
    file: () => at('anchor-count', 'anchor_embeddings.npy'),
    message: /9 anchor embeddings, the run has 10 anchors/,
  },
  {
    name: 'anchor embeddings of the wrong width',
    prepare: async () => ['--model', `embeddings:${embeddingsFolder('anchor-width', { 'anchor_embeddings.npy': features(ANCHORS, 11) })}`],
    file: () => at('anchor-width', 'anchor_embeddings.npy'),
    message: /anchor embeddings are 11 wide, embeddings.npy's are 12/,
  },
  {
    name: 'NaN in the embeddings',
    prepare: async () => ['--model', `embeddings:${embeddingsFolder('nan', { 'embeddings.npy': features(6, 12, (i) => (i === 17 ? Number.NaN : 1)) })}`],
    file: () => at('nan', 'embeddings.npy'),
    message: /NaN at row 1, position 5: values must be finite/,
  },
  {
    name: 'two different contents with one user-given id',
    prepare: async () => {
      const folder = writeNpyFolder(at('id-conflict'), { 'x.npy': features(4, 5), 'ids.npy': uint64([7, 8, 7, 9]) });
      return ['--data', `npy:${folder}`, '--model', 'mlp', '--epochs', '1'];
    },
    file: () => at('id-conflict'),
    message: /x\.npy\[0\] and x\.npy\[2\] have different contents but one id/,
  },
  {
    name: 'a local anchor copy whose fingerprint differs (refused before training)',
    prepare: async () => {
      cpSync(at('anchors'), at('tampered'), { recursive: true });
      // The same pixels, other bytes: another anchor set.
      await writePng(at('tampered', 'anchor-03.png'), imageRow(anchorImages, 3), SIDE, 9);
      return ['--data', `imagefolder:${await imageFolder('tampered-data')}`, '--model', 'vanilla-cnn', '--anchors', at('tampered')];
    },
    file: () => at('tampered'),
    message: /the anchor set hashes to [0-9a-f]{16}…, the run's is [0-9a-f]{16}…/,
  },
];

/** Runs `tasks` at most `limit` at a time, results in order. */
async function limited<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const k = next++;
      results[k] = await tasks[k]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bad input: one line naming the file, exit 2, nothing sent', () => {
  it('every case, with the aggregator state before and after', async () => {
    const before = await admin.getRun('bad');
    const runs: RlsaRun[] = await limited(
      CASES.map((c, k) => async () => {
        const args = await c.prepare();
        return runRlsa(['trainer', '--aggregator', `127.0.0.1:${aggregator.port}`, '--run', 'bad', '--node-id', `node-${k}`, '--results-file', at(`results-${k}.json`), '--log-level', 'info', ...args]);
      }),
      CONCURRENCY,
    );
    const outcomes = runs.map((run, k) => ({ case: CASES[k]!.name, code: run.code, stdout: run.stdout, stderr: run.stderr, lines: run.stderr.split('\n').length - 1 }));
    console.info(outcomes.map((o) => `${o.case}: exit ${o.code}, ${o.stderr.trim()}`).join('\n'));
    CASES.forEach((c, k) => {
      const outcome = outcomes[k]!;
      expect({ case: c.name, code: outcome.code, lines: outcome.lines }).toEqual({ case: c.name, code: 2, lines: 1 });
      expect(outcome.stderr, c.name).toMatch(new RegExp(`^rlsa: ${escape(c.file())}: `));
      expect(outcome.stderr, c.name).toMatch(c.message);
      expect(existsSync(at(`results-${k}.json`)), `${c.name}: no results file`).toBe(false);
      // Refused before it joined; the tampered anchor copy (checked when the run is resolved) before any training epoch.
      expect(outcome.stdout, c.name).not.toContain('"msg":"joined the run"');
      if (c.name.startsWith('a local anchor copy')) expect(outcome.stdout).not.toMatch(/"msg":"epoch \d+"/);
    });
    const after = await admin.getRun('bad');
    expect(after).toEqual(before);
    expect(after.nodes).toEqual([]);
  }, 600_000);
});
