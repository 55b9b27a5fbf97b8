import { afterAll, describe, expect, it } from 'vitest';
import { ChunkWriter } from '../../src/storage/chunk-writer.ts';
import { encodeModelCard, encodeRunConfig } from '../../src/storage/records.ts';
import type { ChunkRow } from '../../src/storage/schema.ts';
import { SharedPayloads } from '../../src/storage/shared-payloads.ts';
import { Storage } from '../../src/storage/storage.ts';
import { range, tempDir, testRunConfig } from '../helpers.ts';

/** The pool's events, recorded: which buffers the thread was told to know and to forget. */
function recordingPool(maxFreeBytes?: number): { pool: SharedPayloads; shared: Map<number, SharedArrayBuffer>; unshared: number[] } {
  const shared = new Map<number, SharedArrayBuffer>();
  const unshared: number[] = [];
  const pool = new SharedPayloads({ share: (id, buffer) => shared.set(id, buffer), unshare: (id) => unshared.push(id) }, maxFreeBytes);
  return { pool, shared, unshared };
}

describe('SharedPayloads', () => {
  it('hands out views of shared buffers in power-of-two sizes, each buffer shared once and reused after it is given back', () => {
    const { pool, shared } = recordingPool();
    const a = pool.take(1_000_000);
    expect(a.byteLength).toBe(1_000_000);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(1 << 20);
    expect(pool.refOf(a)).toEqual({ id: 0, byteOffset: 0, byteLength: 1_000_000 });
    expect(shared.get(0)).toBe(a.buffer);
    // Taken and not given back: the next one is another buffer.
    const b = pool.take(1 << 20);
    expect(b.buffer).not.toBe(a.buffer);
    expect(shared.size).toBe(2);
    pool.give(a);
    const c = pool.take(700_000);
    expect(c.buffer).toBe(a.buffer);
    expect(shared.size).toBe(2);
    // Small payloads share the smallest class (64 KiB).
    expect(pool.take(10).buffer.byteLength).toBe(64 * 1024);
  });

  it('keeps at most maxFreeBytes free: a buffer given back beyond that is dropped and the thread told', () => {
    const { pool, unshared } = recordingPool(2 << 20);
    const views = range(0, 3).map(() => pool.take(1 << 20));
    for (const view of views) pool.give(view);
    expect(unshared).toEqual([2]);
    expect(pool.refOf(views[2] as Uint8Array)).toBeUndefined();
    // The two kept are reused, then a new one is made (id 3).
    expect(range(0, 3).map(() => pool.refOf(pool.take(1 << 20))?.id)).toEqual([1, 0, 3]);
  });

  it('names only its own buffers', () => {
    const { pool } = recordingPool();
    expect(pool.refOf(new Uint8Array(16))).toBeUndefined();
    expect(pool.refOf(new Uint8Array(new SharedArrayBuffer(16)))).toBeUndefined();
  });
});

describe('ChunkWriter with shared payloads', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('stores a payload read in place from a shared buffer, equal to one handed over as a plain buffer', async () => {
    const storage = new Storage(temp.dir);
    const writer = new ChunkWriter({ dataDir: temp.dir, databasePath: storage.path, durability: 'normal' });
    const width = 8;
    const rows = 5;
    const values = (seq: number): Float32Array => Float32Array.from({ length: rows * width }, (_, i) => seq * 1000 + i / 8);
    const row = (seq: number, data: Buffer): ChunkRow => ({
      runId: 'r',
      nodeId: 'n',
      space: 1,
      seq,
      rows,
      cols: width,
      encoding: 1,
      sampleIds: Buffer.from(BigUint64Array.from(range(0, rows).map((i) => BigInt(seq * rows + i))).buffer),
      data,
      rowScales: null,
      labels: null,
      counted: null,
      countedRows: rows,
    });
    try {
      storage.insertRun('r', encodeRunConfig(testRunConfig('r', range(0, width))), 1);
      storage.insertNode({ runId: 'r', nodeId: 'n', role: 1, taskId: '', model: encodeModelCard({ architecture: 'mlp', embeddingWidth: 8 }), joinedAtMs: 1 });
      // Seq 0 and 2 from shared buffers (one reused for seq 2 after seq 0 settled), seq 1 as a plain buffer.
      const first = writer.payloads.take(rows * width * 4);
      first.set(new Uint8Array(values(0).buffer));
      await writer.write(row(0, Buffer.from(first.buffer, first.byteOffset, first.byteLength)));
      writer.payloads.give(first);
      await writer.write(row(1, Buffer.from(values(1).buffer)));
      const again = writer.payloads.take(rows * width * 4);
      expect(again.buffer).toBe(first.buffer);
      again.set(new Uint8Array(values(2).buffer));
      await writer.write(row(2, Buffer.from(again.buffer, again.byteOffset, again.byteLength)));
      writer.payloads.give(again);
      for (const seq of [0, 1, 2]) {
        const stored = storage.getChunk('r', 'n', 1, seq);
        expect(stored === undefined ? undefined : Array.from(new Float32Array(new Uint8Array(stored.data).buffer))).toEqual(Array.from(values(seq)));
      }
    } finally {
      await writer.stop();
      storage.close();
    }
  });
});
