import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestAggregator } from '../helpers.ts';

/**
 * Run quotas (issue 13 item 2): distinct samples of a node's space and of the merged space, stored
 * bytes of a node and of a run, from the run config or the server's defaults; a chunk past one is
 * RESOURCE_EXHAUSTED with nothing stored (the node can go on with other chunks), and after a
 * restart the same counts hold (the rebuild replays, it never refuses what was accepted).
 */
const WIDTH = 4;
const RUN = 'q';
const model = { architecture: 'mlp', embeddingWidth: 4 };
/** Payload bytes of one row: an 8-byte id, WIDTH float32 values and an int32 label. */
const ROW_BYTES = 8 + 4 * WIDTH + 4;

async function join2(agg: TestAggregator, nodes: string[]): Promise<void> {
  const client = agg.client();
  for (const nodeId of nodes) {
    const role = nodeId.startsWith('ref') ? 'reference' : 'trainer';
    await client.join({ runId: RUN, nodeId, role, model, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
  }
}

/** Uploads rows `ids` of `nodeId` in chunks of 10, those numbered ≤ `startAfterSeq` skipped (a resume): the status and message of the end. */
async function upload(agg: TestAggregator, nodeId: string, ids: number[], startAfterSeq = -1): Promise<{ code: string; message: string }> {
  try {
    await agg.client().upload({ runId: RUN, nodeId, chunks: chunksOf(testSpace(ids, WIDTH, ids[0] ?? 0), 10), startAfterSeq, retry: { attempts: 0 } });
    return { code: 'OK', message: '' };
  } catch (error: unknown) {
    return error as { code: string; message: string };
  }
}

async function rowsOf(agg: TestAggregator, nodeId: string): Promise<{ chunks: number; rows: number }> {
  const node = (await agg.client().getRun(RUN)).nodes.find((n) => n.nodeId === nodeId);
  return { chunks: node?.relativeChunks ?? -1, rows: node?.relativeRows ?? -1 };
}

describe('run quotas', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it("the run's own quotas: node samples, merged samples, node bytes and run bytes, each RESOURCE_EXHAUSTED before anything is stored, and kept after a restart", async () => {
    const dataDir = join(temp.dir, 'own');
    let agg = await startTestAggregator({ dataDir });
    // Node bytes: 45 rows; run bytes: 100 rows; merged samples: 50 (node samples: test below).
    const quotas = { maxSamples: 50, maxNodeSamples: 100, maxNodeBytes: 45 * ROW_BYTES, maxBytes: 100 * ROW_BYTES };
    await agg.client().createRun({ runId: RUN, anchors: builtinAnchors(range(0, WIDTH)), quotas });
    await join2(agg, ['t1', 't2', 't3', 'ref']);
    try {
      // t1: 40 rows fit, the 5th chunk's bytes do not.
      const t1 = await upload(agg, 't1', range(0, 50));
      expect(t1.code).toBe('RESOURCE_EXHAUSTED');
      expect(t1.message).toMatch(new RegExp(`chunk 4 of node t1 in run q would make ${50 * ROW_BYTES} stored bytes for the node, over the run's quota \\(max_node_bytes = ${45 * ROW_BYTES}\\); nothing of it was stored`));
      expect(await rowsOf(agg, 't1')).toEqual({ chunks: 4, rows: 40 });
      // t2: 10 samples already merged, 10 new ones fit (40 + 10 = 50), the next 10 do not.
      const t2 = await upload(agg, 't2', range(30, 70));
      expect(t2.code).toBe('RESOURCE_EXHAUSTED');
      expect(t2.message).toContain("chunk 2 of node t2 in run q would make 60 distinct samples in the merged space, over the run's quota (max_samples = 50)");
      expect(await rowsOf(agg, 't2')).toEqual({ chunks: 2, rows: 20 });
      expect((await agg.client().getRun(RUN)).mergedSamples).toBe(50);
      // Samples already merged are no new merged samples: t3 may send them.
      expect(await upload(agg, 't3', range(0, 10))).toEqual({ code: 'OK', message: '' });
      // The run now stores 70 rows; the reference's 4th chunk would make 110 > 100.
      const ref = await upload(agg, 'ref', range(0, 40));
      expect(ref.message).toContain(`chunk 3 of node ref in run q would make ${110 * ROW_BYTES} stored bytes for the run, over the run's quota (max_bytes = ${100 * ROW_BYTES})`);
      expect(await rowsOf(agg, 'ref')).toEqual({ chunks: 3, rows: 30 });
      await agg.stop();

      // After a restart: the same counts, the same refusals.
      agg = await startTestAggregator({ dataDir });
      expect(await rowsOf(agg, 't1')).toEqual({ chunks: 4, rows: 40 });
      expect((await agg.client().getRun(RUN)).mergedSamples).toBe(50);
      expect((await upload(agg, 't1', range(0, 50), 3)).message).toContain('max_node_bytes');
      expect((await upload(agg, 'ref', range(0, 40), 2)).message).toContain('max_bytes');
      // The run holds 100 rows of bytes now: t2's next chunk meets that bound first.
      expect((await upload(agg, 't2', range(30, 70), 1)).message).toContain(`would make ${110 * ROW_BYTES} stored bytes for the run`);
    } finally {
      await agg.stop();
    }
  });

  it("the server's defaults where the run's quotas are 0, and a node's samples bound per space; lowering them does not stop the restart", async () => {
    const dataDir = join(temp.dir, 'server');
    let agg = await startTestAggregator({ dataDir, quotas: { maxRunSamples: 25, maxNodeSamples: 20 } });
    await agg.client().createRun({ runId: RUN, anchors: builtinAnchors(range(0, WIDTH)) });
    await join2(agg, ['t1', 't2', 'ref']);
    try {
      const t1 = await upload(agg, 't1', range(0, 30));
      expect(t1.message).toContain("chunk 2 of node t1 in run q would make 30 distinct samples in the node's relative space, over the run's quota (max_node_samples = 20)");
      // The reference is not merged: the run's merged bound does not apply to it, its node bound does.
      expect((await upload(agg, 'ref', range(100, 130))).message).toContain('max_node_samples = 20');
      expect((await upload(agg, 't2', range(10, 30))).message).toContain('would make 30 distinct samples in the merged space, over the run\'s quota (max_samples = 25)');
      expect((await agg.client().getRun(RUN)).mergedSamples).toBe(20);
      await agg.stop();
      // Accepted data is replayed whatever the quotas are now.
      agg = await startTestAggregator({ dataDir, quotas: { maxRunSamples: 5, maxNodeSamples: 5 } });
      const status = await agg.client().getRun(RUN);
      expect(status.mergedSamples).toBe(20);
      expect(status.nodes.find((n) => n.nodeId === 'ref')?.relativeRows).toBe(20);
      expect((await agg.client().readMerged(RUN)).sampleIds).toHaveLength(20);
      expect(await upload(agg, 't2', range(10, 30), 0)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('max_node_samples = 5') });
    } finally {
      await agg.stop();
    }
  });
});
