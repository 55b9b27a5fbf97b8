import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient, SpaceRows } from '@rlsa/client';
import { readNpy } from '@rlsa/npy';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_HEADER_BYTES } from '../src/commands/export-npy-appender.ts';
import { rlsa, spawnRlsa, startAggregator } from './operator/cli-process.ts';
import type { RunningAggregator } from './operator/cli-process.ts';

/**
 * `rlsa export` against a real aggregator: the NPY files hold exactly what ReadMerged (or, for
 * --space, ReadNodeSpace) answers over gRPC, bit for bit; an export interrupted (files cut mid-row,
 * or the process killed mid-stream) is continued by the same command to the same files.
 */

const WIDTH = 12;
const ROWS = 60_000;
const dir = mkdtempSync(path.join(tmpdir(), 'rlsa-export-cli-'));
const tokensFile = path.join(dir, 'tokens.yaml');
let aggregator: RunningAggregator;
let admin: AggregatorClient;
const env = (): Record<string, string> => ({ RLSA_AGGREGATOR: aggregator.address, RLSA_TOKEN_FILE: path.join(dir, 'ops.token') });

function values(count: number, seed: number): Float32Array {
  const data = new Float32Array(count);
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    data[i] = (x / 2147483648) * 2 - 1;
  }
  return data;
}

/** Two trainers over overlapping samples (ids spread over 64 bits), so that counts are 1 and 2. */
async function fill(): Promise<void> {
  await admin.createRun({ runId: 'big', anchors: { kind: 'builtin', dataset: '', sampleIds: Array.from({ length: WIDTH }, (_, i) => BigInt(i)), fingerprint: 'c'.repeat(64) } });
  for (const [nodeId, start] of [['t1', 0], ['t2', ROWS / 2]] as const) {
    const node = createAggregatorClient({ address: aggregator.address, token: readFileSync(path.join(dir, `${nodeId}.token`), 'utf8').trim() });
    await node.join({ runId: 'big', nodeId, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 4 }, anchorFingerprint: 'c'.repeat(64), relativeWidth: WIDTH });
    const chunks = [];
    for (let from = start; from < start + ROWS; from += 5000) {
      const ids = new BigUint64Array(5000).map((_, i) => BigInt(from + i) * 0x1_0000_0001n + 7n);
      chunks.push({ sampleIds: ids, values: { rows: 5000, cols: WIDTH, data: values(5000 * WIDTH, from + 1) }, labels: Int32Array.from({ length: 5000 }, (_, i) => (from + i) % 10) });
    }
    await node.upload({ runId: 'big', nodeId, chunks });
    node.close();
  }
}

/** The export's arrays as read back with @rlsa/npy. */
function exported(out: string, names: { values: string; counts: string }): SpaceRows {
  const load = (name: string) => readNpy(path.join(out, name));
  const v = load(names.values);
  return {
    sampleIds: load('sample_ids.npy').data as BigUint64Array,
    values: { rows: v.shape[0] as number, cols: v.shape[1] as number, data: v.data as Float32Array },
    labels: load('labels.npy').data as Int32Array,
    counts: load(names.counts).data as Uint32Array,
  };
}

function expectSameRows(actual: SpaceRows, expected: SpaceRows): void {
  expect(actual.values.rows).toBe(expected.values.rows);
  expect(actual.values.cols).toBe(expected.values.cols);
  expect(Buffer.from(actual.sampleIds.buffer, actual.sampleIds.byteOffset, actual.sampleIds.byteLength).equals(Buffer.from(expected.sampleIds.buffer, expected.sampleIds.byteOffset, expected.sampleIds.byteLength))).toBe(true);
  expect(Buffer.from(actual.values.data.buffer, actual.values.data.byteOffset, actual.values.data.byteLength).equals(Buffer.from(expected.values.data.buffer, expected.values.data.byteOffset, expected.values.data.byteLength))).toBe(true);
  expect(Array.from(actual.labels)).toEqual(Array.from(expected.labels));
  expect(Array.from(actual.counts)).toEqual(Array.from(expected.counts));
}

const MERGED = { values: 'merged.npy', counts: 'merged_counts.npy' };

beforeAll(async () => {
  for (const [subject, grant] of [['ops', 'admin'], ['t1', 'node:big'], ['t2', 'node:big']]) {
    const result = await rlsa(['tokens', 'add', subject as string, '--file', tokensFile, '--grant', grant as string]);
    writeFileSync(path.join(dir, `${subject}.token`), result.stdout);
  }
  aggregator = await startAggregator(['--data-dir', path.join(dir, 'data'), '--tokens-file', tokensFile]);
  admin = createAggregatorClient({ address: aggregator.address, token: readFileSync(path.join(dir, 'ops.token'), 'utf8').trim() });
  await fill();
}, 180_000);

