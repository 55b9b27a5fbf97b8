import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createAggregatorClient } from '@rlsa/client';
import type { UploadChunkInput } from '@rlsa/client';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';
import { spawnNode } from './process-helpers.ts';

const WIDTH = 8;
const ROWS = 300;
const CHUNK_ROWS = 10;
const CHUNKS = ROWS / CHUNK_ROWS;
const UPLOADER = fileURLToPath(new URL('./fixtures/upload-node.ts', import.meta.url));

describe('a client killed mid-stream', () => {
  let agg: TestAggregator;
  beforeAll(async () => {
    agg = await startTestAggregator();
    await agg.client().createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
  });
  afterAll(async () => agg?.stop());

  it('reconnects and resumes after its last acknowledged chunk: nothing missing, nothing counted twice', async () => {
    const node = spawnNode(['--import', 'tsx', UPLOADER, agg.address, 'r', 'n1', '0', String(ROWS), String(WIDTH), String(CHUNK_ROWS), '7', '40']);
    await node.waitFor(/ack 5\n/);
    node.child.kill('SIGKILL');
    expect((await node.exited).signal).toBe('SIGKILL');
    const acked = Math.max(...[...node.output().matchAll(/ack (\d+)/g)].map((m) => Number(m[1])));
    expect(acked).toBeLessThan(CHUNKS - 1); // it really died mid-upload

    const client = agg.client();
    const joined = await client.join({ runId: 'r', nodeId: 'n1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    // Every acknowledged chunk is stored, and only whole chunks are.
    expect(joined.lastRelativeSeq).toBeGreaterThanOrEqual(acked);
    const before = (await client.getRun('r')).nodes[0];
    expect(before?.relativeRows).toBe((joined.lastRelativeSeq + 1) * CHUNK_ROWS);
    expect(before?.relativeChunks).toBe(joined.lastRelativeSeq + 1);

    const space = testSpace(range(0, ROWS), WIDTH, 7);
    let sent = 0;
    const result = await client.upload({
      runId: 'r',
      nodeId: 'n1',
      chunks: chunksOf(space, CHUNK_ROWS),
      startAfterSeq: joined.lastRelativeSeq,
      onAck: () => {
        sent += 1;
      },
    });
    expect(sent).toBe(CHUNKS - 1 - joined.lastRelativeSeq);
    expect(result).toMatchObject({ lastSeq: CHUNKS - 1, rowsStored: ROWS, duplicates: 0 });

    const after = (await client.getRun('r')).nodes[0];
    expect(after).toMatchObject({ relativeRows: ROWS, relativeChunks: CHUNKS });
    const merged = await client.readMerged('r');
    expect(Array.from(merged.sampleIds)).toEqual(bigIds(range(0, ROWS)));
    expect(merged.counts.every((c) => c === 1)).toBe(true);
    expect(Array.from(merged.values.data)).toEqual(Array.from(space.values));

    // Sending everything again from the start changes nothing: every chunk is a duplicate.
    const again = await client.upload({ runId: 'r', nodeId: 'n1', chunks: chunksOf(space, CHUNK_ROWS) });
    expect(again).toMatchObject({ duplicates: CHUNKS, rowsStored: ROWS });
    expect((await client.getRun('r')).nodes[0]).toMatchObject({ relativeRows: ROWS, relativeChunks: CHUNKS });
  });
});

describe('draining (what SIGTERM does)', () => {
  it('ends open uploads with UNAVAILABLE after committed chunks; the node resumes on the restarted aggregator', async () => {
    const temp = tempDir();
    let agg = await startTestAggregator({ dataDir: temp.dir });
    const port = agg.handle.port;
    await agg.client().createRun({ runId: 'd', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
    const client = createAggregatorClient({ address: agg.address });
    await client.join({ runId: 'd', nodeId: 'n', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    const space = testSpace(range(0, ROWS), WIDTH, 3);
    let acked = -1;
    async function* slowly(): AsyncGenerator<UploadChunkInput> {
      for (const chunk of chunksOf(space, CHUNK_ROWS)) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        yield chunk;
      }
    }
    const upload = client.upload({
      runId: 'd',
      nodeId: 'n',
      chunks: slowly(),
      retry: { attempts: 40, initialDelayMs: 100, maxDelayMs: 500 },
      onAck: (ack) => {
        acked = ack.seq;
      },
    });
    while (acked < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    await agg.handle.shutdown(2000);
    const ackedAtDrain = acked;
    agg = await startTestAggregator({ dataDir: temp.dir, port });
    try {
      const result = await upload;
      expect(result.reconnects).toBeGreaterThanOrEqual(1);
      expect(result).toMatchObject({ lastSeq: CHUNKS - 1, rowsStored: ROWS });
      const status = await agg.client().getRun('d');
      expect(status.nodes[0]).toMatchObject({ relativeRows: ROWS, relativeChunks: CHUNKS });
      expect(ackedAtDrain).toBeLessThan(CHUNKS - 1);
      const merged = await agg.client().readMerged('d');
      expect(Array.from(merged.values.data)).toEqual(Array.from(space.values));
    } finally {
      client.close();
      await agg.stop();
      temp.remove();
    }
  });
});
