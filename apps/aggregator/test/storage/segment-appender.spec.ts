import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../src/storage/chunk-record.ts';
import type { ChunkRow, SegmentRow } from '../../src/storage/schema.ts';
import { SegmentAppender } from '../../src/storage/segment-appender.ts';
import type { Placement } from '../../src/storage/segment-appender.ts';
import { tempDir } from '../helpers.ts';

function row(runId: string, seq: number): ChunkRow {
  return {
    runId,
    nodeId: 'n',
    space: 1,
    seq,
    rows: 2,
    cols: 3,
    encoding: 1,
    sampleIds: Buffer.from(Uint32Array.from([2 * seq, 2 * seq + 1]).buffer),
    data: Buffer.from(Float32Array.from({ length: 6 }, (_, i) => seq + i).buffer),
    rowScales: null,
    labels: null,
    counted: null,
    countedRows: 2,
  };
}

/** A record read back from the file at its placement. */
function readBack(dataDir: string, path: string, placement: Placement, expected: ChunkRow): unknown {
  const record = readFileSync(join(dataDir, path)).subarray(placement.offset, placement.offset + placement.length);
  const { runId, nodeId, space, seq, rows, cols, encoding, countedRows } = expected;
  return decodeRecord(Buffer.from(record), { runId, nodeId, space, seq, rows, cols, encoding, countedRows, checksum: placement.checksum });
}

describe('SegmentAppender (the writer thread appending records, batch by batch)', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());
  const noSegments = { lastSegment: (): SegmentRow | undefined => undefined, nextSegmentId: () => 1 };

  it('appends records back to back, one segment per run, each readable at its placement', () => {
    const appender = new SegmentAppender(temp.dir, noSegments);
    const placed = [row('a', 0), row('b', 0), row('a', 1)].map((r) => ({ r, at: appender.append(r) }));
    expect(appender.newSegments.map((s) => [s.segmentId, s.runId, s.path])).toEqual([
      [1, 'a', 'segments/a/00000001.seg'],
      [2, 'b', 'segments/b/00000002.seg'],
    ]);
    appender.settle();
    const [a0, b0, a1] = placed;
    expect(a1?.at.offset).toBe((a0?.at.offset ?? 0) + (a0?.at.length ?? 0));
    for (const { r, at } of placed) expect(readBack(temp.dir, `segments/${r.runId}/0000000${at.segmentId}.seg`, at, r)).toEqual(r);
    expect(b0?.at.offset).toBe(0);
    appender.closeAll();
  });

  it('a rolled-back batch leaves the files as before it: tails cut, its new segments removed', () => {
    const appender = new SegmentAppender(temp.dir, noSegments);
    appender.append(row('a', 0));
    appender.settle();
    const file = join(temp.dir, 'segments/a/00000001.seg');
    const size = statSync(file).size;
    appender.append(row('a', 1));
    appender.append(row('c', 0));
    expect(statSync(file).size).toBeGreaterThan(size);
    appender.rollback();
    expect(statSync(file).size).toBe(size);
    expect(existsSync(join(temp.dir, 'segments/c/00000002.seg'))).toBe(false);
    // The next batch writes where the rolled-back one started.
    const again = appender.append(row('a', 1));
    expect(again.offset).toBe(size);
    appender.settle();
    appender.closeAll();
  });

  it('starts a new segment past the size cap, and a rollback returns to the previous one', () => {
    const recordBytes = encodeRecord(row('a', 0)).bytes;
    const appender = new SegmentAppender(temp.dir, noSegments, 2 * recordBytes);
    const first = [0, 1].map((seq) => appender.append(row('a', seq)));
    appender.settle();
    const third = appender.append(row('a', 2));
    expect(third).toMatchObject({ segmentId: 2, offset: 0 });
    appender.rollback();
    expect(existsSync(join(temp.dir, 'segments/a/00000002.seg'))).toBe(false);
    expect(first.map((p) => p.segmentId)).toEqual([1, 1]);
    // Rotation again after the rollback: segment ids are not reused within a writer's life.
    const retried = appender.append(row('a', 2));
    expect(retried).toMatchObject({ segmentId: 3, offset: 0 });
    appender.settle();
    expect(statSync(join(temp.dir, 'segments/a/00000001.seg')).size).toBe(2 * recordBytes);
    appender.closeAll();
  });

  it('appends to a run\'s last segment at the end the index references, over an unreferenced tail', () => {
    const appender = new SegmentAppender(temp.dir, noSegments);
    const placed = appender.append(row('a', 0));
    appender.append(row('a', 1)); // written, never committed: the tail
    appender.settle();
    appender.closeAll();
    const restarted = new SegmentAppender(temp.dir, {
      lastSegment: () => ({ segmentId: 1, runId: 'a', path: 'segments/a/00000001.seg', referencedBytes: placed.length }),
      nextSegmentId: () => 2,
    });
    const next = restarted.append(row('a', 1));
    expect(next).toMatchObject({ segmentId: 1, offset: placed.length });
    restarted.settle();
    expect(readBack(temp.dir, 'segments/a/00000001.seg', next, row('a', 1))).toEqual(row('a', 1));
    restarted.closeAll();
  });
});