afterAll(async () => {
  admin?.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rlsa export', () => {
  it('writes the merged space, its 64-bit ids, labels and counts exactly as ReadMerged answers them', async () => {
    const out = path.join(dir, 'merged');
    const result = await rlsa(['export', 'big', '--out', out, '--batch-rows', '7000'], env());
    expect(result).toMatchObject({ code: 0, stdout: `exported ${ROWS * 1.5} rows of the merged space of run big to ${out}\n` });
    const expected = await admin.readMerged('big');
    expect(expected.values.rows).toBe(ROWS * 1.5);
    expectSameRows(exported(out, MERGED), expected);
    expect(new Set(expected.counts)).toEqual(new Set([1, 2]));
    expect(JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8'))).toMatchObject({ runId: 'big', space: 'merged', width: WIDTH, complete: true, rows: ROWS * 1.5 });
    // Run again: complete already, nothing rewritten.
    const mtime = statSync(path.join(out, 'merged.npy')).mtimeMs;
    expect((await rlsa(['export', 'big', '--out', out], env())).stdout).toBe(`${out} holds the complete export of the merged space of run big already\n`);
    expect(statSync(path.join(out, 'merged.npy')).mtimeMs).toBe(mtime);
  }, 180_000);

  it('continues an export whose files were cut mid-row (as an interruption leaves them) to the same arrays', async () => {
    const out = path.join(dir, 'merged');
    const manifest = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(out, 'export.json'), JSON.stringify({ ...manifest, complete: false, rows: 0 }));
    // Different cuts per file, some mid-row: the export continues after the rows every file holds.
    truncateSync(path.join(out, 'merged.npy'), EXPORT_HEADER_BYTES + 40_000 * WIDTH * 4 + 5);
    truncateSync(path.join(out, 'sample_ids.npy'), EXPORT_HEADER_BYTES + 41_234 * 8 + 3);
    truncateSync(path.join(out, 'labels.npy'), EXPORT_HEADER_BYTES + 39_999 * 4);
    const result = await rlsa(['export', 'big', '--out', out, '--json'], env());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ complete: true, rows: ROWS * 1.5 });
    expectSameRows(exported(out, MERGED), await admin.readMerged('big'));
  }, 180_000);

  it('continues after the process was killed mid-stream', async () => {
    const out = path.join(dir, 'killed');
    const child = spawnRlsa(['export', 'big', '--out', out, '--batch-rows', '500'], env());
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const ids = path.join(out, 'sample_ids.npy');
    for (let i = 0; i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      try {
        if (statSync(ids).size > EXPORT_HEADER_BYTES + 8 * 5000) break;
      } catch {
        // not created yet
      }
    }
    child.kill('SIGKILL');
    await exited;
    const cut = (statSync(ids).size - EXPORT_HEADER_BYTES) / 8;
    console.log(JSON.stringify({ rowsWhenKilled: cut }));
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(ROWS * 1.5);
    const result = await rlsa(['export', 'big', '--out', out], env());
    expect(result.code).toBe(0);
    expectSameRows(exported(out, MERGED), await admin.readMerged('big'));
  }, 180_000);

  it("--space NODE writes one node's relative space as ReadNodeSpace answers it (admin), and continues a cut export", async () => {
    const out = path.join(dir, 't2');
    const result = await rlsa(['export', 'big', '--space', 't2', '--out', out, '--batch-rows', '3000'], env());
    expect(result.code).toBe(0);
    const expected = await admin.readNodeSpace('big', 't2');
    const names = { values: 'relative.npy', counts: 'counts.npy' };
    expectSameRows(exported(out, names), expected);
    const manifest = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(out, 'export.json'), JSON.stringify({ ...manifest, complete: false }));
    // 12,345 whole rows in every file (3 batches of 4,096 and 57 rows): the node space is read again and they are skipped.
    truncateSync(path.join(out, 'relative.npy'), EXPORT_HEADER_BYTES + 12_345 * WIDTH * 4 + 7);
    truncateSync(path.join(out, 'sample_ids.npy'), EXPORT_HEADER_BYTES + 20_000 * 8);
    const resumed = await rlsa(['export', 'big', '--space', 't2', '--out', out], env());
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expectSameRows(exported(out, names), expected);
    const t1 = readFileSync(path.join(dir, 't1.token'), 'utf8').trim();
    const refused = await rlsa(['export', 'big', '--space', 't1', '--out', path.join(dir, 'refused')], { RLSA_AGGREGATOR: aggregator.address, RLSA_TOKEN: t1 });
    expect(refused).toMatchObject({ code: 4, stderr: 'rlsa: ReadNodeSpace: PERMISSION_DENIED: ReadNodeSpace needs an admin token\n' });
  }, 180_000);

  it('refuses an --out that holds an export of something else (exit 2), changing nothing', async () => {
    const out = path.join(dir, 't2');
    const before = readFileSync(path.join(out, 'relative.npy'));
    const result = await rlsa(['export', 'big', '--out', out], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`rlsa: ${out} holds an export of node t2's relative space in run big (width ${WIDTH}): give another --out\n`);
    expect(readFileSync(path.join(out, 'relative.npy')).equals(before)).toBe(true);
  }, 60_000);
});
