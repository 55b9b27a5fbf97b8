import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient, RunStatusView } from '@rlsa/client';
import { anchorFingerprint, defaultAnchorIds, loadDataset } from '@rlsa/data';
import { writeNpy } from '@rlsa/npy';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/commands/run-exit-codes.ts';
import { rlsa, spawnRlsa, startAggregator } from './operator/cli-process.ts';
import type { CliResult, RunningAggregator } from './operator/cli-process.ts';

/**
 * The operator's commands end to end: the real `rlsa` binary against a real aggregator process on
 * loopback, with tokens made by `rlsa tokens add`; outputs compared with what the aggregator answers
 * over gRPC, and every failure one line on stderr with its documented exit status.
 */

const ANCHORS = 8;
const dir = mkdtempSync(path.join(tmpdir(), 'rlsa-operator-cli-'));
const tokensFile = path.join(dir, 'tokens.yaml');
const tokens: Record<string, string> = {};
let aggregator: RunningAggregator;
const clients: AggregatorClient[] = [];

const as = (subject: string): Record<string, string> => ({ RLSA_AGGREGATOR: aggregator.address, RLSA_TOKEN_FILE: path.join(dir, `${subject}.token`) });
const client = (subject: string): AggregatorClient => {
  const c = createAggregatorClient({ address: aggregator.address, token: tokens[subject] as string });
  clients.push(c);
  return c;
};

/** One line on stderr, `rlsa: ...`, nothing on stdout, and the exit status. */
function expectFailure(result: CliResult, code: number, text: string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).toMatch(/^rlsa: [^\n]+\n$/);
  expect(result.stderr).toContain(text);
}

const model = { architecture: 'mlp', embeddingWidth: 8 };

/** A node's rows: deterministic values in [-1, 1). */
function rows(ids: number[], seed: number): { sampleIds: Uint32Array; values: { rows: number; cols: number; data: Float32Array }; labels: Int32Array } {
  const data = new Float32Array(ids.length * ANCHORS);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    data[i] = (x / 2147483648) * 2 - 1;
  }
  return { sampleIds: Uint32Array.from(ids), values: { rows: ids.length, cols: ANCHORS, data }, labels: Int32Array.from(ids, (id) => id % 10) };
}

