import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { encodeMatrix } from '@rlsa/client';
import type { AggregatorClient } from '@rlsa/client';
import { Encoding, MatrixSchema, SpaceKind, UploadChunkSchema } from '@rlsa/proto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROWS_PER_CHUNK } from '../src/index.ts';
import { FINGERPRINT, builtinAnchors, idColumn, randomValues, range, startTestAggregator } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';
import { rawAggregatorClient, rawUpload } from './raw-client.ts';

const WIDTH = 4;
const MAX_RECEIVE = 256 * 1024;
type ChunkInit = MessageInitShape<typeof UploadChunkSchema>;

function chunk(seq: number, ids: readonly number[], values?: Float32Array, extra: Partial<ChunkInit> = {}): ChunkInit {
  const data = values ?? randomValues(ids.length * WIDTH, 100 + seq);
  return {
    runId: 'r',
    nodeId: 't1',
    space: SpaceKind.RELATIVE,
    seq: BigInt(seq),
    sampleIds: idColumn(ids),
    values: encodeMatrix({ rows: ids.length, cols: WIDTH, data }, 'float32'),
    labels: ids.map((id) => id % 3),
    ...extra,
  };
}

describe('bad input gets a precise status and changes nothing', () => {
  let agg: TestAggregator;
  let client: AggregatorClient;
  let raw: ReturnType<typeof rawAggregatorClient>;
  const stored0 = randomValues(3 * WIDTH, 1);

  /** Everything observable: run status (minus timestamps), merged space, stored rows. */
  async function snapshot(): Promise<string> {
    // Liveness aside (when the run changed, which node is connected or was last seen: a duplicate chunk is a sign of life).
    const runs = (await client.listRuns()).map((r) => ({ ...r, updatedAtMs: 0, nodes: r.nodes.map((n) => ({ ...n, connected: false, lastSeenMs: 0 })) }));
    const merged = await client.readMerged('r');
    const db = new Database(join(agg.dataDir, 'aggregator.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT count(*) AS chunks, sum(rows) AS rows FROM chunks').get();
    const nodes = db.prepare('SELECT count(*) AS nodes FROM nodes').get();
    db.close();
    const everything = { runs, ids: Array.from(merged.sampleIds), counts: Array.from(merged.counts), values: Array.from(merged.values.data), rows, nodes };
    return JSON.stringify(everything, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  }

  async function expectUploadRefused(messages: Parameters<typeof rawUpload>[1], code: status, detail?: RegExp): Promise<void> {
    const before = await snapshot();
    const outcome = await rawUpload(raw, messages);
    expect({ code: status[outcome.code], details: outcome.details }).toMatchObject({ code: status[code], ...(detail ? { details: expect.stringMatching(detail) } : {}) });
    expect(await snapshot()).toBe(before);
  }

  async function expectCallRefused(call: () => Promise<unknown>, code: string): Promise<void> {
    const before = await snapshot();
    await expect(call()).rejects.toMatchObject({ code });
    expect(await snapshot()).toBe(before);
  }

  beforeAll(async () => {
    agg = await startTestAggregator({ maxReceiveBytes: MAX_RECEIVE });
    client = agg.client();
    raw = rawAggregatorClient(agg.address);
    await client.createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
    await client.createRun({ runId: 'half', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT), acceptedEncodings: ['float16'] });
    for (const runId of ['r', 'half']) {
      await client.join({ runId, nodeId: 't1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    }
    const first = await rawUpload(raw, [chunk(0, [10, 11, 12], stored0), chunk(1, [13, 14])]);
    expect(first.code).toBe(status.OK);
    expect(first.acks.map((a) => [Number(a.seq), Number(a.rowsStored), a.duplicate])).toEqual([
      [0, 3, false],
      [1, 5, false],
    ]);
  });
  afterAll(async () => {
    raw?.close();
    await agg?.stop();
  });

  describe('Join', () => {
    const join = (over: Record<string, unknown>) => () =>
      client.join({ runId: 'r', nodeId: 't2', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH, ...over });
    it('unknown run: NOT_FOUND', () => expectCallRefused(join({ runId: 'nope' }), 'NOT_FOUND'));
    it('fingerprint mismatch: FAILED_PRECONDITION', () => expectCallRefused(join({ anchorFingerprint: 'b'.repeat(64) }), 'FAILED_PRECONDITION'));
    it('wrong relative width: FAILED_PRECONDITION', () => expectCallRefused(join({ relativeWidth: WIDTH + 1 }), 'FAILED_PRECONDITION'));
    it('joining again with another role: FAILED_PRECONDITION', () => expectCallRefused(join({ nodeId: 't1', role: 'reference' }), 'FAILED_PRECONDITION'));
    it('joining again with another model: FAILED_PRECONDITION', () =>
      expectCallRefused(join({ nodeId: 't1', model: { architecture: 'cnn', embeddingWidth: 8 } }), 'FAILED_PRECONDITION'));
    it('a bad node id or an empty model card: INVALID_ARGUMENT', async () => {
      await expectCallRefused(join({ nodeId: 'has space' }), 'INVALID_ARGUMENT');
      await expectCallRefused(join({ model: { architecture: '', embeddingWidth: 0 } }), 'INVALID_ARGUMENT');
      await expectCallRefused(join({ model: { architecture: 'mlp', embeddingWidth: 8, taskAccuracy: 1.5 } }), 'INVALID_ARGUMENT');
    });
    it('joining again identically resumes: the last acknowledged seq comes back', async () => {
      const again = await join({ nodeId: 't1' })();
      expect(again).toMatchObject({ lastRelativeSeq: 1, lastAbsoluteSeq: -1 });
    });
  });

  describe('Upload', () => {
    it('unknown run: NOT_FOUND', () => expectUploadRefused([chunk(2, [20], undefined, { runId: 'nope' })], status.NOT_FOUND));
    it('a node that has not joined: FAILED_PRECONDITION', () => expectUploadRefused([chunk(0, [20], undefined, { nodeId: 'stranger' })], status.FAILED_PRECONDITION));
    it('wrong width: INVALID_ARGUMENT', () =>
      expectUploadRefused([{ ...chunk(2, [20, 21]), values: encodeMatrix({ rows: 2, cols: WIDTH + 1, data: randomValues(2 * (WIDTH + 1), 5) }) }], status.INVALID_ARGUMENT, /width/));
    it('data bytes that do not match rows × cols: INVALID_ARGUMENT', () =>
      expectUploadRefused(
        [{ ...chunk(2, [20, 21]), values: create(MatrixSchema, { rows: 2, cols: WIDTH, encoding: Encoding.FLOAT32, data: new Uint8Array(2 * WIDTH * 4 - 4) }) }],
        status.INVALID_ARGUMENT,
      ));
    it('NaN or Inf (float32 and float16): INVALID_ARGUMENT', async () => {
      const nan = randomValues(2 * WIDTH, 6);
      nan[3] = Number.NaN;
      await expectUploadRefused(
        [{ ...chunk(2, [20, 21]), values: create(MatrixSchema, { rows: 2, cols: WIDTH, encoding: Encoding.FLOAT32, data: new Uint8Array(nan.buffer) }) }],
        status.INVALID_ARGUMENT,
        /NaN/,
      );
      const halves = new Uint16Array(2 * WIDTH).fill(0x3c00);
      halves[5] = 0xfc00; // -Infinity
      await expectUploadRefused(
        [{ ...chunk(2, [20, 21]), values: create(MatrixSchema, { rows: 2, cols: WIDTH, encoding: Encoding.FLOAT16, data: new Uint8Array(halves.buffer) }) }],
        status.INVALID_ARGUMENT,
      );
    });
    it('an unspecified encoding or one the run does not accept: INVALID_ARGUMENT', async () => {
      await expectUploadRefused(
        [{ ...chunk(2, [20]), values: create(MatrixSchema, { rows: 1, cols: WIDTH, encoding: Encoding.UNSPECIFIED, data: new Uint8Array(WIDTH * 4) }) }],
        status.INVALID_ARGUMENT,
      );
      await expectUploadRefused([chunk(0, [20], undefined, { runId: 'half' })], status.INVALID_ARGUMENT, /not accepted/);
    });
    it('ids, labels and rows that disagree, duplicate ids in a chunk, bad labels, no rows: INVALID_ARGUMENT', async () => {
      await expectUploadRefused([{ ...chunk(2, [20, 21]), sampleIds: idColumn([20]) }], status.INVALID_ARGUMENT);
      // An id column that is not a whole number of 8-byte ids (a v1 node's 32-bit ids, say).
      await expectUploadRefused([{ ...chunk(2, [20, 21]), sampleIds: new Uint8Array(12) }], status.INVALID_ARGUMENT, /sample id column of 12 bytes/);
      await expectUploadRefused([{ ...chunk(2, [20, 21]), labels: [1] }], status.INVALID_ARGUMENT);
      await expectUploadRefused([chunk(2, [20, 20])], status.INVALID_ARGUMENT, /twice/);
      await expectUploadRefused([{ ...chunk(2, [20, 21]), labels: [1, -5] }], status.INVALID_ARGUMENT);
      await expectUploadRefused([{ ...chunk(2, []) }], status.INVALID_ARGUMENT);
      await expectUploadRefused([{ ...chunk(2, [20]), values: undefined }], status.INVALID_ARGUMENT);
      await expectUploadRefused([{ ...chunk(2, [20]), space: SpaceKind.UNSPECIFIED }], status.INVALID_ARGUMENT);
    });
    it('bytes that are not an UploadChunk: INVALID_ARGUMENT', () => expectUploadRefused([Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01])], status.INVALID_ARGUMENT, /malformed/));
    it('a gap in the seqs: FAILED_PRECONDITION', () => expectUploadRefused([chunk(3, [20])], status.FAILED_PRECONDITION, /gap/));
    it('absolute embeddings when the run does not allow them: FAILED_PRECONDITION', () =>
      expectUploadRefused([{ ...chunk(0, [20]), space: SpaceKind.ABSOLUTE }], status.FAILED_PRECONDITION));
    it('a message over the receive limit: RESOURCE_EXHAUSTED', () => expectUploadRefused([chunk(2, range(1000, 1000 + MAX_RECEIVE / (WIDTH * 4) + 10))], status.RESOURCE_EXHAUSTED));
    it('more rows than a chunk may hold: RESOURCE_EXHAUSTED', async () => {
      const rows = MAX_ROWS_PER_CHUNK + 1;
      const ids = range(100_000, 100_000 + rows);
      const wide = await startTestAggregator({ maxReceiveBytes: 64 * 1024 * 1024 });
      try {
        const c = wide.client();
        await c.createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
        await c.join({ runId: 'r', nodeId: 't1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
        const r = rawAggregatorClient(wide.address);
        const outcome = await rawUpload(r, [{ ...chunk(0, ids, new Float32Array(rows * WIDTH)), labels: [] }]);
        r.close();
        expect(status[outcome.code]).toBe('RESOURCE_EXHAUSTED');
        expect((await c.getRun('r')).nodes[0]?.relativeRows).toBe(0);
      } finally {
        await wide.stop();
      }
    });
    it('a stored seq sent again: identical → acknowledged as duplicate and not counted; different → ALREADY_EXISTS', async () => {
      const before = await snapshot();
      const again = await rawUpload(raw, [chunk(0, [10, 11, 12], stored0)]);
      expect(again.code).toBe(status.OK);
      expect(again.acks.map((a) => [Number(a.seq), Number(a.rowsStored), a.duplicate])).toEqual([[0, 5, true]]);
      expect(await snapshot()).toBe(before);
      await expectUploadRefused([chunk(0, [10, 11, 12], randomValues(3 * WIDTH, 99))], status.ALREADY_EXISTS);
    });
    it('a sample sent again by the same node with other values: ALREADY_EXISTS; with the same values: stored, counted once', async () => {
      const changed = stored0.slice(0, WIDTH);
      changed[0] = (changed[0] as number) + 0.5;
      await expectUploadRefused([chunk(2, [10, 30], Float32Array.from([...changed, 0.1, 0.2, 0.3, 0.4]))], status.ALREADY_EXISTS, /sample 10/);
      const same = await rawUpload(raw, [chunk(2, [10, 30], Float32Array.from([...stored0.slice(0, WIDTH), 0.1, 0.2, 0.3, 0.4]), { labels: [1, 0] })]);
      expect(same.code).toBe(status.OK);
      expect(same.acks.map((a) => [Number(a.seq), Number(a.rowsStored), a.duplicate])).toEqual([[2, 6, false]]);
      const merged = await client.readMerged('r', { sampleIds: [10n, 30n] });
      expect(Array.from(merged.counts)).toEqual([1, 1]);
      expect(Array.from(merged.values.data.subarray(0, WIDTH))).toEqual(Array.from(stored0.slice(0, WIDTH)));
    });
    it('after FinishUpload a new chunk is FAILED_PRECONDITION (a stored one is still acknowledged)', async () => {
      await client.createRun({ runId: 'done', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
      await client.join({ runId: 'done', nodeId: 't1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
      const values = randomValues(WIDTH, 8);
      expect((await rawUpload(raw, [chunk(0, [1], values, { runId: 'done' })])).code).toBe(status.OK);
      await client.finish('done', 't1');
      await expectUploadRefused([chunk(1, [2], undefined, { runId: 'done' })], status.FAILED_PRECONDITION, /finished/);
      const again = await rawUpload(raw, [chunk(0, [1], values, { runId: 'done' })]);
      expect(again.acks.map((a) => a.duplicate)).toEqual([true]);
    });
    it('chunks before a refused one stay stored and acknowledged', async () => {
      const outcome = await rawUpload(raw, [chunk(3, [40]), chunk(4, [41, 41]), chunk(5, [42])]);
      expect(status[outcome.code]).toBe('INVALID_ARGUMENT');
      expect(outcome.acks.map((a) => Number(a.seq))).toEqual([3]);
      expect((await client.join({ runId: 'r', nodeId: 't1', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH })).lastRelativeSeq).toBe(3);
    });
  });

  describe('reads and admin', () => {
    it('Nearest: unknown sample NOT_FOUND; zero, wrong-width or NaN vector and k too large INVALID_ARGUMENT', async () => {
      await expectCallRefused(() => client.nearest('r', { sampleId: 999 }, 3), 'NOT_FOUND');
      await expectCallRefused(() => client.nearest('r', { vector: [0, 0, 0, 0] }, 3), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.nearest('r', { vector: [1, 0, 0] }, 3), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.nearest('r', { sampleId: 10 }, 5000), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.nearest('nope', { sampleId: 10 }, 3), 'NOT_FOUND');
    });
    it('Evaluate without a reference: FAILED_PRECONDITION; unknown run: NOT_FOUND', async () => {
      await expectCallRefused(() => client.evaluate('r'), 'FAILED_PRECONDITION');
      await expectCallRefused(() => client.evaluate('nope'), 'NOT_FOUND');
    });
    it('ReadMerged and ReadNodeSpace of unknown runs or nodes', async () => {
      await expectCallRefused(() => client.readMerged('nope'), 'NOT_FOUND');
      await expectCallRefused(() => client.readMerged('r', { sampleIds: [12345n] }), 'NOT_FOUND');
      await expectCallRefused(() => client.readNodeSpace('r', 'stranger'), 'FAILED_PRECONDITION');
    });
    it('CreateRun: same id with another config ALREADY_EXISTS (same config is a no-op); invalid configs INVALID_ARGUMENT', async () => {
      await expectCallRefused(() => client.createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH + 1), FINGERPRINT) }), 'ALREADY_EXISTS');
      const same = await client.createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
      expect(same.config.runId).toBe('r');
      await expectCallRefused(() => client.createRun({ runId: 'x', anchors: builtinAnchors([], FINGERPRINT) }), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.createRun({ runId: 'x', anchors: builtinAnchors([1, 1], FINGERPRINT) }), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.createRun({ runId: 'bad id', anchors: builtinAnchors([1], FINGERPRINT) }), 'INVALID_ARGUMENT');
      await expectCallRefused(() => client.getRun('nope'), 'NOT_FOUND');
    });
  });
});
