import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { meanOverSpaces } from '@rlsa/core';
import { Encoding } from '@rlsa/proto';
import { roleFromName } from '@rlsa/wire';
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModelCard } from '../../src/storage/records.ts';
import { SCHEMA_VERSION } from '../../src/storage/schema.ts';
import { FINGERPRINT, bigIds, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestSpace } from '../helpers.ts';

/** The tables of schema 1 as the previous aggregator created them (payloads as blobs in `chunks`): the fixture of an old data dir. */
const V1_TABLES = `
  CREATE TABLE runs (run_id TEXT PRIMARY KEY, config BLOB NOT NULL, created_at_ms INTEGER NOT NULL);
  CREATE TABLE nodes (run_id TEXT NOT NULL REFERENCES runs(run_id), node_id TEXT NOT NULL, role INTEGER NOT NULL, task_id TEXT NOT NULL,
    model BLOB NOT NULL, finished INTEGER NOT NULL DEFAULT 0, joined_at_ms INTEGER NOT NULL, PRIMARY KEY (run_id, node_id));
  CREATE TABLE chunks (run_id TEXT NOT NULL, node_id TEXT NOT NULL, space INTEGER NOT NULL, seq INTEGER NOT NULL, rows INTEGER NOT NULL,
    cols INTEGER NOT NULL, encoding INTEGER NOT NULL, sample_ids BLOB NOT NULL, data BLOB NOT NULL, row_scales BLOB, labels BLOB, counted BLOB,
    counted_rows INTEGER NOT NULL, FOREIGN KEY (run_id, node_id) REFERENCES nodes(run_id, node_id));
  CREATE UNIQUE INDEX chunks_key ON chunks(run_id, node_id, space, seq);
  PRAGMA user_version = 1;
`;
const WIDTH = 6;
const CHUNK_ROWS = 7;
const RUN = 'old';

/**
 * An rlsa.v1.RunConfig as the previous aggregator stored it (run_id = 1, anchor_ids = 2 packed
 * uint32, similarity = 3 (cosine = 1), anchor_fingerprint = 4, accepted_encodings = 5 packed), written
 * field by field with protobuf-es's wire writer: the v1 schema is gone from this repository.
 */
function v1RunConfig(runId: string, anchorIds: readonly number[]): Buffer {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).string(runId);
  writer.tag(2, WireType.LengthDelimited).fork();
  for (const id of anchorIds) writer.uint32(id);
  writer.join();
  writer.tag(3, WireType.Varint).int32(1);
  writer.tag(4, WireType.LengthDelimited).string(FINGERPRINT);
  writer.tag(5, WireType.LengthDelimited).fork().int32(Encoding.FLOAT32).join();
  return Buffer.from(writer.finish());
}

function writeV1DataDir(dataDir: string, spaces: Record<string, TestSpace>): void {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'aggregator.sqlite'));
  db.pragma('page_size = 65536');
  db.pragma('journal_mode = WAL');
  db.exec(V1_TABLES);
  db.prepare('INSERT INTO runs VALUES (?, ?, ?)').run(RUN, v1RunConfig(RUN, range(0, WIDTH)), 1);
  const insertChunk = db.prepare('INSERT INTO chunks VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)');
  for (const [nodeId, space] of Object.entries(spaces)) {
    db.prepare('INSERT INTO nodes VALUES (?, ?, ?, ?, ?, 0, ?)').run(RUN, nodeId, roleFromName('trainer'), '', encodeModelCard({ architecture: 'mlp', embeddingWidth: 8, taskAccuracy: 0 }), 2);
    for (let start = 0, seq = 0; start < space.sampleIds.length; start += CHUNK_ROWS, seq += 1) {
      const end = Math.min(space.sampleIds.length, start + CHUNK_ROWS);
      const bytesOf = (a: Uint32Array | Int32Array | Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      insertChunk.run(RUN, nodeId, seq, end - start, WIDTH, Encoding.FLOAT32, bytesOf(space.sampleIds.subarray(start, end)), bytesOf(space.values.subarray(start * WIDTH, end * WIDTH)), bytesOf(space.labels.subarray(start, end)), end - start);
    }
  }
  db.close();
}

describe('a data dir of the previous layout (schema 1)', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('is migrated at start: the same runs, nodes, rows and merged space, payloads in segment files, the blob table gone, rlsa.v1 data as rlsa.v2', async () => {
    const dataDir = join(temp.dir, 'data');
    const spaces = { a: testSpace(range(0, 20), WIDTH, 51), b: testSpace(range(10, 30), WIDTH, 52) };
    writeV1DataDir(dataDir, spaces);

    const agg = await startTestAggregator({ dataDir });
    try {
      const client = agg.client();
      const status = await client.getRun(RUN);
      // The v1 config as v2: the anchors are ids of a built-in data set v1 never named.
      expect(status.config).toMatchObject({ anchors: { kind: 'builtin', dataset: '', sampleIds: bigIds(range(0, WIDTH)), fingerprint: FINGERPRINT }, acceptedEncodings: ['float32'], similarity: 'cosine' });
      expect(status.nodes.map((n) => [n.nodeId, n.relativeChunks, n.relativeRows])).toEqual([
        ['a', 3, 20],
        ['b', 3, 20],
      ]);
      const merged = await client.readMerged(RUN);
      const expected = meanOverSpaces(Object.values(spaces).map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })));
      // The 32-bit ids of v1 are the same ids as 64-bit ones.
      expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
      expect(Array.from(merged.values.data)).toEqual(Array.from(expected.values.data));
      const b = await client.readNodeSpace(RUN, 'b');
      expect(Array.from(b.values.data)).toEqual(Array.from(spaces.b.values));
      expect(Array.from(b.labels)).toEqual(Array.from(spaces.b.labels));
    } finally {
      await agg.stop();
    }
    const db = new Database(join(dataDir, 'aggregator.sqlite'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const columns = (db.pragma('table_info(chunks)') as { name: string }[]).map((c) => c.name);
      expect(columns).not.toContain('data');
      expect(columns).toContain('checksum');
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'chunks_v1'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
    expect(readdirSync(join(dataDir, 'segments', RUN))).toHaveLength(1);
  });

  it('a data dir of segment files with rlsa.v1 data (schema 2, development builds only) is refused in one line', async () => {
    const dataDir = join(temp.dir, 'data2');
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, 'aggregator.sqlite'));
    db.pragma('user_version = 2');
    db.close();
    await expect(startTestAggregator({ dataDir })).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(/schema 2.*give a new --data-dir/) });
  });
});
