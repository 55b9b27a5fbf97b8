import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/auth.ts';
import { AggregatorError } from '../../src/errors.ts';
import { DEFAULT_LIMITS } from '../../src/limits.ts';
import { ReadPool } from '../../src/query/read-pool.ts';
import { RunReads } from '../../src/query/run-reads.ts';
import { coreWithData } from '../dashboard/helpers/core-with-data.ts';
import type { CoreWithData } from '../dashboard/helpers/core-with-data.ts';
import { randomValues, range } from '../helpers.ts';

const WIDTH = 6;
/** Payload bytes of a chunk of `rows` float32 rows. */
const chunkBytes = (rows: number): number => rows * WIDTH * 4;
/** An idle time no test waits for: the merge trails until a read needs it. */
const NEVER_IDLE = { idleMs: 600_000 };

/** The merged rows a read gives, by id: `{ values, count, label }`. */
async function readAll(data: CoreWithData): Promise<Map<number, { values: number[]; count: number; label: number }>> {
  const rows = new Map<number, { values: number[]; count: number; label: number }>();
  const order = await data.core.reads.sortedIds('r');
  for await (const batch of data.core.reads.merged('r', {}, 1000, order)) {
    for (let i = 0; i < batch.sampleIds.length; i += 1) {
      const values = Array.from(batch.values.subarray(i * WIDTH, (i + 1) * WIDTH));
      rows.set(Number(batch.sampleIds[i]), { values, count: batch.counts[i] as number, label: batch.labels[i] as number });
    }
  }
  return rows;
}

/**
 * The merged space computed here, independently of MergedSums: per id, the float64 sum of the
 * float32 rows in commit order, divided by the count and rounded to float32 (what the aggregator
 * promises: the same bits as a merge at each commit).
 */
function expectedMean(uploads: readonly { ids: readonly number[]; values: Float32Array }[]): Map<number, { values: number[]; count: number }> {
  const sums = new Map<number, { sum: number[]; count: number }>();
  for (const { ids, values } of uploads) {
    ids.forEach((id, row) => {
      const entry = sums.get(id) ?? { sum: new Array<number>(WIDTH).fill(0), count: 0 };
      for (let c = 0; c < WIDTH; c += 1) entry.sum[c] = (entry.sum[c] as number) + (values[row * WIDTH + c] as number);
      entry.count += 1;
      sums.set(id, entry);
    });
  }
  return new Map([...sums].map(([id, { sum, count }]) => [id, { values: sum.map((s) => Math.fround(s / count)), count }]));
}

/** Flips one byte in the middle of the last record of the run's newest segment file (its payload). */
function damageLastRecord(dataDir: string, lastRecordBytes: number): void {
  const dir = join(dataDir, 'segments', 'r');
  const newest = readdirSync(dir)
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0] as string;
  const bytes = readFileSync(newest);
  const at = bytes.length - Math.floor(lastRecordBytes / 2);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(newest, bytes);
}

