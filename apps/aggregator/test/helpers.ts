import { createAggregatorClient } from '@rlsa/client';
import type { AggregatorClient, AggregatorClientOptions, AnchorsInput, RunConfigView, UploadChunkInput } from '@rlsa/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAggregator } from '../src/index.ts';
import type { AggregatorHandle, AggregatorOptions } from '../src/index.ts';

export const FINGERPRINT = 'a'.repeat(64);

/** The built-in data set the test runs name (the aggregator only stores the name). */
export const TEST_DATASET = 'synthetic';

/** A run's anchors as samples of the test data set (rlsa.v2 BuiltinAnchors). */
export function builtinAnchors(sampleIds: readonly number[], fingerprint = FINGERPRINT): AnchorsInput {
  return { kind: 'builtin', dataset: TEST_DATASET, sampleIds: sampleIds.map(BigInt), fingerprint };
}

/** A whole run config (what storage records) of built-in anchors `anchorIds`, cosine, everything else default. */
export function testRunConfig(runId: string, anchorIds: readonly number[], extra: Partial<RunConfigView> = {}): RunConfigView {
  return {
    runId,
    anchors: { kind: 'builtin', dataset: TEST_DATASET, sampleIds: anchorIds.map(BigInt), fingerprint: FINGERPRINT },
    similarity: 'cosine',
    acceptedEncodings: [],
    center: false,
    allowAbsolute: false,
    nodeRead: 'merged',
    quotas: { maxSamples: 0, maxBytes: 0, maxNodeSamples: 0, maxNodeBytes: 0 },
    ...extra,
  };
}

/** A wire id column (little-endian uint64 bytes) of `ids`, for hand-made messages. */
export function idColumn(ids: readonly (number | bigint)[]): Uint8Array {
  return new Uint8Array(BigUint64Array.from(ids, (id) => BigInt(id)).buffer);
}

/** Ids as bigints, to compare with the 64-bit ids the aggregator answers with. */
export function bigIds(ids: Iterable<number>): bigint[] {
  return Array.from(ids, BigInt);
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'rlsa-aggregator-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestAggregator {
  handle: AggregatorHandle;
  address: string;
  dataDir: string;
  client(options?: Partial<AggregatorClientOptions>): AggregatorClient;
  stop(): Promise<void>;
}

/** Starts an in-process aggregator on a free loopback port with a silent logger. */
export async function startTestAggregator(options: Partial<AggregatorOptions> & { dataDir?: string } = {}): Promise<TestAggregator> {
  const temp = options.dataDir === undefined ? tempDir() : undefined;
  const dataDir = options.dataDir ?? (temp as { dir: string }).dir;
  const handle = await startAggregator({ port: 0, logger: pino({ level: 'silent' }), ...options, dataDir });
  const address = `127.0.0.1:${handle.port}`;
  const clients: AggregatorClient[] = [];
  return {
    handle,
    address,
    dataDir,
    client(clientOptions = {}) {
      const client = createAggregatorClient({ address, ...clientOptions });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.close();
      await handle.shutdown(2000);
      temp?.remove();
    },
  };
}

/** Deterministic pseudo-random values in [-1, 1) (an LCG; the tests need reproducibility, not quality). */
export function randomValues(count: number, seed: number): Float32Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 - 1;
  }
  return out;
}

export interface TestSpace {
  sampleIds: Uint32Array;
  values: Float32Array;
  labels: Int32Array;
  width: number;
}

export function testSpace(sampleIds: readonly number[], width: number, seed: number): TestSpace {
  return {
    sampleIds: Uint32Array.from(sampleIds),
    values: randomValues(sampleIds.length * width, seed),
    labels: Int32Array.from(sampleIds, (id) => id % 10),
    width,
  };
}

/** Splits a space into upload chunks of `rows` rows. */
export function chunksOf(space: TestSpace, rows: number): UploadChunkInput[] {
  const chunks: UploadChunkInput[] = [];
  for (let start = 0; start < space.sampleIds.length; start += rows) {
    const end = Math.min(space.sampleIds.length, start + rows);
    chunks.push({
      sampleIds: space.sampleIds.subarray(start, end),
      values: { rows: end - start, cols: space.width, data: space.values.subarray(start * space.width, end * space.width) },
      labels: space.labels.subarray(start, end),
    });
  }
  return chunks;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Cosine similarity of two vectors, in float64: the reference the nearest-neighbour specs compare with. */
export function cosine(p: readonly number[], q: readonly number[]): number {
  let dot = 0;
  let np = 0;
  let nq = 0;
  p.forEach((v, i) => {
    dot += v * (q[i] as number);
    np += v * v;
    nq += (q[i] as number) ** 2;
  });
  return dot / Math.sqrt(np * nq);
}
