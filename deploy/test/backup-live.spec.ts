import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createAggregatorClient, type AggregatorClient, type AnchorSetSummaryView, type UploadChunkInput } from '@rlsa/client';
import { encodeAnchorSet } from '@rlsa/sources';
import { createHash } from 'node:crypto';
import { runRlsa, startAggregator, type RunningAggregator } from './processes.ts';

/**
 * An operator's backup while the parties upload: `rlsa backup` against a running aggregator,
 * `rlsa restore` into a fresh data dir, a new aggregator started from it. Every chunk acknowledged
 * before the backup started must be there, row for row and value for value.
 */
const RUN = 'live';
const ANCHORS = 16;
const ROWS_PER_CHUNK = 32;
const NODES = ['node-a', 'node-b'] as const;
const FINGERPRINT = 'ab'.repeat(32);
/** An uploaded anchor set (and a run naming it): the backup must carry it, or the restored run's nodes cannot fetch their anchors. */
const ANCHOR_SET = encodeAnchorSet({ kind: 'array', shape: { kind: 'features', width: 24 }, values: Float32Array.from({ length: 40 * 24 }, (_, i) => Math.sin(i)) });
const ANCHOR_SET_FINGERPRINT = createHash('sha256').update(ANCHOR_SET).digest('hex');
const ANCHOR_SET_SUMMARY: AnchorSetSummaryView = { size: ANCHOR_SET.length, count: 40, kind: 'array', shape: [24], dtype: 'float32', hasLabels: false, hasNames: false };

async function fetchAll(client: AggregatorClient, runId: string): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of client.fetchAnchorSet(runId)) pieces.push(piece.data);
  return Buffer.concat(pieces);
}

/** Sample ids of chunk `seq` of node `index`: disjoint between nodes. */
const idsOf = (index: number, seq: number): number[] => Array.from({ length: ROWS_PER_CHUNK }, (_, row) => index * 100_000 + seq * ROWS_PER_CHUNK + row);
/** The value a node uploads for sample `id`, column `col` (as float32). */
const valueOf = (id: number, col: number): number => Math.fround(Math.sin(id * 0.37 + col * 1.3));