describe('DeferredMerge: the merge trails the commits (real storage, writer thread and segment files)', () => {
  let data: CoreWithData | undefined;

  afterEach(async () => {
    await data?.close();
    data = undefined;
  });

  it('leaves committed chunks unmerged until a read needs them; the read then sees every one, bit for bit the mean in commit order', async () => {
    data = coreWithData(WIDTH, NEVER_IDLE);
    for (const node of ['t1', 't2', 't3']) data.join(node, 'trainer');
    data.join('ref', 'reference');
    const uploads = [
      { node: 't1', seq: 0, ids: range(0, 40), values: randomValues(40 * WIDTH, 1) },
      { node: 't2', seq: 0, ids: range(20, 60), values: randomValues(40 * WIDTH, 2) },
      { node: 't1', seq: 1, ids: range(40, 50), values: randomValues(10 * WIDTH, 3) },
      { node: 't3', seq: 0, ids: range(0, 60), values: randomValues(60 * WIDTH, 4) },
    ];
    for (const u of uploads) await data.upload(u.node, u.seq, u.ids, u.values);
    // The reference's rows are not merged, so they never wait.
    await data.upload('ref', 0, range(0, 60), randomValues(60 * WIDTH, 5));
    expect(data.core.merge.chunksBehind).toBe(uploads.length);
    expect(data.core.merge.bytesBehind).toBe(uploads.reduce((sum, u) => sum + chunkBytes(u.ids.length), 0));
    // Placed at the commit: counted for the quotas and the status before they are merged.
    expect(data.core.runs.status('r').mergedSamples).toBe(60);

    const read = await readAll(data);
    expect(data.core.merge.chunksBehind).toBe(0);
    const expected = expectedMean(uploads);
    expect([...read.keys()].sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const [id, want] of expected) {
      const got = read.get(id);
      expect(got?.values).toEqual(want.values);
      expect(got?.count).toBe(want.count);
      expect(got?.label).toBe(id % 10);
    }
  });

  it('catches up by itself once the ingest has been quiet for idleMs, with no read', async () => {
    data = coreWithData(WIDTH, { idleMs: 30 });
    data.join('t1', 'trainer');
    await data.upload('t1', 0, range(0, 30), randomValues(30 * WIDTH, 7));
    await data.upload('t1', 1, range(30, 60), randomValues(30 * WIDTH, 8));
    await vi.waitFor(() => expect(data?.core.merge.chunksBehind).toBe(0), { timeout: 5_000, interval: 10 });
    expect(data.core.merge.bytesBehind).toBe(0);
    // Visible to a read of the memory itself, which does not wait for the merge.
    expect(data.core.runs.run('r').merged.has(59, 0)).toBe(true);
  });

  it('keeps at most maxBehindBytes of payload behind: past it, a commit merges the oldest chunks at once', async () => {
    const bound = 2 * chunkBytes(25);
    data = coreWithData(WIDTH, { ...NEVER_IDLE, maxBehindBytes: bound });
    data.join('t1', 'trainer');
    const uploads = range(0, 6).map((seq) => ({ ids: range(seq * 25, seq * 25 + 25), values: randomValues(25 * WIDTH, 20 + seq) }));
    for (const [seq, u] of uploads.entries()) {
      await data.upload('t1', seq, u.ids, u.values);
      expect(data.core.merge.bytesBehind).toBeLessThanOrEqual(bound);
    }
    expect(data.core.merge.chunksBehind).toBe(2);
    // The four oldest are merged and visible without waiting; the two newest only after the read's catch-up.
    expect(data.core.runs.run('r').merged.has(99, 0)).toBe(true);
    expect(data.core.runs.run('r').merged.has(100, 0)).toBe(false);
    const read = await readAll(data);
    expect(read.size).toBe(150);
    for (const [id, want] of expectedMean(uploads)) expect(read.get(id)?.values).toEqual(want.values);
  });

  it('a chunk damaged on disk before its merge: its node is marked (DATA_LOSS from then on), its rows are left out, the others merged', async () => {
    data = coreWithData(WIDTH, NEVER_IDLE);
    data.join('t1', 'trainer');
    data.join('t2', 'trainer');
    const first = { ids: range(0, 20), values: randomValues(20 * WIDTH, 30) };
    await data.upload('t1', 0, first.ids, first.values);
    await data.upload('t2', 0, range(10, 30), randomValues(20 * WIDTH, 31));
    damageLastRecord(data.dataDir, chunkBytes(20));

    const read = await readAll(data);
    expect(data.core.damagedNodeCount()).toBe(1);
    // Samples 20..29 were only in the damaged chunk: placed, never merged, so not readable.
    expect([...read.keys()].sort((a, b) => a - b)).toEqual(range(0, 20));
    for (const [id, want] of expectedMean([first])) expect(read.get(id)).toEqual({ ...want, label: id % 10 });
    const refusal = await data.upload('t2', 1, range(30, 31), randomValues(WIDTH, 32)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AggregatorError);
    expect((refusal as AggregatorError).code).toBe('data_loss');
  });

  it('a chunk committed while a read waits for the merge: the read answers without it, and the next reads are not served from a cache of that answer', async () => {
    data = coreWithData(WIDTH, NEVER_IDLE);
    const core = data.core;
    data.join('t1', 'trainer');
    data.join('t2', 'trainer');
    data.join('ref', 'reference');
    await data.upload('ref', 0, range(0, 40), randomValues(40 * WIDTH, 50));
    const first = { ids: range(0, 20), values: randomValues(20 * WIDTH, 51) };
    await data.upload('t1', 0, first.ids, first.values);
    // Reads whose wait for the merge ends only once t2's chunk is committed (and not merged): the
    // state a read sees when a commit lands while it waits.
    let committed: () => void = () => undefined;
    const t2Committed = new Promise<void>((resolve) => (committed = resolve));
    const gated = { caughtUp: async (run: Parameters<typeof core.merge.caughtUp>[0]) => Promise.all([core.merge.caughtUp(run), t2Committed]).then(() => undefined) };
    const pool = new ReadPool(DEFAULT_LIMITS, { mark: () => undefined });
    try {
      const reads = new RunReads(core.runs, data.dataDir, pool, undefined, gated);
      const idsWhileWaiting = reads.sortedIds('r');
      const evaluationWhileWaiting = reads.evaluate('r');
      await data.upload('t2', 0, range(20, 40), randomValues(20 * WIDTH, 52));
      committed();
      expect(Array.from(await idsWhileWaiting, Number)).toEqual(range(0, 20));
      const before = await evaluationWhileWaiting;
      expect(core.merge.chunksBehind).toBe(1);
      // The same reads again, once t2's chunk is merged: all 40 samples, and the CKA of a fresh computation.
      const ids = await reads.sortedIds('r');
      expect(core.merge.chunksBehind).toBe(0);
      expect(Array.from(ids, Number)).toEqual(range(0, 40));
      const after = await reads.evaluate('r');
      const fresh = await new RunReads(core.runs, data.dataDir, pool).evaluate('r');
      expect(after).toEqual(fresh);
      expect(after).not.toEqual(before);
    } finally {
      await pool.close();
    }
  });

  it("drops a deleted run's chunks from the backlog: nothing is read back from its removed files, no damage is found", async () => {
    data = coreWithData(WIDTH, NEVER_IDLE);
    data.join('t1', 'trainer');
    await data.upload('t1', 0, range(0, 20), randomValues(20 * WIDTH, 40));
    const run = data.core.runs.run('r');
    expect(data.core.merge.chunksBehind).toBe(1);
    const admin: Principal = { subject: 'operator', grants: [], anonymous: true };
    await data.core.lifecycle.delete('r', true, admin);
    await data.core.merge.caughtUp(run);
    expect(data.core.merge.chunksBehind).toBe(0);
    expect(data.core.damagedNodeCount()).toBe(0);
  });
});
