import { meanOverSpaces } from '@rlsa/core';
import { Encoding, SpaceKind } from '@rlsa/proto';
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksum } from '../../src/storage/checksum.ts';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, idColumn, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestAggregator } from '../helpers.ts';
import { rawAggregatorClient, rawUpload } from '../raw-client.ts';

/**
 * Values finite on the wire and infinite in memory (issue 13, item 3): every encoding's values are
 * checked after the arithmetic that decodes them (INVALID_ARGUMENT naming row and column, nothing
 * stored), and a chunk stored before that check (an int8 product past float32's range, as older
 * aggregators accepted) can never make later reads fail: the restart leaves its node out.
 */
const WIDTH = 3;
const RUN = 'vals';
const MAX_FLOAT32 = 3.4028234663852886e38;

/** An int8 chunk of two rows whose scales are finite and whose row 1, column `col` decodes to ±Inf. */
function overflowingInt8(col: number): { data: Uint8Array; rowScales: Uint8Array } {
  const q = Int8Array.of(1, 2, 3, 0, 0, 0);
  q[WIDTH + col] = 127;
  return { data: new Uint8Array(q.buffer), rowScales: new Uint8Array(Float32Array.of(0.01, MAX_FLOAT32 / 100).buffer) };
}

async function joinedRun(agg: TestAggregator): Promise<void> {
  const client = agg.client();
  await client.createRun({ runId: RUN, anchors: builtinAnchors(range(0, WIDTH)) });
  for (const nodeId of ['t1', 't2']) {
    await client.join({ runId: RUN, nodeId, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 4 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
  }
}

describe('values after decoding', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('refuses, for every encoding, a chunk whose values are not finite once decoded: INVALID_ARGUMENT naming row and column, nothing stored', async () => {
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'live') });
    const raw = rawAggregatorClient(agg.address);
    try {
      await joinedRun(agg);
      const client = agg.client();
      const base = { runId: RUN, nodeId: 't1', space: SpaceKind.RELATIVE, seq: 0n, sampleIds: idColumn([10, 11]) };
      const cases = [
        { values: { rows: 2, cols: WIDTH, encoding: Encoding.INT8, ...overflowingInt8(2) }, named: /int8 value at row 1, column 2 is Infinity/ },
        { values: { rows: 2, cols: WIDTH, encoding: Encoding.INT8, data: new Uint8Array(Int8Array.of(0, 0, 0, -127, 0, 0).buffer), rowScales: overflowingInt8(0).rowScales }, named: /int8 value at row 1, column 0 is -Infinity/ },
        { values: { rows: 2, cols: WIDTH, encoding: Encoding.FLOAT16, data: new Uint8Array(Uint16Array.of(0x3c00, 0x3c00, 0x3c00, 0x3c00, 0xfc00, 0x3c00).buffer) }, named: /float16 value at row 1, column 1 is -Infinity/ },
        { values: { rows: 2, cols: WIDTH, encoding: Encoding.FLOAT32, data: new Uint8Array(Float32Array.of(1, 1, 1, 1, 1, Number.NaN).buffer) }, named: /float32 value at row 1, column 2 is NaN/ },
      ];
      for (const { values, named } of cases) {
        const outcome = await rawUpload(raw, [{ ...base, values }]);
        expect(outcome.code, named.source).toBe(3); // INVALID_ARGUMENT
        expect(outcome.details).toMatch(named);
        expect(outcome.acks).toHaveLength(0);
      }
      // Nothing of them was stored: seq 0 is still free, the merged space empty.
      const status = await client.getRun(RUN);
      expect(status.nodes.find((n) => n.nodeId === 't1')).toMatchObject({ relativeChunks: 0, relativeRows: 0 });
      expect((await client.readMerged(RUN)).sampleIds).toHaveLength(0);
      // The largest finite int8 products are accepted as decoded.
      const fits = { rows: 1, cols: WIDTH, encoding: Encoding.INT8, data: new Uint8Array(Int8Array.of(127, -127, 0).buffer), rowScales: new Uint8Array(Float32Array.of(MAX_FLOAT32 / 128).buffer) };
      const accepted = await rawUpload(raw, [{ ...base, sampleIds: idColumn([10]), values: fits }]);
      expect(accepted.code).toBe(0);
      const merged = await client.readMerged(RUN);
      const big = Math.fround(127 * Math.fround(MAX_FLOAT32 / 128));
      expect(Array.from(merged.values.data)).toEqual([big, -big, 0]);
    } finally {
      raw.close();
      await agg.stop();
    }
  });

  it('a chunk stored before the check with an int8 product past float32 range: the restart succeeds, its node is left out and named, ReadMerged keeps working', async () => {
    const dataDir = join(temp.dir, 'stored');
    const t1 = testSpace(range(0, 20), WIDTH, 5);
    const t2 = testSpace(range(10, 30), WIDTH, 6);
    const first = await startTestAggregator({ dataDir });
    await joinedRun(first);
    const client = first.client();
    await client.upload({ runId: RUN, nodeId: 't1', chunks: chunksOf(t1, 10), encoding: 'int8' });
    await client.upload({ runId: RUN, nodeId: 't2', chunks: chunksOf(t2, 10) });
    await first.stop();
    // What an aggregator checking only the wire values stored: chunk 1 of t1 with a finite scale
    // whose product with q = ±127 overflows float32. Its checksum and index are made consistent.
    overwriteFirstRowScale(dataDir, 't1', 1, MAX_FLOAT32 / 100);

    const agg = await startTestAggregator({ dataDir });
    try {
      const c = agg.client();
      const merged = await c.readMerged(RUN);
      const expected = meanOverSpaces([{ sampleIds: t2.sampleIds, values: { rows: 20, cols: WIDTH, data: t2.values } }]);
      expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
      expect(Array.from(merged.values.data)).toEqual(Array.from(expected.values.data));
      expect(merged.values.data.every(Number.isFinite)).toBe(true);
      // In float16 too (a value beyond float16's range would refuse the read).
      expect((await c.readMerged(RUN, { encoding: 'float16' })).sampleIds).toHaveLength(20);
      await expect(c.readNodeSpace(RUN, 't1')).rejects.toMatchObject({
        code: 'DATA_LOSS',
        message: expect.stringMatching(/chunk 1 of node t1 \(relative\) in run vals is damaged: stored values are not finite: int8 value at row 0, column \d is -?Infinity/),
      });
    } finally {
      await agg.stop();
    }
  });
});