async function* chunks(index: number, signal: AbortSignal): AsyncGenerator<UploadChunkInput> {
  for (let seq = 0; !signal.aborted; seq += 1) {
    const sampleIds = idsOf(index, seq);
    const data = new Float32Array(ROWS_PER_CHUNK * ANCHORS);
    sampleIds.forEach((id, row) => {
      for (let col = 0; col < ANCHORS; col += 1) data[row * ANCHORS + col] = valueOf(id, col);
    });
    yield { sampleIds: Uint32Array.from(sampleIds), values: { rows: ROWS_PER_CHUNK, cols: ANCHORS, data } };
    await sleep(2); // a steady stream, not a flood: the test is about consistency, not speed
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rlsa-backup-live-'));
const running: RunningAggregator[] = [];
const clients: AggregatorClient[] = [];
afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(running.map((aggregator) => aggregator.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('backup while nodes upload, restore, restart', () => {
  it('the restored aggregator holds every chunk acknowledged before the backup', async () => {
    const first = await startAggregator(['--data-dir', join(dir, 'data'), '--port', '0']);
    running.push(first);
    const client = createAggregatorClient({ address: `127.0.0.1:${first.port}` });
    clients.push(client);
    const anchors = { kind: 'builtin' as const, dataset: 'synthetic', sampleIds: Array.from({ length: ANCHORS }, (_, i) => BigInt(i)), fingerprint: FINGERPRINT };
    await client.createRun({ runId: RUN, anchors, similarity: 'cosine' });
    await client.uploadAnchorSet({ fingerprint: ANCHOR_SET_FINGERPRINT, summary: ANCHOR_SET_SUMMARY, bytes: ANCHOR_SET });
    await client.createRun({ runId: 'with-set', anchors: { kind: 'anchor-set', fingerprint: ANCHOR_SET_FINGERPRINT, summary: ANCHOR_SET_SUMMARY } });

    const acked = NODES.map(() => new Set<number>());
    const stop = new AbortController();
    const uploads = NODES.map(async (nodeId, index) => {
      await client.join({ runId: RUN, nodeId, role: 'trainer', taskId: String(index), model: { architecture: 'test', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: ANCHORS });
      return client
        .upload({ runId: RUN, nodeId, chunks: chunks(index, stop.signal), onAck: (ack) => acked[index]?.add(ack.seq), signal: stop.signal })
        .catch((error: unknown) => (stop.signal.aborted ? undefined : Promise.reject(error)));
    });

    while (acked.some((set) => set.size < 100)) await sleep(20);
    const before = acked.map((set) => new Set(set));
    const backup = await runRlsa(['backup', '--data-dir', join(dir, 'data'), '--out', join(dir, 'backup.sqlite')]);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const during = acked.map((set, index) => set.size - (before[index]?.size ?? 0));
    stop.abort();
    await Promise.all(uploads);
    // The nodes kept uploading while the backup ran: it did not stop the service.
    expect(during.every((count) => count > 0)).toBe(true);
    const summary = JSON.parse(backup.stdout) as { tables: Record<string, number>; segmentBytes: number; damagedChunks: unknown[]; anchorSetBytes: number };
    // The anchor set's encoding and its summary file.
    expect(summary.anchorSetBytes).toBeGreaterThan(ANCHOR_SET.length);
    expect(summary.tables).toMatchObject({ chunks: expect.any(Number) });
    // The segment layout: the payloads are in segment files, packed into the one backup file with every record checked.
    expect(summary.tables['segment_blocks']).toBeGreaterThan(0);
    expect(summary.segmentBytes).toBeGreaterThan(summary.tables['chunks']! * ROWS_PER_CHUNK * ANCHORS * 4);
    expect(summary.damagedChunks).toEqual([]);
    expect(await first.stop()).toBe(0);

    const restore = await runRlsa(['restore', '--from', join(dir, 'backup.sqlite'), '--data-dir', join(dir, 'restored')]);
    expect(restore.code).toBe(0);
    const restored = JSON.parse(restore.stdout) as { tables: Record<string, number>; segmentBytes: number; anchorSetBytes: number };
    expect(restored.anchorSetBytes).toBe(summary.anchorSetBytes);
    // The restored data dir has the segment files back, exactly the bytes the backup holds, and no blocks left in its database.
    expect(restored.segmentBytes).toBe(summary.segmentBytes);
    expect(restored.tables['segment_blocks']).toBeUndefined();
    expect(restored.tables['chunks']).toBe(summary.tables['chunks']);
    const second = await startAggregator(['--data-dir', join(dir, 'restored'), '--port', '0']);
    running.push(second);
    const reader = createAggregatorClient({ address: `127.0.0.1:${second.port}` });
    clients.push(reader);

    for (const [index, nodeId] of NODES.entries()) {
      const space = await reader.readNodeSpace(RUN, nodeId, 'relative');
      const rowOf = new Map(Array.from(space.sampleIds, (id, row) => [id, row]));
      const ackedSeqs = [...(before[index] ?? [])];
      expect(ackedSeqs.length).toBeGreaterThanOrEqual(100);
      let checked = 0;
      for (const seq of ackedSeqs) {
        for (const id of idsOf(index, seq)) {
          const row = rowOf.get(BigInt(id));
          expect(row, `${nodeId} chunk ${seq} sample ${id}`).toBeDefined();
          for (let col = 0; col < ANCHORS; col += 1) expect(space.values.data[(row ?? 0) * ANCHORS + col]).toBe(valueOf(id, col));
          checked += 1;
        }
      }
      expect(checked).toBe(ackedSeqs.length * ROWS_PER_CHUNK);
      // A node that reconnects to the restored aggregator resumes after what the backup holds.
      const joined = await reader.join({ runId: RUN, nodeId, role: 'trainer', taskId: String(index), model: { architecture: 'test', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: ANCHORS });
      expect(joined.lastRelativeSeq).toBeGreaterThanOrEqual(Math.max(...ackedSeqs));
      expect(joined.lastRelativeSeq + 1).toBe(space.sampleIds.length / ROWS_PER_CHUNK);
    }
    // The run created with an anchor set serves it, byte for byte, from the restored data dir.
    expect(Buffer.compare(await fetchAll(reader, 'with-set'), Buffer.from(ANCHOR_SET))).toBe(0);
    const merged = await reader.readMerged(RUN);
    const mergedIds = new Set(merged.sampleIds);
    for (const [index] of NODES.entries()) for (const seq of before[index] ?? []) for (const id of idsOf(index, seq)) expect(mergedIds.has(BigInt(id))).toBe(true);
  }, 180_000);
});
