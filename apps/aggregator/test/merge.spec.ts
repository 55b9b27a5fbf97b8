import { linearCka, meanOverSpaces } from '@rlsa/core';
import { fromMatrix, writeNpy } from '@rlsa/npy';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, TEST_DATASET, bigIds, builtinAnchors, chunksOf, cosine, range, startTestAggregator, tempDir, testSpace } from './helpers.ts';
import { CLI, REPO_ROOT } from './process-helpers.ts';
import type { TestAggregator } from './helpers.ts';

const WIDTH = 12;
const anchorIds = range(5000, 5000 + WIDTH);
// Trainers overlap on ids 40..79; the reference covers 0..119 (and 200..209, which no trainer has).
const trainerA = testSpace(range(0, 80), WIDTH, 1);
const trainerB = testSpace(range(40, 120), WIDTH, 2);
const reference = testSpace([...range(0, 120), ...range(200, 210)], WIDTH, 3);

describe('two trainers and a reference upload', () => {
  let agg: TestAggregator;
  beforeAll(async () => {
    agg = await startTestAggregator();
    const admin = agg.client();
    await admin.createRun({ runId: 'r1', anchors: builtinAnchors(anchorIds, FINGERPRINT) });
    const nodes = [
      { nodeId: 'a', role: 'trainer' as const, space: trainerA },
      { nodeId: 'b', role: 'trainer' as const, space: trainerB },
      { nodeId: 'ref', role: 'reference' as const, space: reference },
    ];
    await Promise.all(
      nodes.map(async ({ nodeId, role, space }) => {
        const client = agg.client();
        const joined = await client.join({
          runId: 'r1',
          nodeId,
          role,
          taskId: role === 'trainer' ? nodeId : 'all',
          model: { architecture: 'mlp', embeddingWidth: 32, taskAccuracy: 0.9 },
          anchorFingerprint: FINGERPRINT,
          relativeWidth: WIDTH,
        });
        expect(joined.lastRelativeSeq).toBe(-1);
        expect(joined.config.anchors).toEqual({ kind: 'builtin', dataset: TEST_DATASET, sampleIds: bigIds(anchorIds), fingerprint: FINGERPRINT });
        const result = await client.upload({ runId: 'r1', nodeId, chunks: chunksOf(space, 7), startAfterSeq: joined.lastRelativeSeq });
        expect(result.rowsStored).toBe(space.sampleIds.length);
        expect(result.lastSeq).toBe(Math.ceil(space.sampleIds.length / 7) - 1);
        const status = await client.finish('r1', nodeId);
        expect(status.finished).toBe(true);
      }),
    );
  });
  afterAll(async () => agg?.stop());

  it('serves the merged space equal to core meanOverSpaces of the trainers (1e-6), reference excluded', async () => {
    const merged = await agg.client().readMerged('r1', { maxRowsPerChunk: 13 });
    const expected = meanOverSpaces(
      [trainerA, trainerB].map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })),
    );
    expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
    expect(Array.from(merged.counts)).toEqual(Array.from(expected.counts));
    expect(merged.values.cols).toBe(WIDTH);
    let worst = 0;
    for (let i = 0; i < merged.values.data.length; i += 1) {
      worst = Math.max(worst, Math.abs((merged.values.data[i] as number) - (expected.values.data[i] as number)));
    }
    expect(worst).toBeLessThan(1e-6);
    expect(merged.labels[0]).toBe(0);
    expect(merged.labels[57]).toBe(7);
  });

  it('reads the merged rows of given ids, in the order asked, and NOT_FOUND for an id without contribution', async () => {
    const client = agg.client();
    const some = await client.readMerged('r1', { sampleIds: Uint32Array.of(79, 3, 100) });
    expect(Array.from(some.sampleIds)).toEqual([79n, 3n, 100n]);
    expect(Array.from(some.counts)).toEqual([2, 1, 1]);
    const b = trainerB.values;
    const expected100 = b.subarray((100 - 40) * WIDTH, (100 - 40 + 1) * WIDTH);
    expect(Array.from(some.values.data.subarray(2 * WIDTH))).toEqual(Array.from(expected100));
    await expect(client.readMerged('r1', { sampleIds: [205n] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reports CKA of the merged space and each trainer against the reference, equal to core linearCka on the shared samples', async () => {
    const result = await agg.client().evaluate('r1');
    expect(result.referenceNodeId).toBe('ref');
    expect(result.scores.map((s) => s.subject)).toEqual(['merged', 'a', 'b']);
    const expected = meanOverSpaces(
      [trainerA, trainerB].map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })),
    );
    const referenceRows = (ids: readonly number[]) => ({
      rows: ids.length,
      cols: WIDTH,
      data: Float32Array.from(ids.flatMap((id) => Array.from(reference.values.subarray(id * WIDTH, (id + 1) * WIDTH)))),
    });
    const mergedShared = range(0, 120);
    const x = { rows: 120, cols: WIDTH, data: expected.values.data.slice(0, 120 * WIDTH) };
    const y = referenceRows(mergedShared);
    const merged = result.scores[0];
    expect(merged?.n).toBe(120);
    expect(merged?.linearBiased).toBeCloseTo(linearCka(x, y), 9);
    expect(merged?.linearDebiased).toBeCloseTo(linearCka(x, y, { debiased: true }), 9);
    const a = result.scores[1];
    expect(a?.n).toBe(80);
    const xa = { rows: 80, cols: WIDTH, data: trainerA.values };
    expect(a?.linearBiased).toBeCloseTo(linearCka(xa, referenceRows(range(0, 80))), 9);
    expect(a?.linearDebiased).toBeCloseTo(linearCka(xa, referenceRows(range(0, 80)), { debiased: true }), 9);
  });

  it('reports the same CKA as `rlsa cka` on the merged and reference rows it serves', async () => {
    const client = agg.client();
    const referenceSpace = await client.readNodeSpace('r1', 'ref');
    const mergedIds = new Set((await client.readMerged('r1')).sampleIds);
    const keep = Array.from(referenceSpace.sampleIds.keys()).filter((i) => mergedIds.has(referenceSpace.sampleIds[i] as bigint));
    const merged = await client.readMerged('r1', { sampleIds: keep.map((i) => referenceSpace.sampleIds[i] as bigint) });
    const y = Float32Array.from(keep.flatMap((i) => Array.from(referenceSpace.values.data.subarray(i * WIDTH, (i + 1) * WIDTH))));
    const temp = tempDir();
    try {
      writeNpy(join(temp.dir, 'x.npy'), fromMatrix(merged.values));
      writeNpy(join(temp.dir, 'y.npy'), fromMatrix({ rows: keep.length, cols: WIDTH, data: y }));
      const cka = async (extra: string[]) => {
        const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'cka', ...extra, join(temp.dir, 'x.npy'), join(temp.dir, 'y.npy')], { cwd: REPO_ROOT });
        return JSON.parse(stdout) as { cka: number; n: number };
      };
      const [biased, debiased] = await Promise.all([cka([]), cka(['--debiased'])]);
      const score = (await client.evaluate('r1')).scores[0];
      expect(biased.n).toBe(score?.n);
      expect(score?.linearBiased).toBeCloseTo(biased.cka, 9);
      expect(score?.linearDebiased).toBeCloseTo(debiased.cka, 9);
    } finally {
      temp.remove();
    }
  });

  it('finds nearest neighbours by cosine in the merged space', async () => {
    const client = agg.client();
    const expected = meanOverSpaces(
      [trainerA, trainerB].map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })),
    );
    const row = (i: number) => Array.from(expected.values.data.subarray(i * WIDTH, (i + 1) * WIDTH));
    const brute = range(0, 120)
      .filter((i) => i !== 50)
      .map((i) => ({ sampleId: i, similarity: cosine(row(50), row(i)) }))
      .sort((p, q) => q.similarity - p.similarity)
      .slice(0, 5);
    const byId = await client.nearest('r1', { sampleId: 50 }, 5);
    expect(byId.map((n) => n.sampleId)).toEqual(bigIds(brute.map((n) => n.sampleId)));
    byId.forEach((n, i) => expect(n.similarity).toBeCloseTo((brute[i] as { similarity: number }).similarity, 5));
    const byVector = await client.nearest('r1', { vector: row(50) }, 1);
    expect(byVector[0]?.sampleId).toBe(50n);
    expect(byVector[0]?.similarity).toBeCloseTo(1, 6);
  });

  it('reports the run status with per-node counts', async () => {
    const run = await agg.client().getRun('r1');
    expect(run.mergedSamples).toBe(120);
    expect(run.nodes.map((n) => [n.nodeId, n.role, n.relativeRows, n.finished])).toEqual(
      expect.arrayContaining([
        ['a', 'trainer', 80, true],
        ['b', 'trainer', 80, true],
        ['ref', 'reference', 130, true],
      ]),
    );
    expect((await agg.client().listRuns()).map((r) => r.config.runId)).toEqual(['r1']);
  });

  it('returns a node space to an admin (ReadNodeSpace)', async () => {
    const space = await agg.client().readNodeSpace('r1', 'b');
    expect(Array.from(space.sampleIds)).toEqual(bigIds(trainerB.sampleIds));
    expect(Array.from(space.values.data)).toEqual(Array.from(trainerB.values));
    expect(Array.from(space.labels)).toEqual(Array.from(trainerB.labels));
  });
});