beforeAll(async () => {
  const grants: Record<string, string[]> = { ops: ['admin'], t1: ['node:r'], t2: ['node:r'], ref: ['reference:r'], analyst: ['reader:r'], outsider: ['reader:other'] };
  for (const [subject, granted] of Object.entries(grants)) {
    const result = await rlsa(['tokens', 'add', subject, '--file', tokensFile, ...granted.flatMap((grant) => ['--grant', grant])]);
    expect(result.code).toBe(0);
    tokens[subject] = result.stdout.trim();
    writeFileSync(path.join(dir, `${subject}.token`), result.stdout);
  }
  aggregator = await startAggregator(['--data-dir', path.join(dir, 'data'), '--tokens-file', tokensFile, '--log-level', 'info']);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rlsa run create, list, show', () => {
  it('creates a run with the data set default anchors and the fingerprint the nodes compute; lists and shows it as table and JSON', async () => {
    const created = await rlsa(['run', 'create', '--run', 'r', '--dataset', 'synthetic', '--anchors', String(ANCHORS), '--json'], as('ops'));
    expect(created.code).toBe(0);
    const status = JSON.parse(created.stdout) as RunStatusView;
    const dataset = loadDataset('synthetic');
    const ids = defaultAnchorIds(dataset, { count: ANCHORS });
    expect(status.config.anchors).toEqual({ kind: 'builtin', dataset: 'synthetic', fingerprint: anchorFingerprint(dataset, ids), sampleIds: Array.from(ids, String) });
    expect(status.state).toBe('open');

    const node = client('t1');
    await node.join({ runId: 'r', nodeId: 't1', role: 'trainer', model, anchorFingerprint: status.config.anchors.fingerprint, relativeWidth: ANCHORS });
    await node.upload({ runId: 'r', nodeId: 't1', chunks: [rows([1, 2, 3, 4], 7), rows([5, 6], 8)] });
    const ref = client('ref');
    await ref.join({ runId: 'r', nodeId: 'ref', role: 'reference', model, anchorFingerprint: status.config.anchors.fingerprint, relativeWidth: ANCHORS });
    await ref.upload({ runId: 'r', nodeId: 'ref', chunks: [rows([1, 2, 3, 4, 5, 6], 9)] });

    const [list, show, table, shown] = await Promise.all([
      rlsa(['run', 'list', '--json'], as('analyst')),
      rlsa(['run', 'show', 'r', '--json'], as('analyst')),
      rlsa(['run', 'list'], as('ops')),
      rlsa(['run', 'show', 'r'], as('ops')),
    ]);
    const expected = JSON.parse(JSON.stringify(await client('ops').getRun('r'), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown;
    expect(JSON.parse(show.stdout)).toEqual(expected);
    expect(JSON.parse(list.stdout)).toEqual([expected]);
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN\s+STATE\s+ANCHORS\s+NODES\s+FINISHED\s+CONNECTED\s+RELATIVE ROWS\s+MERGED\s+UPDATED$/);
    expect(table.stdout.split('\n')[1]).toMatch(/^r\s+open\s+8 of synthetic\s+2\s+0\s+0\s+12\s+6\s+\d{4}-/);
    expect(shown.stdout).toContain('merged samples 6\n');
    expect(shown.stdout).toMatch(/\nt1\s+trainer\s+-\s+mlp \(8\)\s+-\s+6\s+0\s+no\s+no\s+\d{4}-/);
  }, 120_000);

  it('creates runs from a run file and from an anchor set (an .npy file, uploaded first)', async () => {
    const runFile = path.join(dir, 'run.yaml');
    writeFileSync(runFile, `runId: from-file\ndataset: synthetic\nanchorIds: [3, 1, 2]\nanchorFingerprint: "${'b'.repeat(64)}"\n`);
    const features = new Float32Array(5 * 3).map((_, i) => i / 7);
    writeNpy(path.join(dir, 'anchors.npy'), { dtype: 'float32', shape: [5, 3], data: features });
    const [fromFile, fromSet] = await Promise.all([
      rlsa(['run', 'create', '--run-file', runFile, '--json'], as('ops')),
      rlsa(['run', 'create', '--run', 'set', '--anchor-set', path.join(dir, 'anchors.npy'), '--node-read', 'none', '--json'], as('ops')),
    ]);
    expect(fromFile.code).toBe(0);
    expect((JSON.parse(fromFile.stdout) as RunStatusView).config.anchors).toEqual({ kind: 'builtin', dataset: 'synthetic', fingerprint: 'b'.repeat(64), sampleIds: ['3', '1', '2'] });
    expect(fromSet.code).toBe(0);
    const set = JSON.parse(fromSet.stdout) as RunStatusView;
    expect(set.config.nodeRead).toBe('none');
    expect(set.config.anchors).toMatchObject({ kind: 'anchor-set', summary: { count: 5, kind: 'array', shape: [3], dtype: 'float32' } });
    // What a node fetches is what was read from the file: the set's bytes hash to the run's fingerprint.
    const pieces: Uint8Array[] = [];
    for await (const piece of client('ops').fetchAnchorSet('set')) pieces.push(piece.data);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(Buffer.concat(pieces)).digest('hex')).toBe(set.config.anchors.fingerprint);
  }, 120_000);
});

describe('rlsa evaluate and rlsa nearest', () => {
  it('print what Evaluate and Nearest answer (JSON exactly; tables rounded)', async () => {
    const vector = Array.from({ length: ANCHORS }, (_, i) => (i % 3) - 1);
    writeNpy(path.join(dir, 'query.npy'), { dtype: 'float32', shape: [1, ANCHORS], data: Float32Array.from(vector) });
    const [evaluated, table, bySample, byVector] = await Promise.all([
      rlsa(['evaluate', 'r', '--json'], as('analyst')),
      rlsa(['evaluate', 'r'], as('analyst')),
      rlsa(['nearest', 'r', '--sample', '3', '-k', '4', '--json'], as('t1')),
      rlsa(['nearest', 'r', '--vector', path.join(dir, 'query.npy'), '-k', '2', '--json'], as('analyst')),
    ]);
    const evaluation = await client('ops').evaluate('r');
    expect(JSON.parse(evaluated.stdout)).toEqual(evaluation);
    const merged = evaluation.scores.find((score) => score.subject === 'merged');
    expect(table.stdout).toContain(`run r, against the reference ref\n`);
    expect(table.stdout).toMatch(new RegExp(`\\nmerged\\s+6\\s+${merged?.linearBiased.toFixed(6)}\\s+${merged?.linearDebiased.toFixed(6)}\\n`));
    const near = await client('ops').nearest('r', { sampleId: 3 }, 4);
    expect(JSON.parse(bySample.stdout)).toEqual(near.map((n) => ({ ...n, sampleId: n.sampleId.toString() })));
    const nearVector = await client('ops').nearest('r', { vector }, 2);
    expect(JSON.parse(byVector.stdout)).toEqual(nearVector.map((n) => ({ ...n, sampleId: n.sampleId.toString() })));
  }, 120_000);
});

