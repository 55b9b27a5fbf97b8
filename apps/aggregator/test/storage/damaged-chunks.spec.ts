import { meanOverSpaces } from '@rlsa/core';
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestSpace } from '../helpers.ts';

/**
 * Stored chunks damaged behind the aggregator's back (a byte flipped in a segment file, or in the
 * SQLite file where SQLite's own integrity check does not see it): the restart never fails, the
 * damaged node is named, left out of the merge and of Evaluate, its reads and uploads answer
 * DATA_LOSS, and the metrics count it.
 */
const WIDTH = 8;
const CHUNK_ROWS = 10;
const RUN = 'dmg';
const spaces: Record<'t1' | 't2' | 'ref', TestSpace> = {
  t1: testSpace(range(0, 40), WIDTH, 31),
  t2: testSpace(range(20, 60), WIDTH, 32),
  ref: testSpace(range(0, 60), WIDTH, 33),
};

/** An aggregator on `dataDir` with two trainers and a reference uploaded, then stopped (its WAL checkpointed into the file). */
async function populate(dataDir: string): Promise<void> {
  const agg = await startTestAggregator({ dataDir });
  const client = agg.client();
  await client.createRun({ runId: RUN, anchors: builtinAnchors(range(0, WIDTH)), acceptedEncodings: ['float32'] });
  for (const nodeId of ['t1', 't2', 'ref'] as const) {
    const role = nodeId === 'ref' ? 'reference' : 'trainer';
    await client.join({ runId: RUN, nodeId, role, model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    await client.upload({ runId: RUN, nodeId, chunks: chunksOf(spaces[nodeId], CHUNK_ROWS) });
  }
  await agg.stop();
}

/** Where chunk `seq` of `nodeId` lies, from the index. */
function indexRow(dataDir: string, nodeId: string, seq: number): { path: string; offset: number; length: number; checksum: number } {
  const db = new Database(join(dataDir, 'aggregator.sqlite'), { readonly: true });
  try {
    return db
      .prepare('SELECT s.path, c.offset, c.length, c.checksum FROM chunks c JOIN segments s USING (segment_id) WHERE c.run_id = ? AND c.node_id = ? AND c.seq = ?')
      .get(RUN, nodeId, seq) as { path: string; offset: number; length: number; checksum: number };
  } finally {
    db.close();
  }
}

function flipByte(file: string, position: number): void {
  const fd = openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, position);
    byte[0] = (byte[0] as number) ^ 0x10;
    writeSync(fd, byte, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

/** All positions of `pattern` in `bytes`. */
function positionsOf(bytes: Buffer, pattern: Buffer): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) found.push(at);
  return found;
}

/** The merged space without `left out`: the exact mean of the other trainers. */
function expectedMerged(trainers: TestSpace[]): ReturnType<typeof meanOverSpaces> {
  return meanOverSpaces(trainers.map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })));
}

