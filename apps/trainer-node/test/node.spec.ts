import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregatorClient, float16ErrorBound, int8ErrorBound, type AggregatorClient } from '@rlsa/client';
import { encodeAnchorSet } from '@rlsa/sources';
import type { NodeRoleName } from '@rlsa/core';
import { anchorFingerprint, anchorPoolIds, nodeSamples, sampleIds, syntheticDataset, taskPartitions } from '@rlsa/data';
import { runTrainerNode, silentProgress, TrainerError, type TrainerNodeOptions } from '../src/index.ts';
import { startAggregatorProcess, startProxy, type AggregatorProcess, type CuttableProxy } from './helpers.ts';

// One data set object for the whole file: the nodes and the run agree on it.
const data = syntheticDataset({ seed: 9, trainCount: 1800, testCount: 300 });
const anchorIds = Array.from(anchorPoolIds(data).subarray(0, 32));
const fingerprint = anchorFingerprint(data, anchorIds);
/** The run's anchors: samples of the built-in data set, by id (rlsa.v2 BuiltinAnchors). */
const anchors = { kind: 'builtin' as const, dataset: data.name, sampleIds: anchorIds.map(BigInt), fingerprint };
const logger = pino({ level: 'silent' });

let dir: string;
let aggregator: AggregatorProcess;
let proxy: CuttableProxy;
let admin: AggregatorClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlsa-trainer-'));
  aggregator = await startAggregatorProcess(join(dir, 'agg'));
  proxy = await startProxy(aggregator.port);
  admin = createAggregatorClient({ address: `127.0.0.1:${aggregator.port}` });
});

