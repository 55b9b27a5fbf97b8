import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient, RunStatusView } from '@rlsa/client';
import Database from 'better-sqlite3';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_MESSAGE, hashToken } from '../../src/index.ts';
import { FINGERPRINT, builtinAnchors, chunksOf, range, tempDir, testSpace } from '../helpers.ts';
import { startAggregatorProcess } from './aggregator-process.ts';
import type { AggregatorProcess } from './aggregator-process.ts';

const WIDTH = 8;
const GONE_ROWS = 80_000;
const TOKENS = { ops: 'lifecycle-admin-token', t1: 'lifecycle-node-token', reader: 'lifecycle-reader-token' };
const model = { architecture: 'mlp', embeddingWidth: 16 };
const joinOf = (runId: string) => ({ runId, nodeId: 't1', role: 'trainer' as const, model, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });

/** Bytes of every file under `dir` (recursively). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

async function metric(aggregator: AggregatorProcess, state: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${aggregator.listening.metricsPort}/metrics`)).text();
  const line = new RegExp(`^rlsa_aggregator_runs\\{state="${state}"\\} (\\d+)$`, 'm').exec(text);
  return line === null ? Number.NaN : Number(line[1]);
}

describe('run lifecycle: open → closed → deleted, on a real aggregator process', () => {
  const temp = tempDir('rlsa-lifecycle-');
  const dataDir = join(temp.dir, 'data');
  const tokensFile = join(temp.dir, 'tokens.yaml');
  let aggregator: AggregatorProcess;
  const clients: AggregatorClient[] = [];
  const connect = (token: string): AggregatorClient => {
    const client = createAggregatorClient({ address: aggregator.address, token });
    clients.push(client);
    return client;
  };
  const start = async (): Promise<void> => {
    for (const client of clients.splice(0)) client.close();
    aggregator = await startAggregatorProcess(['--data-dir', dataDir, '--tokens-file', tokensFile, '--metrics-port', '0']);
  };

  beforeAll(async () => {
    writeFileSync(
      tokensFile,
      [
        'tokens:',
        `  - { subject: ops, sha256: "${hashToken(TOKENS.ops)}", grants: [admin] }`,
        `  - { subject: t1, sha256: "${hashToken(TOKENS.t1)}", grants: ["node:*"] }`,
        `  - { subject: analyst, sha256: "${hashToken(TOKENS.reader)}", grants: ["reader:*"] }`,
        '',
      ].join('\n'),
    );
    await start();
    const admin = connect(TOKENS.ops);
    const node = connect(TOKENS.t1);
    for (const runId of ['kept', 'closing', 'gone']) {
      await admin.createRun({ runId, anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
      await node.join(joinOf(runId));
      // The run to delete holds a few megabytes, so that its files dominate the data dir's size (WAL pages come and go).
      const rows = runId === 'gone' ? GONE_ROWS : 400;
      await node.upload({ runId, nodeId: 't1', chunks: chunksOf(testSpace(range(0, rows), WIDTH, runId.length), rows / 4) });
    }
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await aggregator?.stop();
    temp.remove();
  });

  it('CloseRun: joins, uploads and finishes get FAILED_PRECONDITION and change nothing; reads go on; the state survives a restart', async () => {
    const admin = connect(TOKENS.ops);
    const node = connect(TOKENS.t1);
    const mergedBefore = await admin.readMerged('closing');
    const closed = await admin.closeRun('closing');
    expect(closed.state).toBe('closed');
    expect(closed.mergedSamples).toBe(400);
    expect((await admin.closeRun('closing')).state).toBe('closed'); // idempotent
    const more = chunksOf(testSpace(range(400, 420), WIDTH, 9), 20).map((chunk) => ({ ...chunk, seq: 4 }));
    await expect(node.upload({ runId: 'closing', nodeId: 't1', chunks: more, retry: { attempts: 0 } })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(node.join(joinOf('closing'))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(node.finish('closing', 't1')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    const after = await admin.getRun('closing');
    expect(after.nodes.map((n) => [n.nodeId, n.relativeChunks, n.relativeRows, n.finished])).toEqual([['t1', 4, 400, false]]);
    expect(await node.readMerged('closing')).toEqual(mergedBefore);
    expect(await connect(TOKENS.reader).nearest('closing', { sampleId: 0 }, 3)).toHaveLength(3);
    expect([await metric(aggregator, 'open'), await metric(aggregator, 'closed'), await metric(aggregator, 'deleted')]).toEqual([2, 1, 0]);

    await aggregator.stop();
    await start();
    const restarted = await connect(TOKENS.ops).getRun('closing');
    expect(restarted.state).toBe('closed');
    expect(await connect(TOKENS.t1).readMerged('closing')).toEqual(mergedBefore);
    await expect(connect(TOKENS.t1).upload({ runId: 'closing', nodeId: 't1', chunks: more, retry: { attempts: 0 } })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  }, 120_000);

  it('DeleteRun: needs confirm; removes the rows and the files and gives the disk back; ends watchers with DELETED; survives a restart', async () => {
    const admin = connect(TOKENS.ops);
    const segments = join(dataDir, 'segments', 'gone');
    const runFiles = bytesUnder(segments);
    expect(runFiles).toBeGreaterThan(GONE_ROWS * WIDTH * 4);
    await expect(admin.deleteRun('gone', false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await admin.getRun('gone')).state).toBe('open');

    const seen: RunStatusView[] = [];
    const watching = (async () => {
      for await (const status of connect(TOKENS.reader).watchRun('gone')) seen.push(status);
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const dirBefore = bytesUnder(dataDir);
    const deleted = await admin.deleteRun('gone', true);
    await watching;
    expect(deleted.bytesFreed).toBe(runFiles);
    expect(deleted.run.state).toBe('deleted');
    expect(deleted.run.config.runId).toBe('gone');
    expect(deleted.run.nodes).toEqual([]);
    expect(seen.at(-1)?.state).toBe('deleted');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(() => statSync(segments)).toThrow();
    // The database keeps a row per run and node; the segment files were most of it.
    expect(dirBefore - bytesUnder(dataDir)).toBeGreaterThan(runFiles * 0.9);

    await expect(admin.readMerged('gone')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(connect(TOKENS.t1).join(joinOf('gone'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(admin.createRun({ runId: 'gone', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((await admin.deleteRun('gone', true)).bytesFreed).toBe(0); // idempotent
    expect([await metric(aggregator, 'open'), await metric(aggregator, 'closed'), await metric(aggregator, 'deleted')]).toEqual([1, 1, 1]);

    await aggregator.stop();
    await start();
    const runs = await connect(TOKENS.ops).listRuns();
    expect(runs.map((run) => [run.config.runId, run.state, run.mergedSamples])).toEqual([
      ['kept', 'open', 400],
      ['closing', 'closed', 400],
      ['gone', 'deleted', 0],
    ]);
    expect(() => statSync(segments)).toThrow();
    const db = new Database(join(dataDir, 'aggregator.sqlite'), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) FROM chunks WHERE run_id = 'gone'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT count(*) FROM nodes WHERE run_id = 'gone'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  }, 120_000);

  it('a deletion cut short (stored as deleted, data still there) is finished at the next start', async () => {
    const admin = connect(TOKENS.ops);
    await admin.createRun({ runId: 'half', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
    await connect(TOKENS.t1).join(joinOf('half'));
    await connect(TOKENS.t1).upload({ runId: 'half', nodeId: 't1', chunks: chunksOf(testSpace(range(0, 100), WIDTH, 5), 50) });
    await aggregator.stop();
    // What a crash between storing the deletion and removing the data leaves.
    const db = new Database(join(dataDir, 'aggregator.sqlite'));
    try {
      const config = db.prepare("SELECT config FROM runs WHERE run_id = 'half'").pluck().get() as Buffer;
      db.prepare('INSERT INTO run_states (run_id, state, changed_at_ms, config) VALUES (?, 3, ?, ?)').run('half', Date.now(), config);
    } finally {
      db.close();
    }
    expect(bytesUnder(join(dataDir, 'segments', 'half'))).toBeGreaterThan(0);
    await start();
    expect((await connect(TOKENS.ops).getRun('half')).state).toBe('deleted');
    expect(() => statSync(join(dataDir, 'segments', 'half'))).toThrow();
    expect(aggregator.logLines().some((line) => line['msg'] === 'deletion of a run finished (it was cut short)' && line['runId'] === 'half')).toBe(true);
  }, 120_000);

  it('writes one audit line per admin action: who, what, which run', async () => {
    const admin = connect(TOKENS.ops);
    await admin.createRun({ runId: 'audited', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
    await admin.closeRun('audited');
    await admin.deleteRun('audited', true);
    await expect(connect(TOKENS.reader).deleteRun('kept', true)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const audit = aggregator.logLines().filter((line) => line['msg'] === AUDIT_MESSAGE);
    expect(audit.map((line) => [line['who'], line['action'], line['runId'], line['outcome']])).toEqual([
      ['ops', 'CreateRun', 'audited', undefined],
      ['ops', 'CloseRun', 'audited', 'closed'],
      ['ops', 'DeleteRun', 'audited', 'deleted'],
    ]);
    for (const line of audit) expect(line['level']).toBe(30);
  }, 60_000);
});
