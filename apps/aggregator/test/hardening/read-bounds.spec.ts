import { create, toBinary } from '@bufbuild/protobuf';
import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { AggregatorService, ReadMergedRequestSchema, grpcServiceDefinition } from '@rlsa/proto';
import type { MergedChunk, RunStatus } from '@rlsa/proto';
import { meanOverSpaces } from '@rlsa/core';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, MAX_READ_IDS } from '../../src/query/row-batches.ts';
import { WATCH_INTERVAL_MS } from '../../src/services/watch-slots.ts';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestAggregator } from '../helpers.ts';

/**
 * Bounded reads (issue 13 item 4): ReadMerged messages at most MAX_BATCH_BYTES of values whatever
 * row count is asked, a read naming too many ids or an id twice refused (an answer is never more
 * than a bounded multiple of its request), reads past the thread pool's queue RESOURCE_EXHAUSTED,
 * watchers bounded and coalesced (500 of them do not slow an upload down).
 */
const RUN = 'reads';

type RawClient = Client & Record<string, (...args: unknown[]) => unknown>;

function rawClient(address: string): RawClient {
  const Ctor = makeGenericClientConstructor(grpcServiceDefinition(AggregatorService), 'AggregatorService');
  return new Ctor(address, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as unknown as RawClient;
}

/** Every message of a ReadMerged, or its error. */
function readAll(client: RawClient, request: Parameters<typeof create<typeof ReadMergedRequestSchema>>[1]): Promise<{ chunks: MergedChunk[]; error?: ServiceError }> {
  const stream = (client['readMerged'] as (r: unknown, m: Metadata) => ClientReadableStream<MergedChunk>)(create(ReadMergedRequestSchema, request), new Metadata());
  const chunks: MergedChunk[] = [];
  return new Promise((resolve) => {
    stream.on('data', (chunk: MergedChunk) => chunks.push(chunk));
    stream.on('error', (error: ServiceError) => resolve({ chunks, error }));
    stream.on('end', () => resolve({ chunks }));
  });
}

async function runWithTrainer(agg: TestAggregator, width: number, rows: number): Promise<ReturnType<typeof testSpace>> {
  const client = agg.client();
  await client.createRun({ runId: RUN, anchors: builtinAnchors(range(0, width)) });
  await client.join({ runId: RUN, nodeId: 't1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: width }, anchorFingerprint: FINGERPRINT, relativeWidth: width });
  const space = testSpace(range(0, rows), width, 7);
  await client.upload({ runId: RUN, nodeId: 't1', chunks: chunksOf(space, 5_000) });
  return space;
}

describe('bounded reads', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('ReadMerged: messages of at most 4 MiB of values whatever max_rows_per_chunk says; too many ids, or an id twice, INVALID_ARGUMENT', async () => {
    const width = 256;
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'merged') });
    const raw = rawClient(agg.address);
    try {
      const space = await runWithTrainer(agg, width, 20_000);
      const all = await readAll(raw, { runId: RUN, maxRowsPerChunk: 65_536 });
      expect(all.error).toBeUndefined();
      const rowsPerMessage = MAX_BATCH_BYTES / (width * 4);
      expect(all.chunks.map((c) => c.values?.rows)).toEqual([rowsPerMessage, rowsPerMessage, rowsPerMessage, rowsPerMessage, 20_000 - 4 * rowsPerMessage]);
      for (const chunk of all.chunks) expect(chunk.values?.data.byteLength).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      // Every value as uploaded (one trainer: the merged row is its row), in id order.
      const expected = meanOverSpaces([{ sampleIds: space.sampleIds, values: { rows: 20_000, cols: width, data: space.values } }]);
      const values = new Float32Array(20_000 * width);
      let at = 0;
      for (const chunk of all.chunks) {
        const data = chunk.values?.data as Uint8Array;
        values.set(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)), at);
        at += data.byteLength / 4;
      }
      expect(Array.from(values)).toEqual(Array.from(expected.values.data));

      // One id a million times: an 8 MB request would have been a 1 GB answer.
      const repeated = await readAll(raw, { runId: RUN, sampleIds: new Array<bigint>(1_000_000).fill(5n) });
      expect(repeated.error?.code).toBe(3);
      expect(repeated.error?.details).toContain(`a read names 1000000 sample ids; at most ${MAX_READ_IDS}`);
      const twice = await readAll(raw, { runId: RUN, sampleIds: [5n, 6n, 5n] });
      expect(twice.error?.details).toContain('sample id 5 is named twice in the read');
      expect(twice.chunks).toHaveLength(0);
      const byIds = await agg.client().readMerged(RUN, { sampleIds: bigIds([7, 3]) });
      expect(Array.from(byIds.sampleIds)).toEqual([7n, 3n]);
      expect(toBinary(ReadMergedRequestSchema, create(ReadMergedRequestSchema, { runId: RUN, sampleIds: new Array<bigint>(MAX_READ_IDS).fill(1n) })).byteLength).toBeLessThan(200_000);
    } finally {
      raw.close();
      await agg.stop();
    }
  }, 120_000);

  it('reads past the read threads and their queue are RESOURCE_EXHAUSTED at once; the others answer', async () => {
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'queue'), limits: { readThreads: 1, readQueue: 2 } });
    try {
      await runWithTrainer(agg, 64, 30_000);
      const client = agg.client();
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          client.nearest(RUN, { sampleId: BigInt(i) }, 1_000).then(
            (neighbors) => ({ ok: neighbors.length }),
            (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
          ),
        ),
      );
      const refused = outcomes.filter((o) => 'code' in o);
      const answered = outcomes.filter((o) => 'ok' in o);
      expect(answered.length).toBeGreaterThanOrEqual(3);
      expect(refused.length).toBeGreaterThan(0);
      for (const o of refused) expect(o).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('reads are waiting for a read thread') });
      for (const o of answered) expect(o).toEqual({ ok: 1_000 });
    } finally {
      await agg.stop();
    }
  }, 120_000);

  it('watchers: at most one status per interval each, the latest state last; over the bound RESOURCE_EXHAUSTED; 500 of them do not slow an upload', async () => {
    const width = 32;
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'watch'), limits: { maxWatchers: 500, maxStreamsPerConnection: 1_000, maxCallsPerPrincipal: 1_000 } });
    const raw = rawClient(agg.address);
    const streams: ClientReadableStream<RunStatus>[] = [];
    try {
      const client = agg.client();
      await client.createRun({ runId: RUN, anchors: builtinAnchors(range(0, width)) });
      const model = { architecture: 'mlp', embeddingWidth: width };
      for (const nodeId of ['warm', 'quiet', 'watched']) await client.join({ runId: RUN, nodeId, role: 'trainer', model, anchorFingerprint: FINGERPRINT, relativeWidth: width });
      const upload = async (nodeId: string, first: number): Promise<number> => {
        const started = performance.now();
        await client.upload({ runId: RUN, nodeId, chunks: chunksOf(testSpace(range(first, first + 40_000), width, first + 1), 100) });
        return performance.now() - started;
      };
      await upload('warm', 200_000);
      const quietMs = await upload('quiet', 0);

      const received: { at: number; rows: number }[][] = [];
      for (let i = 0; i < 500; i += 1) {
        const stream = (raw['watchRun'] as (r: unknown, m: Metadata) => ClientReadableStream<RunStatus>)({ runId: RUN }, new Metadata());
        const log: { at: number; rows: number }[] = [];
        stream.on('data', (status: RunStatus) => log.push({ at: performance.now(), rows: Number(status.nodes.find((n) => n.nodeId === 'watched')?.relativeRows ?? 0n) }));
        stream.on('error', () => {});
        streams.push(stream);
        received.push(log);
      }
      while (received.some((log) => log.length === 0)) await new Promise((resolve) => setTimeout(resolve, 50));
      const over = (raw['watchRun'] as (r: unknown, m: Metadata) => ClientReadableStream<RunStatus>)({ runId: RUN }, new Metadata());
      const overError = await new Promise<ServiceError>((resolve) => over.on('error', resolve));
      expect(overError.code).toBe(8);

      for (const log of received) log.length = 0;
      const watchedMs = await upload('watched', 100_000);
      await new Promise((resolve) => setTimeout(resolve, 3 * WATCH_INTERVAL_MS));
      console.log(`400 chunks: ${quietMs.toFixed(0)} ms without watchers, ${watchedMs.toFixed(0)} ms with 500; statuses per watcher: ${Math.min(...received.map((l) => l.length))}..${Math.max(...received.map((l) => l.length))}`);
      expect(watchedMs).toBeLessThan(3 * quietMs + 2_000);
      for (const log of received) {
        // The last status each watcher got is the final state.
        expect((log[log.length - 1] as { rows: number }).rows).toBe(40_000);
        // At most one per interval: over the upload and the wait after it, a status at the start and one per interval.
        expect(log.length).toBeLessThanOrEqual(2 + Math.ceil((watchedMs + 3 * WATCH_INTERVAL_MS + 1_000) / WATCH_INTERVAL_MS));
      }
    } finally {
      for (const stream of streams) stream.cancel();
      raw.close();
      await agg.stop();
    }
  }, 180_000);
});