afterAll(async () => {
  admin?.close();
  await proxy?.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What the specs below change from one run to the next. */
interface Overrides {
  readonly role?: TrainerNodeOptions['node']['role'];
  readonly task?: number;
  readonly testSplit?: TrainerNodeOptions['partition']['testSplit'];
  readonly epochs?: number;
  readonly encoding?: TrainerNodeOptions['upload']['encoding'];
  readonly chunkRows?: number;
  readonly uploadAbsolute?: boolean;
  readonly onAck?: TrainerNodeOptions['upload']['onAck'];
  readonly signal?: AbortSignal;
  readonly progress?: TrainerNodeOptions['progress'];
}

function options(runId: string, nodeId: string, extra: Overrides = {}): TrainerNodeOptions {
  return {
    node: { run: runId, nodeId, role: extra.role ?? 'trainer', task: extra.task ?? 0 },
    data: { dataset: 'synthetic', loaded: data },
    partition: { scenario: 'shared-classes', tasks: 2, seed: 42, testSplit: extra.testSplit ?? 'classes' },
    training: { model: 'mlp-narrow', epochs: extra.epochs ?? 2, batchSize: 64, patience: 3, validationFraction: 0.1, learningRate: 1e-3, backend: 'auto' },
    upload: {
      encoding: extra.encoding ?? 'float32',
      uploadAbsolute: extra.uploadAbsolute ?? false,
      chunkRows: extra.chunkRows ?? 40,
      retry: { attempts: 6, initialDelayMs: 50, maxDelayMs: 400 },
      onAck: extra.onAck,
      signal: extra.signal,
    },
    connection: { address: `127.0.0.1:${proxy.port}` },
    progress: extra.progress ?? silentProgress,
  };
}

/** The ids a node must upload: its task's training samples, then the test samples of its classes. */
function expectedIds(role: NodeRoleName, task?: number): number[] {
  const partitions = taskPartitions(data, { scenario: 'shared-classes', tasks: 2, seed: 42, excluded: anchorPoolIds(data) });
  const s = nodeSamples(data, partitions, { role, ...(task !== undefined ? { task } : {}), seed: 42 });
  return [...sampleIds('train', s.trainIndices), ...sampleIds('test', s.testIndices)];
}

describe('a trainer node against a real aggregator over loopback', () => {
  it('uploads its relative space in chunks and survives a connection cut mid-upload (the client reconnects under the node policy)', async () => {
    const runId = 'cut';
    await admin.createRun({ runId, anchors, similarity: 'cosine' });
    let cutAt: number | undefined;
    const cutsBefore = proxy.cuts;
    const result = await runTrainerNode(
      options(runId, 'node-0', {
        onAck: (_space, seq) => {
          if (seq === 3 && cutAt === undefined) {
            cutAt = seq;
            proxy.cut();
          }
        },
      }),
      logger,
    );
    const ids = expectedIds('trainer', 0);
    expect(cutAt).toBe(3);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    const up = result.upload!.relative;
    expect(up.rows).toBe(ids.length);
    expect(up.chunks).toBe(Math.ceil(ids.length / 40));
    expect(up.lastSeq).toBe(up.chunks - 1);
    expect(up.reconnects).toBeGreaterThanOrEqual(1);
    expect(result.upload!.absolute).toBeUndefined();
    expect(result.taskAccuracy).toBeGreaterThan(0.5);

    const status = await admin.getRun(runId);
    const node = status.nodes.find((n) => n.nodeId === 'node-0')!;
    expect(node.finished).toBe(true);
    expect(node.relativeRows).toBe(ids.length);
    expect(node.absoluteRows).toBe(0);
    expect(node.model?.architecture).toBe('mlp-narrow');
    expect(node.model?.taskAccuracy).toBeCloseTo(result.taskAccuracy!, 12);

    const space = await admin.readNodeSpace(runId, 'node-0', 'relative');
    // The node's 32-bit built-in ids, uploaded (and read back) as 64-bit ids.
    expect(Array.from(space.sampleIds)).toEqual([...ids].sort((a, b) => a - b).map(BigInt));
    expect(space.values.cols).toBe(32);
    // Cosine similarities, and the labels the node sent.
    expect(Array.from(space.values.data).every((v) => v >= -1.0001 && v <= 1.0001)).toBe(true);
    const labelOf = (id: bigint) => (id >= 1_000_000n ? data.test.labels[Number(id) - 1_000_000]! : data.train.labels[Number(id)]!);
    expect(Array.from(space.labels)).toEqual(Array.from(space.sampleIds, labelOf));
  });

  it('resumes after the last chunk Join reports acknowledged, and uploads absolute rows only when asked', async () => {
    await admin.createRun({ runId: 'resume', anchors, allowAbsolute: true });
    // First attempt: the node stops after chunk 4 is acknowledged (as if it crashed).
    const stop = new AbortController();
    await expect(
      runTrainerNode(
        options('resume', 'reference', {
          role: 'reference',
          signal: stop.signal,
          onAck: (_space, seq) => {
            if (seq === 4) stop.abort();
          },
        }),
        logger,
      ),
    ).rejects.toThrow();
    const before = (await admin.getRun('resume')).nodes.find((n) => n.nodeId === 'reference')!;
    expect(before.finished).toBe(false);
    expect(before.relativeChunks).toBeGreaterThanOrEqual(5);
    // Second run of the same node (same seed: the same model and rows): it resumes after Join's seq.
    const result = await runTrainerNode(options('resume', 'reference', { role: 'reference', uploadAbsolute: true }), logger);
    const ids = expectedIds('reference');
    expect(result.upload!.relative.resumedAfterSeq).toBeGreaterThanOrEqual(4);
    expect(result.upload!.relative.rows).toBe(ids.length);
    expect(result.upload!.absolute!.rows).toBe(ids.length);
    const after = (await admin.getRun('resume')).nodes.find((n) => n.nodeId === 'reference')!;
    expect(after.finished).toBe(true);
    expect(after.relativeRows).toBe(ids.length);
    expect(after.absoluteRows).toBe(ids.length);
    const absolute = await admin.readNodeSpace('resume', 'reference', 'absolute');
    expect(absolute.values.cols).toBe(64);
  });

  it('refuses, before training, a run whose anchors hash differently on its data', async () => {
    const other = syntheticDataset({ seed: 10, trainCount: 1800, testCount: 300 });
    await admin.createRun({ runId: 'other-data', anchors: { ...anchors, fingerprint: anchorFingerprint(other, anchorIds) } });
    const phases: string[] = [];
    const progress = { start: (phase: string) => phases.push(phase), update: () => undefined, stop: () => undefined };
    const error = await runTrainerNode(options('other-data', 'node-1', { progress }), logger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).code).toBe('failed_precondition');
    expect((error as Error).message).toMatch(/hash to .* the run expects/);
    // It never started training.
    expect(phases).toEqual([]);
    expect((await admin.getRun('other-data')).nodes).toEqual([]);
  });

  it('refuses, before training, a run whose anchors are an uploaded anchor set (this node reads built-in data sets only)', async () => {
    const encoded = encodeAnchorSet({ kind: 'array', shape: { kind: 'features', width: 8 }, values: new Float32Array(4 * 8).fill(0.5) });
    const setFingerprint = createHash('sha256').update(encoded).digest('hex');
    const summary = { size: encoded.length, count: 4, kind: 'array' as const, shape: [8], dtype: 'float32' as const, hasLabels: false, hasNames: false };
    await admin.uploadAnchorSet({ fingerprint: setFingerprint, summary, bytes: encoded });
    await admin.createRun({ runId: 'anchor-set', anchors: { kind: 'anchor-set', fingerprint: setFingerprint, summary } });
    const phases: string[] = [];
    const progress = { start: (phase: string) => phases.push(phase), update: () => undefined, stop: () => undefined };
    const error = await runTrainerNode(options('anchor-set', 'node-1', { progress }), logger).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(/uploaded anchor set \(array, 4 anchors\): this node reads the built-in data sets only/) });
    expect(phases).toEqual([]);
    expect((await admin.getRun('anchor-set')).nodes).toEqual([]);
  });

  it('int8 and float16 payloads carry the same rows as float32 within their error bounds', async () => {
    const spaces = new Map<string, Float32Array>();
    for (const encoding of ['float32', 'int8', 'float16'] as const) {
      const runId = `enc-${encoding}`;
      await admin.createRun({ runId, anchors });
      // The same seed and data: the same model and relative rows; only the payload differs.
      const result = await runTrainerNode(options(runId, 'node-1', { task: 1, encoding, chunkRows: 500 }), logger);
      expect(result.encoding).toBe(encoding);
      spaces.set(encoding, (await admin.readNodeSpace(runId, 'node-1', 'relative')).values.data);
    }
    const exact = spaces.get('float32')!;
    const cols = anchorIds.length;
    for (let row = 0; row < exact.length / cols; row++) {
      let maxAbs = 0;
      for (let j = 0; j < cols; j++) maxAbs = Math.max(maxAbs, Math.abs(exact[row * cols + j]!));
      for (let j = 0; j < cols; j++) {
        const k = row * cols + j;
        expect(Math.abs(spaces.get('int8')![k]! - exact[k]!)).toBeLessThanOrEqual(int8ErrorBound(maxAbs) + 1e-6);
        expect(Math.abs(spaces.get('float16')![k]! - exact[k]!)).toBeLessThanOrEqual(float16ErrorBound(exact[k]!) + 1e-6);
      }
    }
    expect(spaces.get('int8')).not.toEqual(exact);
  });

  it("with testSplit 'partition' the two trainers upload disjoint test samples that together are the whole test split", async () => {
    await admin.createRun({ runId: 'test-split', anchors });
    const testIds: number[][] = [];
    for (const task of [0, 1]) {
      const nodeId = `node-${task}`;
      await runTrainerNode(options('test-split', nodeId, { task, testSplit: 'partition', epochs: 1, chunkRows: 500 }), logger);
      const ids = Array.from((await admin.readNodeSpace('test-split', nodeId, 'relative')).sampleIds, Number);
      const trainIds = ids.filter((id) => id < 1_000_000);
      // The training samples are the task's, as with the default split.
      expect(trainIds).toEqual(expectedIds('trainer', task).filter((id) => id < 1_000_000));
      testIds.push(ids.filter((id) => id >= 1_000_000));
    }
    const [t0, t1] = testIds as [number[], number[]];
    const inT0 = new Set(t0);
    expect(t1.some((id) => inT0.has(id))).toBe(false);
    expect([...t0, ...t1].sort((a, b) => a - b)).toEqual(Array.from({ length: data.test.count }, (_, i) => 1_000_000 + i));
    // Task 0 holds 80% of the first-half classes' test samples and 20% of the others (shared-classes, p = 80).
    const half = data.numClasses / 2;
    const firstHalf = t0.filter((id) => data.test.labels[id - 1_000_000]! < half).length;
    const allFirstHalf = Array.from(data.test.labels).filter((c) => c < half).length;
    expect(firstHalf / allFirstHalf).toBeCloseTo(0.8, 1);
    await expect(runTrainerNode(options('test-split', 'node-9', { testSplit: 'by-task' as never }), logger)).rejects.toThrow(/--test-split must be one of classes, partition/);
  });

  it('refuses absolute uploads when the run does not allow them', async () => {
    await admin.createRun({ runId: 'no-absolute', anchors });
    await expect(runTrainerNode(options('no-absolute', 'node-2', { uploadAbsolute: true }), logger)).rejects.toThrow(/does not accept absolute/);
  });
});
