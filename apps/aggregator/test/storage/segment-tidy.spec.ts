import Database from 'better-sqlite3';
import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';

/**
 * What a crash between a record's write and its index commit leaves (a tail no index row
 * references; a new segment file no row names) is cut at the next start: the data acknowledged
 * reads back intact, and later chunks go where the index expects them.
 */
const WIDTH = 8;
const RUN = 'tidy';

function referencedEnd(dataDir: string): { path: string; end: number } {
  const db = new Database(join(dataDir, 'aggregator.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT s.path, max(c.offset + c.length) AS "end" FROM chunks c JOIN segments s USING (segment_id) GROUP BY s.path').get() as { path: string; end: number };
  } finally {
    db.close();
  }
}

describe('unreferenced segment bytes at start', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('are cut (tail) or removed (file), and the chunks after them are stored where the index says', async () => {
    const dataDir = join(temp.dir, 'data');
    const first = testSpace(range(0, 30), WIDTH, 41);
    const second = testSpace(range(30, 60), WIDTH, 42);
    let agg = await startTestAggregator({ dataDir });
    let client = agg.client();
    await client.createRun({ runId: RUN, anchors: builtinAnchors(range(0, WIDTH)), acceptedEncodings: ['float32'] });
    await client.join({ runId: RUN, nodeId: 'n', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    await client.upload({ runId: RUN, nodeId: 'n', chunks: chunksOf(first, 10) });
    await agg.stop();

    const segment = referencedEnd(dataDir);
    const file = join(dataDir, segment.path);
    expect(statSync(file).size).toBe(segment.end);
    // A record's worth of bytes written, its index row never committed; and a segment started in a batch that never committed.
    appendFileSync(file, Buffer.alloc(1234, 0x5a));
    const orphan = join(dataDir, 'segments', RUN, '00000099.seg');
    writeFileSync(orphan, Buffer.alloc(100, 1));

    agg = await startTestAggregator({ dataDir });
    client = agg.client();
    expect(statSync(file).size).toBe(segment.end);
    expect(existsSync(orphan)).toBe(false);
    const joined = await client.join({ runId: RUN, nodeId: 'n', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    expect(joined.lastRelativeSeq).toBe(2);
    // Seqs 3..5 (the list's first three are the chunks stored before): appended at the referenced end, over the cut tail.
    await client.upload({ runId: RUN, nodeId: 'n', chunks: [...chunksOf(first, 10), ...chunksOf(second, 10)], startAfterSeq: 2 });
    await agg.stop();

    agg = await startTestAggregator({ dataDir });
    try {
      const space = await agg.client().readNodeSpace(RUN, 'n');
      expect(Array.from(space.sampleIds)).toEqual(bigIds(range(0, 60)));
      expect(Array.from(space.values.data)).toEqual([...first.values, ...second.values]);
      expect(statSync(file).size).toBe(referencedEnd(dataDir).end);
    } finally {
      await agg.stop();
    }
  });
});
