import type { AggregatorClient, SpaceRows, UploadChunkInput } from '@rlsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, builtinAnchors, cosine, randomValues, range, startTestAggregator } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';

const WIDTH = 6;
/**
 * 64-bit ids where a double would lose them: 2⁵³ + 1 and 2⁵³ + 2 are distinct ids but the same
 * double (as are 2⁶⁴ − 1 and 2⁶⁴ − 2); ids that differ only in their high word; content-id-like ones.
 */
const WIDE = [2n ** 64n - 1n, 2n ** 64n - 2n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 53n + 2n, 2n ** 32n + 7n, 7n, 0n, 0x9e3779b97f4a7c15n, 0xd1b54a32d192ed03n];
const A_IDS = [...WIDE.slice(0, 7), ...range(100, 110).map(BigInt)];
const B_IDS = [...WIDE.slice(3), ...range(105, 115).map(BigInt)];
const REFERENCE_IDS = [...WIDE, ...range(100, 120).map(BigInt)];

interface Space {
  ids: BigUint64Array;
  values: Float32Array;
}

const space = (ids: readonly bigint[], seed: number): Space => ({ ids: BigUint64Array.from(ids), values: randomValues(ids.length * WIDTH, seed) });
const trainerA = space(A_IDS, 11);
const trainerB = space(B_IDS, 12);
const reference = space(REFERENCE_IDS, 13);

function chunksOf({ ids, values }: Space, rows: number): UploadChunkInput[] {
  const chunks: UploadChunkInput[] = [];
  for (let start = 0; start < ids.length; start += rows) {
    const end = Math.min(ids.length, start + rows);
    chunks.push({ sampleIds: ids.subarray(start, end), values: { rows: end - start, cols: WIDTH, data: values.subarray(start * WIDTH, end * WIDTH) } });
  }
  return chunks;
}

/** The mean over the trainers per id, in float64, keyed by bigint: the reference computation, independent of the aggregator's index. */
function expectedMerged(): Map<bigint, { mean: number[]; count: number }> {
  const sums = new Map<bigint, { sum: number[]; count: number }>();
  for (const { ids, values } of [trainerA, trainerB]) {
    ids.forEach((id, r) => {
      const entry = sums.get(id) ?? { sum: new Array<number>(WIDTH).fill(0), count: 0 };
      for (let c = 0; c < WIDTH; c += 1) entry.sum[c] = (entry.sum[c] as number) + (values[r * WIDTH + c] as number);
      entry.count += 1;
      sums.set(id, entry);
    });
  }
  return new Map([...sums].map(([id, { sum, count }]) => [id, { mean: sum.map((v) => v / count), count }]));
}

function rowOf(rows: SpaceRows, i: number): number[] {
  return Array.from(rows.values.data.subarray(i * WIDTH, (i + 1) * WIDTH));
}

