import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModelCard, encodeRunConfig } from '../../src/storage/records.ts';
import { ChunkWriter } from '../../src/storage/chunk-writer.ts';
import type { ChunkRow } from '../../src/storage/schema.ts';
import { Storage } from '../../src/storage/storage.ts';
import { range, tempDir, testRunConfig } from '../helpers.ts';

const WIDTH = 4;

function chunkRow(runId: string, seq: number): ChunkRow {
  const values = Float32Array.from({ length: 3 * WIDTH }, (_, i) => seq + i / 16);
  return {
    runId,
    nodeId: 'n',
    space: 1,
    seq,
    rows: 3,
    cols: WIDTH,
    encoding: 1,
    sampleIds: Buffer.from(Uint32Array.from([3 * seq, 3 * seq + 1, 3 * seq + 2]).buffer),
    data: Buffer.from(values.buffer),
    rowScales: null,
    labels: null,
    counted: null,
    countedRows: 3,
  };
}

describe('deleting a run (Storage.deleteRun after ChunkWriter.closeRun)', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('removes its rows and segment files, returns the bytes freed, and leaves the other runs whole', async () => {
    const storage = new Storage(temp.dir);
    const writer = new ChunkWriter({ dataDir: temp.dir, databasePath: storage.path, durability: 'normal' });
    try {
      for (const runId of ['gone', 'kept']) {
        storage.insertRun(runId, encodeRunConfig(testRunConfig(runId, range(0, WIDTH))), 1);
        storage.insertNode({ runId, nodeId: 'n', role: 1, taskId: '', model: encodeModelCard({ architecture: 'mlp', embeddingWidth: 8 }), joinedAtMs: 1 });
        await Promise.all(range(0, 5).map((seq) => writer.write(chunkRow(runId, seq))));
      }
      // Segment ids in the order runs first wrote: 1 for 'gone', 2 for 'kept'.
      const goneDir = join(temp.dir, 'segments', 'gone');
      const bytes = statSync(join(goneDir, '00000001.seg')).size;
      expect(bytes).toBeGreaterThan(5 * 3 * WIDTH * 4);

      await writer.closeRun('gone');
      expect(storage.deleteRun('gone')).toBe(bytes);
      expect(existsSync(goneDir)).toBe(false);
      expect(storage.listRuns().map((r) => r.runId)).toEqual(['kept']);
      expect(storage.chunksAfter('gone', 'n', 1, -1, 10)).toEqual([]);
      expect(storage.chunksAfter('kept', 'n', 1, -1, 10).map((row) => new Float32Array(row.data.buffer, row.data.byteOffset, 3 * WIDTH)[0])).toEqual([0, 1, 2, 3, 4]);
      // A run of the same id created again starts a new segment (ids are never reused).
      storage.insertRun('gone', encodeRunConfig(testRunConfig('gone', range(0, WIDTH))), 2);
      storage.insertNode({ runId: 'gone', nodeId: 'n', role: 1, taskId: '', model: encodeModelCard({ architecture: 'mlp', embeddingWidth: 8 }), joinedAtMs: 2 });
      await writer.write(chunkRow('gone', 0));
      expect(storage.getChunk('gone', 'n', 1, 0)?.countedRows).toBe(3);
      expect(existsSync(join(goneDir, '00000003.seg'))).toBe(true);
    } finally {
      await writer.stop();
      storage.close();
    }
    const db = new Database(join(temp.dir, 'aggregator.sqlite'), { readonly: true });
    expect(db.prepare("SELECT count(*) FROM chunks WHERE run_id = 'gone'").pluck().get()).toBe(1);
    db.close();
  });
});