/** Rewrites the first row scale of chunk `seq` of `nodeId` in its segment record, then the record's CRC-32 and the index checksum. */
function overwriteFirstRowScale(dataDir: string, nodeId: string, seq: number, scale: number): void {
  const db = new Database(join(dataDir, 'aggregator.sqlite'));
  try {
    const index = db
      .prepare('SELECT s.path, c.offset, c.length, c.rows, c.cols FROM chunks c JOIN segments s USING (segment_id) WHERE c.run_id = ? AND c.node_id = ? AND c.seq = ?')
      .get(RUN, nodeId, seq) as { path: string; offset: number; length: number; rows: number; cols: number };
    const file = join(dataDir, index.path);
    const record = Buffer.alloc(index.length);
    const fd = openSync(file, 'r+');
    try {
      readSync(fd, record, 0, index.length, index.offset);
      // Header: the payload sections' byte counts at 36 (ids, data, scales, ...); the header's size at 6.
      const headerBytes = record.readUInt16LE(6);
      const scalesAt = headerBytes + record.readUInt32LE(36) + record.readUInt32LE(40);
      expect(record.readUInt32LE(44)).toBe(4 * index.rows);
      record.writeFloatLE(scale, scalesAt);
      const crc = checksum(record.subarray(0, index.length - 4));
      record.writeUInt32LE(crc, index.length - 4);
      writeSync(fd, record, 0, index.length, index.offset);
      db.prepare('UPDATE chunks SET checksum = ? WHERE run_id = ? AND node_id = ? AND seq = ?').run(crc, RUN, nodeId, seq);
    } finally {
      closeSync(fd);
    }
  } finally {
    db.close();
  }
}