describe('damaged chunks', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('a byte flipped in a segment file: the node is named, left out of the merge and of Evaluate, its reads and uploads answer DATA_LOSS', async () => {
    const dataDir = join(temp.dir, 'segment');
    await populate(dataDir);
    const damaged = indexRow(dataDir, 't2', 2);
    // A byte of the payload (past the header), as a bad sector or a stray write would.
    flipByte(join(dataDir, damaged.path), damaged.offset + damaged.length - 40);

    const agg = await startTestAggregator({ dataDir, metricsPort: 0 });
    try {
      const client = agg.client();
      const status = await client.getRun(RUN);
      // Its chunks are still counted (the node resumes after them), from the index.
      expect(status.nodes.find((n) => n.nodeId === 't2')).toMatchObject({ relativeChunks: 4, relativeRows: 40 });
      const merged = await client.readMerged(RUN);
      const expected = expectedMerged([spaces.t1]);
      expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
      expect(Array.from(merged.counts)).toEqual(Array.from(expected.counts));
      expect(Array.from(merged.values.data)).toEqual(Array.from(expected.values.data));

      const named = /chunk 2 of node t2 \(relative\) in run dmg is damaged: checksum mismatch/;
      await expect(client.readNodeSpace(RUN, 't2')).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(named) });
      await expect(client.upload({ runId: RUN, nodeId: 't2', chunks: chunksOf(testSpace(range(100, 150), WIDTH, 1), CHUNK_ROWS), startAfterSeq: 3, retry: { attempts: 0 } })).rejects.toMatchObject({
        code: 'DATA_LOSS',
      });
      // The intact nodes read as before.
      const t1 = await client.readNodeSpace(RUN, 't1');
      expect(Array.from(t1.values.data)).toEqual(Array.from(spaces.t1.values));
      const evaluation = await client.evaluate(RUN);
      expect(evaluation.scores.map((s) => s.subject).sort()).toEqual(['merged', 't1']);

      const metrics = await (await fetch(`http://127.0.0.1:${agg.handle.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/^rlsa_aggregator_damaged_chunks_total 1$/m);
      expect(metrics).toMatch(/^rlsa_aggregator_damaged_nodes 1$/m);
      // Deleting the run takes its damaged node out of the gauge (the chunks counted stay counted).
      await client.deleteRun(RUN, true);
      const afterDelete = await (await fetch(`http://127.0.0.1:${agg.handle.metricsPort}/metrics`)).text();
      expect(afterDelete).toMatch(/^rlsa_aggregator_damaged_nodes 0$/m);
      expect(afterDelete).toMatch(/^rlsa_aggregator_damaged_chunks_total 1$/m);
    } finally {
      await agg.stop();
    }
  });

  it('a byte flipped in the SQLite file (its integrity check still ok): the chunk it indexes is damaged, the restart does not fail', async () => {
    const dataDir = join(temp.dir, 'sqlite');
    await populate(dataDir);
    const damaged = indexRow(dataDir, 't1', 1);
    // SQLite stores the checksum as a big-endian integer of 4 bytes (below 2^31) or 6 bytes.
    const encoded = Buffer.alloc(6);
    encoded.writeUIntBE(damaged.checksum, 0, 6);
    const pattern = damaged.checksum < 2 ** 31 ? encoded.subarray(2) : encoded;
    const file = join(dataDir, 'aggregator.sqlite');
    const bytes = readFileSync(file);
    const at = positionsOf(bytes, pattern);
    expect(at).toHaveLength(1);
    const position = (at[0] as number) + pattern.length - 1;
    bytes[position] = (bytes[position] as number) ^ 0x01;
    writeFileSync(file, bytes);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    const agg = await startTestAggregator({ dataDir });
    try {
      const client = agg.client();
      const merged = await client.readMerged(RUN);
      const expected = expectedMerged([spaces.t2]);
      expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
      expect(Array.from(merged.values.data)).toEqual(Array.from(expected.values.data));
      await expect(client.readNodeSpace(RUN, 't1')).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/chunk 1 of node t1 \(relative\) in run dmg is damaged/) });
    } finally {
      await agg.stop();
    }
  });

  it('damage that appears while it runs is found by the next read: DATA_LOSS from then on, the merged space (built from checked data) unchanged', async () => {
    const dataDir = join(temp.dir, 'running');
    await populate(dataDir);
    const agg = await startTestAggregator({ dataDir });
    try {
      const client = agg.client();
      const before = await client.readMerged(RUN);
      const damaged = indexRow(dataDir, 't1', 3);
      flipByte(join(dataDir, damaged.path), damaged.offset + 70);
      await expect(client.readNodeSpace(RUN, 't1')).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/chunk 3 of node t1 \(relative\) in run dmg is damaged/) });
      // Marked now: refused before anything is read, its uploads too.
      await expect(client.readNodeSpace(RUN, 't1')).rejects.toMatchObject({ code: 'DATA_LOSS' });
      await expect(client.upload({ runId: RUN, nodeId: 't1', chunks: chunksOf(testSpace(range(100, 150), WIDTH, 1), CHUNK_ROWS), startAfterSeq: 3, retry: { attempts: 0 } })).rejects.toMatchObject({ code: 'DATA_LOSS' });
      const after = await client.readMerged(RUN);
      expect(Array.from(after.values.data)).toEqual(Array.from(before.values.data));
    } finally {
      await agg.stop();
    }
  });
});
