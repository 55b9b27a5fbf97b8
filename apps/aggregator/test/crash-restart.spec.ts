import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient, UploadChunkInput } from '@rlsa/client';
import { meanOverSpaces } from '@rlsa/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, TEST_DATASET, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from './helpers.ts';
import { CLI, spawnNode } from './process-helpers.ts';
import type { Spawned } from './process-helpers.ts';

const WIDTH = 16;
const CHUNK_ROWS = 20;
const spaces = {
  t1: testSpace(range(0, 600), WIDTH, 11),
  t2: testSpace(range(300, 900), WIDTH, 12),
};

function startAggregatorProcess(dataDir: string, runFile: string, port: number): Spawned {
  return spawnNode([CLI, 'aggregator', '--data-dir', dataDir, '--port', String(port), '--run-file', runFile, '--log-level', 'info']);
}

async function listeningPort(aggregator: Spawned): Promise<number> {
  const match = await aggregator.waitFor(/^(\{.*"msg":"aggregator listening".*\})$/m);
  const line = JSON.parse(match[1] as string) as { port: number; host: string };
  expect(line.host).toBe('127.0.0.1');
  return line.port;
}

async function* slowly(chunks: UploadChunkInput[], delayMs: number): AsyncGenerator<UploadChunkInput> {
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    yield chunk;
  }
}

describe('the aggregator process killed with SIGKILL mid-upload', () => {
  const temp = tempDir();
  const processes: Spawned[] = [];
  const clients: AggregatorClient[] = [];
  afterAll(() => {
    for (const c of clients) c.close();
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    temp.remove();
  });

  it('keeps every acknowledged chunk; the nodes resume and the merged space equals an uninterrupted run', async () => {
    const runFile = join(temp.dir, 'run.yaml');
    writeFileSync(runFile, `runId: crash\ndataset: ${TEST_DATASET}\nanchorIds: [${range(0, WIDTH).join(', ')}]\nanchorFingerprint: ${FINGERPRINT}\nacceptedEncodings: [float32]\n`);
    const dataDir = join(temp.dir, 'data');
    let aggregator = startAggregatorProcess(dataDir, runFile, 0);
    processes.push(aggregator);
    const port = await listeningPort(aggregator);
    const address = `127.0.0.1:${port}`;

    const acked: Record<string, number> = { t1: -1, t2: -1 };
    const uploads = (['t1', 't2'] as const).map(async (nodeId) => {
      const client = createAggregatorClient({ address });
      clients.push(client);
      const joined = await client.join({ runId: 'crash', nodeId, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
      return client.upload({
        runId: 'crash',
        nodeId,
        chunks: slowly(chunksOf(spaces[nodeId], CHUNK_ROWS), 60),
        startAfterSeq: joined.lastRelativeSeq,
        maxInFlight: 4,
        retry: { attempts: 40, initialDelayMs: 100, maxDelayMs: 1000 },
        onAck: (ack) => {
          acked[nodeId] = Math.max(acked[nodeId] as number, ack.seq);
        },
      });
    });

    // Kill once both nodes have some chunks acknowledged (30 chunks each, one per 60 ms).
    while ((acked['t1'] as number) < 4 || (acked['t2'] as number) < 4) await new Promise((resolve) => setTimeout(resolve, 20));
    aggregator.child.kill('SIGKILL');
    await aggregator.exited;
    const ackedAtKill = { ...acked };
    expect(ackedAtKill['t1']).toBeLessThan(29);
    expect(ackedAtKill['t2']).toBeLessThan(29);

    aggregator = startAggregatorProcess(dataDir, runFile, port);
    processes.push(aggregator);
    expect(await listeningPort(aggregator)).toBe(port);
    const admin = createAggregatorClient({ address });
    clients.push(admin);
    const afterRestart = await admin.getRun('crash', { waitForReady: true, timeoutMs: 30_000 });
    for (const node of afterRestart.nodes) {
      // Every chunk acknowledged before the kill survived it.
      expect(node.relativeChunks).toBeGreaterThanOrEqual((ackedAtKill[node.nodeId] as number) + 1);
      expect(node.relativeRows).toBe(node.relativeChunks * CHUNK_ROWS);
    }

    const results = await Promise.all(uploads);
    for (const result of results) {
      expect(result.reconnects).toBeGreaterThanOrEqual(1);
      expect(result).toMatchObject({ lastSeq: 29, rowsStored: 600 });
    }

    const merged = await admin.readMerged('crash');
    const expected = meanOverSpaces(Object.values(spaces).map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })));
    expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
    expect(Array.from(merged.counts)).toEqual(Array.from(expected.counts));

    // The same uploads into an aggregator that never crashed give the same merged space, bit for bit.
    const reference = await startTestAggregator();
    try {
      const c = reference.client();
      await c.createRun({ runId: 'crash', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT), acceptedEncodings: ['float32'] });
      for (const nodeId of ['t1', 't2'] as const) {
        await c.join({ runId: 'crash', nodeId, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
        await c.upload({ runId: 'crash', nodeId, chunks: chunksOf(spaces[nodeId], CHUNK_ROWS) });
      }
      const uninterrupted = await c.readMerged('crash');
      expect(Array.from(merged.values.data)).toEqual(Array.from(uninterrupted.values.data));
    } finally {
      await reference.stop();
    }
    let worst = 0;
    merged.values.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - (expected.values.data[i] as number)));
    });
    expect(worst).toBeLessThan(1e-6);

    // SIGTERM drains and exits 0.
    admin.close();
    aggregator.child.kill('SIGTERM');
    expect((await aggregator.exited).code).toBe(0);
    expect(aggregator.output()).toContain('"msg":"aggregator stopped"');
  });
});