describe('rlsa run watch', () => {
  it('prints one JSON line per change when not on a terminal, and stops once --until-finished nodes finished', async () => {
    const child = spawnRlsa(['run', 'watch', 'r', '--until-finished', '2'], as('t1'));
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The first status, then two finishes.
    for (let i = 0; i < 200 && !stdout.includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await client('t1').finish('r', 't1');
    await client('ref').finish('r', 'ref');
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as RunStatusView);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)?.totals.finishedNodes).toBe(2);
    // A node's token sees itself only, and the totals.
    for (const line of lines) expect(line.nodes.map((node) => node.nodeId)).toEqual(['t1']);
  }, 120_000);
});

describe('failures: one line on stderr and the documented exit status', () => {
  it('exits 2 for a usage mistake, 3 for an unknown run, 4 for a token that may not, 5 for an unreachable aggregator, 6 for a refusal', async () => {
    const results = await Promise.all([
      rlsa(['run', 'delete', 'r'], as('ops')),
      rlsa(['nearest', 'r', '-k', '3'], as('ops')),
      rlsa(['run', 'create', '--run', 'x'], as('ops')),
      rlsa(['run', 'show', 'no-such-run'], as('ops')),
      rlsa(['run', 'show', 'r'], as('outsider')),
      rlsa(['run', 'close', 'r'], as('analyst')),
      rlsa(['run', 'list'], { RLSA_AGGREGATOR: aggregator.address, RLSA_TOKEN: 'not-a-token' }),
      rlsa(['run', 'list'], { RLSA_AGGREGATOR: '127.0.0.1:1', RLSA_TOKEN_FILE: path.join(dir, 'ops.token') }),
      rlsa(['run', 'create', '--run', 'r', '--dataset', 'synthetic', '--anchors', '4'], as('ops')),
      rlsa(['nearest', 'r', '--sample', '18446744073709551616'], as('ops')),
    ]);
    const expected: [number, string][] = [
      [EXIT_CODES.usage, 'add --yes to confirm'],
      [EXIT_CODES.usage, 'give --sample ID or --vector FILE.npy'],
      [EXIT_CODES.usage, 'give the anchors: --dataset (built-in) or --anchor-set (uploaded)'],
      [EXIT_CODES.notFound, 'GetRun: NOT_FOUND: run "no-such-run" does not exist'],
      [EXIT_CODES.permission, 'GetRun: PERMISSION_DENIED'],
      [EXIT_CODES.permission, 'CloseRun: PERMISSION_DENIED: CloseRun needs an admin token'],
      [EXIT_CODES.permission, 'ListRuns: UNAUTHENTICATED: unknown token'],
      [EXIT_CODES.unavailable, 'ListRuns: UNAVAILABLE'],
      [EXIT_CODES.refused, 'CreateRun: ALREADY_EXISTS'],
      [EXIT_CODES.usage, '--sample must be an unsigned 64-bit integer'],
    ];
    results.forEach((result, i) => expectFailure(result, ...(expected[i] as [number, string])));
    expect(EXIT_CODES).toEqual({ ok: 0, bug: 1, usage: 2, notFound: 3, permission: 4, unavailable: 5, refused: 6 });
  }, 120_000);
});

describe('rlsa run close and rlsa run delete', () => {
  it('close: the run is final and uploads are refused; delete --yes: the status says DELETED and the bytes freed', async () => {
    const closed = await rlsa(['run', 'close', 'r'], as('ops'));
    expect(closed).toMatchObject({ code: 0, stdout: 'run r is closed: 6 merged samples, final\n' });
    await expect(client('t2').join({ runId: 'r', nodeId: 't2', role: 'trainer', model, anchorFingerprint: (await client('ops').getRun('r')).config.anchors.fingerprint, relativeWidth: ANCHORS })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    const again = await rlsa(['run', 'close', 'r', '--json'], as('ops'));
    expect((JSON.parse(again.stdout) as RunStatusView).state).toBe('closed');

    const deleted = await rlsa(['run', 'delete', 'from-file', '--yes', '--json'], as('ops'));
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ run: { state: 'deleted', config: { runId: 'from-file' } }, bytesFreed: 0 });
    const gone = await rlsa(['run', 'delete', 'r', '--yes'], as('ops'));
    expect(gone.stdout).toMatch(/^run r is deleted: [1-9]\d* bytes freed\n$/);
    expectFailure(await rlsa(['evaluate', 'r'], as('analyst')), EXIT_CODES.notFound, 'run "r" was deleted');
  }, 120_000);
});