describe('64-bit sample ids above 2^53, end to end on real gRPC', () => {
  let agg: TestAggregator;
  let client: AggregatorClient;
  const expected = expectedMerged();
  const ascending = [...expected.keys()].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));

  beforeAll(async () => {
    agg = await startTestAggregator();
    client = agg.client();
    await client.createRun({ runId: 'wide', anchors: builtinAnchors(range(0, WIDTH)) });
    for (const [nodeId, role, data] of [['a', 'trainer', trainerA], ['b', 'trainer', trainerB], ['ref', 'reference', reference]] as const) {
      await client.join({ runId: 'wide', nodeId, role, model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
      const uploaded = await client.upload({ runId: 'wide', nodeId, chunks: chunksOf(data, 4) });
      expect(uploaded.rowsStored).toBe(data.ids.length);
    }
  });
  afterAll(async () => agg?.stop());

  it('ReadMerged gives every id exactly, ascending, with the mean of its trainers', async () => {
    const merged = await client.readMerged('wide', { maxRowsPerChunk: 5 });
    expect(Array.from(merged.sampleIds)).toEqual(ascending);
    ascending.forEach((id, i) => {
      const { mean, count } = expected.get(id) as { mean: number[]; count: number };
      expect(merged.counts[i]).toBe(count);
      rowOf(merged, i).forEach((v, c) => expect(Math.abs(v - (mean[c] as number))).toBeLessThan(1e-6));
    });
    // 2^53 + 1 and 2^53 + 2 are two samples, not one: A has both, B has both.
    expect(merged.counts[ascending.indexOf(2n ** 53n + 1n)]).toBe(2);
  });

  it('ReadMerged of given ids answers in the order asked; an id only a double away from a stored one is NOT_FOUND', async () => {
    const asked = [2n ** 53n + 2n, 2n ** 64n - 1n, 2n ** 53n + 1n, 7n];
    const some = await client.readMerged('wide', { sampleIds: asked });
    expect(Array.from(some.sampleIds)).toEqual(asked);
    asked.forEach((id, i) => expect(rowOf(some, i)).toEqual(rowOf(some, i).map((_, c) => Math.fround((expected.get(id)?.mean[c] as number) ?? Number.NaN))));
    await expect(client.readMerged('wide', { sampleIds: [2n ** 53n] })).rejects.toMatchObject({ code: 'NOT_FOUND', details: expect.stringContaining('9007199254740992') });
    await expect(client.readMerged('wide', { sampleIds: [2n ** 64n - 3n] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('ReadMerged resumes after a cursor id: the samples after it, ascending (and none after the largest)', async () => {
    for (const after of [0n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 2n]) {
      const tail = await client.readMerged('wide', { afterSampleId: after });
      expect(Array.from(tail.sampleIds)).toEqual(ascending.filter((id) => id > after));
    }
    expect((await client.readMerged('wide', { afterSampleId: 2n ** 64n - 1n })).sampleIds.length).toBe(0);
    await expect(client.readMerged('wide', { afterSampleId: 5n, sampleIds: [7n] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('ReadNodeSpace gives a node its own ids exactly, in upload order', async () => {
    const b = await client.readNodeSpace('wide', 'b');
    expect(Array.from(b.sampleIds)).toEqual(B_IDS);
    expect(Array.from(b.values.data)).toEqual(Array.from(trainerB.values));
  });

  it('Nearest takes and gives 64-bit ids: by a sample above 2^53 (left out of its own answer) and by a vector', async () => {
    const query = 2n ** 53n + 1n;
    const meanOf = (id: bigint): number[] => (expected.get(id) as { mean: number[] }).mean.map(Math.fround);
    const brute = ascending
      .filter((id) => id !== query)
      .map((id) => ({ id, similarity: cosine(meanOf(query), meanOf(id)) }))
      .sort((p, q) => q.similarity - p.similarity)
      .slice(0, 4);
    const byId = await client.nearest('wide', { sampleId: query }, 4);
    expect(byId.map((n) => n.sampleId)).toEqual(brute.map((n) => n.id));
    const byVector = await client.nearest('wide', { vector: meanOf(2n ** 53n + 2n) }, 1);
    expect(byVector[0]?.sampleId).toBe(2n ** 53n + 2n);
    expect(byVector[0]?.similarity).toBeCloseTo(1, 6);
  });

  it('Evaluate aligns the reference with the trainers by 64-bit id', async () => {
    const result = await client.evaluate('wide');
    expect(result.scores.map((s) => [s.subject, s.n])).toEqual([
      ['merged', expected.size],
      ['a', A_IDS.length],
      ['b', B_IDS.length],
    ]);
  });

  it('the restarted aggregator rebuilds the same merged space from storage (ids and values bit for bit)', async () => {
    const before = await client.readMerged('wide');
    const dataDir = agg.dataDir;
    await agg.handle.shutdown(2000);
    const again = await startTestAggregator({ dataDir });
    try {
      const after = await again.client().readMerged('wide');
      expect(Array.from(after.sampleIds)).toEqual(Array.from(before.sampleIds));
      expect(Array.from(after.values.data)).toEqual(Array.from(before.values.data));
      expect(Array.from(after.counts)).toEqual(Array.from(before.counts));
      const b = await again.client().readNodeSpace('wide', 'b');
      expect(Array.from(b.sampleIds)).toEqual(B_IDS);
    } finally {
      await again.stop();
    }
  });
});
