import { create } from '@bufbuild/protobuf';
import { SpaceKind, UploadChunkSchema } from '@rlsa/proto';
import type { UploadChunk } from '@rlsa/proto';
import { DEFAULT_QUOTAS, encodeMatrix } from '@rlsa/wire';
import type { RunConfigView } from '@rlsa/wire';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AggregatorError } from '../../src/errors.ts';
import { ChunkIngest } from '../../src/ingest/chunk-ingest.ts';
import { meanMerge } from '../../src/merge/merged-sums.ts';
import { RunDirectory } from '../../src/runs/run-directory.ts';
import type { RunStore } from '../../src/runs/run-directory.ts';
import { idColumn } from '../helpers.ts';
import { FakeChunkSink } from './fake-chunk-sink.ts';

const WIDTH = 2;
const CONFIG: RunConfigView = {
  runId: 'r',
  anchors: { kind: 'builtin', dataset: 'synthetic', sampleIds: [100n, 101n], fingerprint: 'f'.repeat(64) },
  similarity: 'cosine',
  acceptedEncodings: [],
  center: false,
  allowAbsolute: false,
  nodeRead: 'merged',
  quotas: DEFAULT_QUOTAS,
};

/** Metadata writes are no-ops here: the scenarios are about chunks. */
const NO_STORE: RunStore = { insertRun: () => undefined, insertNode: () => undefined, updateNodeModel: () => undefined, setFinished: () => undefined, setRunState: () => undefined };

function chunk(nodeId: string, seq: number, rows: Record<number, [number, number]>): UploadChunk {
  const ids = Object.keys(rows).map(Number);
  const values = Float32Array.from(ids.flatMap((id) => rows[id] as [number, number]));
  return create(UploadChunkSchema, {
    runId: 'r',
    nodeId,
    space: SpaceKind.RELATIVE,
    seq: BigInt(seq),
    sampleIds: idColumn(ids),
    values: encodeMatrix({ rows: ids.length, cols: WIDTH, data: values }),
    labels: ids.map((id) => id % 3),
  });
}

/** The error an upload throws synchronously or rejects with. */
async function refusal(upload: () => Promise<unknown>): Promise<AggregatorError> {
  try {
    await upload();
  } catch (error: unknown) {
    if (error instanceof AggregatorError) return error;
    throw error;
  }
  throw new Error('the upload was accepted');
}

describe('ChunkIngest against a fake chunk sink', () => {
  let sink: FakeChunkSink;
  let runs: RunDirectory;
  let ingest: ChunkIngest;
  const merged = (id: number): number[] => {
    const out = new Float32Array(WIDTH);
    return runs.run('r').merged.read(id, 0, out, 0) === undefined ? [] : Array.from(out);
  };
  const node = (nodeId: string) => runs.status('r').nodes.find((n) => n.nodeId === nodeId);

  beforeEach(() => {
    sink = new FakeChunkSink();
    runs = new RunDirectory(NO_STORE, meanMerge(), pino({ level: 'silent' }));
    runs.createRun(CONFIG);
    for (const [nodeId, role] of [['a', 'trainer'], ['b', 'trainer'], ['ref', 'reference']] as const) {
      runs.join('r', { nodeId, role, taskId: nodeId, model: { architecture: 'mlp', embeddingWidth: 4 }, anchorFingerprint: CONFIG.anchors.fingerprint, relativeWidth: WIDTH });
    }
    ingest = new ChunkIngest(runs, sink, sink);
  });

  afterEach(() => {
    // Every payload buffer is given back once its chunk is merged or refused: only the writes still waiting hold one each.
    expect(sink.payloads.taken).toBe(sink.waiting);
  });

  it('acknowledges a chunk only after its commit, then counts and merges it (trainers only: the reference is not merged)', async () => {
    const pending = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2], 2: [3, 4] }));
    expect(node('a')).toMatchObject({ relativeChunks: 0, relativeRows: 0 });
    expect(merged(1)).toEqual([]);
    sink.commitNext();
    expect(await pending).toMatchObject({ space: 'relative', seq: 0, rowsStored: 2, rowsCounted: 2, duplicate: false });
    expect(node('a')).toMatchObject({ relativeChunks: 1, relativeRows: 2 });
    const b = ingest.uploadChunk(chunk('b', 0, { 1: [3, 6] }));
    const ref = ingest.uploadChunk(chunk('ref', 0, { 1: [100, 100] }));
    sink.commitNext();
    sink.commitNext();
    await Promise.all([b, ref]);
    expect(merged(1)).toEqual([2, 4]);
    expect(runs.run('r').merged.read(1, 0, new Float32Array(WIDTH), 0)).toEqual({ count: 2, label: 1 });
  });

  it('UNAVAILABLE for a seq still committing; once committed the same chunk is a duplicate, other content ALREADY_EXISTS', async () => {
    const first = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2] }));
    const again = await refusal(async () => ingest.uploadChunk(chunk('a', 0, { 1: [1, 2] })));
    expect(again).toMatchObject({ code: 'unavailable', message: 'chunk 0 of node a is being stored; send it again later' });
    expect(sink.waiting).toBe(1);
    sink.commitNext();
    await first;
    expect(await ingest.uploadChunk(chunk('a', 0, { 1: [1, 2] }))).toMatchObject({ duplicate: true, rowsCounted: 0, rowsStored: 1 });
    expect(sink.waiting).toBe(0);
    expect(await refusal(async () => ingest.uploadChunk(chunk('a', 0, { 1: [1, 5] })))).toMatchObject({ code: 'already_exists' });
    expect(node('a')).toMatchObject({ relativeChunks: 1, relativeRows: 1 });
  });

  it('checks the next chunk while one commits; a sample still committing is UNAVAILABLE and changes nothing', async () => {
    const first = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2], 2: [3, 4] }));
    const second = ingest.uploadChunk(chunk('a', 1, { 3: [5, 6] }));
    expect(sink.waiting).toBe(2);
    const blocked = await refusal(async () => ingest.uploadChunk(chunk('a', 2, { 4: [0, 1], 2: [3, 4] })));
    expect(blocked).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^sample 2 is in chunk 0 of node a, still being stored/) });
    expect(sink.waiting).toBe(2);
    sink.commitNext();
    sink.commitNext();
    await Promise.all([first, second]);
    // Sent again after the commit: sample 2 with the same values is kept but not counted again.
    const third = ingest.uploadChunk(chunk('a', 2, { 4: [0, 1], 2: [3, 4] }));
    sink.commitNext();
    expect(await third).toMatchObject({ seq: 2, rowsCounted: 1, rowsStored: 4 });
    expect(runs.run('r').merged.read(2, 0, new Float32Array(WIDTH), 0)).toEqual({ count: 1, label: 2 });
    // With other values it is ALREADY_EXISTS.
    expect(await refusal(async () => ingest.uploadChunk(chunk('a', 3, { 2: [3, 5] })))).toMatchObject({
      code: 'already_exists',
      message: 'sample 2 was sent before by node a (chunk 0) with other values',
    });
  });

  it('a failed commit rolls the reservations back: nothing counted or merged, and the node can send the chunk again', async () => {
    const failing = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2], 2: [3, 4] }));
    const behind = await refusal(async () => ingest.uploadChunk(chunk('a', 1, { 2: [3, 4] })));
    expect(behind.code).toBe('unavailable');
    sink.failNext(new AggregatorError('internal', 'disk I/O error'));
    await expect(failing).rejects.toMatchObject({ code: 'internal', message: 'disk I/O error' });
    expect(node('a')).toMatchObject({ relativeChunks: 0, relativeRows: 0 });
    expect(merged(1)).toEqual([]);
    expect(sink.storedChunks).toBe(0);
    // Seq 0 and samples 1 and 2 are free again: the resent chunk is accepted as new.
    const resent = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2], 2: [3, 4] }));
    sink.commitNext();
    expect(await resent).toMatchObject({ seq: 0, rowsCounted: 2, duplicate: false });
    expect(merged(2)).toEqual([3, 4]);
  });

  it('refuses gaps, unknown nodes, finished nodes and bad shapes with their codes, changing nothing', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [async () => ingest.uploadChunk(chunk('a', 1, { 1: [1, 2] })), 'failed_precondition'],
      [async () => ingest.uploadChunk(chunk('stranger', 0, { 1: [1, 2] })), 'failed_precondition'],
      [async () => ingest.uploadChunk(create(UploadChunkSchema, { ...chunk('a', 0, { 1: [1, 2] }), runId: 'nope' })), 'not_found'],
      [async () => ingest.uploadChunk(create(UploadChunkSchema, { ...chunk('a', 0, { 1: [1, 2] }), space: SpaceKind.ABSOLUTE })), 'failed_precondition'],
      [async () => ingest.uploadChunk(create(UploadChunkSchema, { ...chunk('a', 0, { 1: [1, 2] }), labels: [-2] })), 'invalid_argument'],
      [async () => ingest.uploadChunk(create(UploadChunkSchema, { ...chunk('a', 0, { 1: [1, 2] }), sampleIds: idColumn([1, 1]) })), 'invalid_argument'],
    ];
    for (const [upload, code] of cases) expect(await refusal(upload)).toMatchObject({ code });
    runs.finish('r', 'b');
    expect(await refusal(async () => ingest.uploadChunk(chunk('b', 0, { 1: [1, 2] })))).toMatchObject({ code: 'failed_precondition', message: 'node b finished its upload' });
    expect(sink.waiting).toBe(0);
    expect(runs.status('r').nodes.map((n) => n.relativeRows)).toEqual([0, 0, 0]);
  });

  it('a node is seen when a chunk of it is accepted or acknowledged again, not when one is refused', async () => {
    const seen = (): number => node('a')?.lastSeenMs ?? -1;
    const joined = seen();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await refusal(async () => ingest.uploadChunk(chunk('a', 1, { 1: [1, 2] })));
    expect(seen()).toBe(joined);
    const accepted = ingest.uploadChunk(chunk('a', 0, { 1: [1, 2] }));
    expect(seen()).toBeGreaterThan(joined);
    sink.commitNext();
    await accepted;
    const first = seen();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await ingest.uploadChunk(chunk('a', 0, { 1: [1, 2] }));
    expect(seen()).toBeGreaterThan(first);
  });
});
