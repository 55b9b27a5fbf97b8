import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import type { AggregatorClient, AnchorSetSummaryView } from '@rlsa/client';
import { AdminService, UploadAnchorSetRequestSchema, createServiceClient } from '@rlsa/proto';
import type { AnchorSetKind } from '@rlsa/proto';
import { encodeAnchorSet } from '@rlsa/sources';
import { anchorSetSummaryMessage } from '@rlsa/wire';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, loadTokensFile } from '../src/index.ts';
import { builtinAnchors, startTestAggregator, tempDir } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';

const TOKENS = { ops: 'anchor-admin-secret', 'node-1': 'anchor-node-secret' };
/** The receive limit of the test aggregator: every message of a transfer must stay under it. */
const MAX_RECEIVE = 1 << 20;
/** An anchor set in its canonical encoding (@rlsa/sources): 800 random 32×32×3 images with labels, 2.4 MB. */
const ANCHORS = 800;
const ENCODED = encodeAnchorSet({
  kind: 'array',
  shape: { kind: 'image', height: 32, width: 32, channels: 3 },
  values: Uint8Array.from(randomBytes(ANCHORS * 32 * 32 * 3)),
  labels: Int32Array.from({ length: ANCHORS }, (_, i) => i % 10),
});
const FINGERPRINT = createHash('sha256').update(ENCODED).digest('hex');
const SUMMARY: AnchorSetSummaryView = { size: ENCODED.length, count: ANCHORS, kind: 'array', shape: [32, 32, 3], dtype: 'uint8', hasLabels: true, hasNames: false };

/** The byte source of an upload: the encoding in pieces of `size` bytes, counted as they are pulled. */
function* piecesOf(bytes: Uint8Array, size: number, pulled: { count: number }): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    pulled.count += 1;
    yield bytes.subarray(at, at + size);
  }
}

/** UploadAnchorSet messages sent as given (what the client would not send), and the call's outcome. */
async function rawUpload(address: string, messages: MessageInitShape<typeof UploadAnchorSetRequestSchema>[]): Promise<unknown> {
  const raw = createServiceClient(AdminService, address, credentials.createInsecure(), {});
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKENS.ops}`);
  const call = raw.uploadAnchorSet({ metadata, options: {} });
  for (const message of messages) call.requests.write(create(UploadAnchorSetRequestSchema, message));
  call.requests.end();
  try {
    return await call.response;
  } finally {
    raw.grpc.close();
  }
}

/** Everything a fetch yields, checked piece by piece against the limit, then joined. */
async function fetchAll(client: AggregatorClient, runId: string, options: Parameters<AggregatorClient['fetchAnchorSet']>[1] = {}): Promise<{ bytes: Buffer; pieces: number[] }> {
  const parts: Uint8Array[] = [];
  const pieces: number[] = [];
  for await (const piece of client.fetchAnchorSet(runId, options)) {
    pieces.push(piece.data.byteLength);
    parts.push(piece.data);
  }
  return { bytes: Buffer.concat(parts), pieces };
}

describe('anchor sets stored by the aggregator (real gRPC, tokens)', () => {
  let agg: TestAggregator;
  const temp = tempDir();
  const admin = (): AggregatorClient => agg.client({ token: TOKENS.ops });
  const node = (): AggregatorClient => agg.client({ token: TOKENS['node-1'], maxReceiveBytes: MAX_RECEIVE + 1024 });
  const storedFiles = (): string[] => readdirSync(join(agg.dataDir, 'anchor-sets')).sort();

  beforeAll(async () => {
    const file = join(temp.dir, 'tokens.yaml');
    writeFileSync(file, `tokens:\n${Object.entries(TOKENS).map(([subject, token]) => `  - subject: ${subject}\n    role: ${subject === 'ops' ? 'admin' : 'node'}\n    sha256: ${hashToken(token)}\n`).join('')}`);
    agg = await startTestAggregator({ tokens: loadTokensFile(file), maxReceiveBytes: MAX_RECEIVE });
  });
  afterAll(async () => {
    await agg?.stop();
    temp.remove();
  });

  it('refuses a set whose bytes do not hash to the announced fingerprint, storing nothing', async () => {
    const tampered = ENCODED.slice();
    tampered[1000] = (tampered[1000] as number) ^ 1;
    await expect(admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: tampered, chunkBytes: 256 << 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/not the announced fingerprint/),
    });
    // Fewer bytes than announced, and a gap between pieces: refused too.
    await expect(admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: ENCODED.subarray(0, 1000) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/ended after 1000 of the announced/),
    });
    const gap = rawUpload(agg.address, [
      { fingerprint: FINGERPRINT, summary: anchorSetSummaryMessage(SUMMARY), chunk: { offset: 0n, data: ENCODED.subarray(0, 10) } },
      { chunk: { offset: 20n, data: ENCODED.subarray(20, 30) } },
    ]);
    await expect(gap).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/starts at byte 20; 10 expected/) });
    // A later message naming the set again, and no message at all.
    const renamed = rawUpload(agg.address, [
      { fingerprint: FINGERPRINT, summary: anchorSetSummaryMessage(SUMMARY), chunk: { offset: 0n, data: ENCODED.subarray(0, 10) } },
      { fingerprint: FINGERPRINT, chunk: { offset: 10n, data: ENCODED.subarray(10, 20) } },
    ]);
    await expect(renamed).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/only the first/) });
    await expect(rawUpload(agg.address, [])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    // The right bytes (size and SHA-256) but a summary that says otherwise, and bytes that are no anchor set at all.
    await expect(admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: { ...SUMMARY, count: ANCHORS - 1 }, bytes: ENCODED, chunkBytes: 256 << 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/holds .*"count":800.*not the announced .*"count":799/),
    });
    await expect(admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: { ...SUMMARY, hasLabels: false }, bytes: ENCODED, chunkBytes: 256 << 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const noise = Uint8Array.from(randomBytes(5000));
    const noiseFingerprint = createHash('sha256').update(noise).digest('hex');
    await expect(admin().uploadAnchorSet({ fingerprint: noiseFingerprint, summary: { ...SUMMARY, size: noise.length }, bytes: noise })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/not an anchor set/),
    });
    expect(storedFiles()).toEqual([]);
    await expect(admin().createRun({ runId: 'early', anchors: { kind: 'anchor-set', fingerprint: FINGERPRINT, summary: SUMMARY } })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
  });

  it('stores a set uploaded in several chunks under the message limit, once; a second identical upload is answered at once and stores nothing again', async () => {
    const progress: number[] = [];
    const pulled = { count: 0 };
    const first = await admin().uploadAnchorSet({
      fingerprint: FINGERPRINT,
      summary: SUMMARY,
      // Read pieces of 700 KB re-cut into messages of at most 256 KiB.
      bytes: piecesOf(ENCODED, 700_000, pulled),
      chunkBytes: 256 << 10,
      onProgress: ({ bytes, total }) => progress.push(bytes / total),
    });
    expect(first).toEqual({ fingerprint: FINGERPRINT, summary: SUMMARY, created: true });
    // One progress event per message: each 700 KB piece cut into messages of at most 256 KiB.
    let messages = 0;
    for (let at = 0; at < ENCODED.length; at += 700_000) messages += Math.ceil(Math.min(700_000, ENCODED.length - at) / (256 << 10));
    expect(progress).toHaveLength(messages);
    expect(progress.at(-1)).toBe(1);
    // The file is the encoding itself: its SHA-256 is its name.
    expect(storedFiles()).toEqual([FINGERPRINT, `${FINGERPRINT}.summary`]);
    expect(createHash('sha256').update(readFileSync(join(agg.dataDir, 'anchor-sets', FINGERPRINT))).digest('hex')).toBe(FINGERPRINT);
    const before = statSync(join(agg.dataDir, 'anchor-sets', FINGERPRINT));

    const second = await admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: piecesOf(ENCODED, 256 << 10, { count: 0 }), chunkBytes: 256 << 10 });
    expect(second).toEqual({ fingerprint: FINGERPRINT, summary: SUMMARY, created: false });
    // Not written again: the same file (inode, size, modification time), no partial file left.
    const after = statSync(join(agg.dataDir, 'anchor-sets', FINGERPRINT));
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    expect(storedFiles()).toEqual([FINGERPRINT, `${FINGERPRINT}.summary`]);
    // The same fingerprint with another summary is the uploader's mistake.
    await expect(admin().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: { ...SUMMARY, count: 201 }, bytes: ENCODED, chunkBytes: 256 << 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/stored with another summary/),
    });
    // A source that fails mid-way cancels the upload: nothing is stored, no partial file stays.
    const other = Uint8Array.from(randomBytes(600_000));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield other.subarray(0, 300_000);
      throw new Error('disk read failed');
    }
    const fingerprint = createHash('sha256').update(other).digest('hex');
    await expect(admin().uploadAnchorSet({ fingerprint, summary: { ...SUMMARY, size: other.length }, bytes: failing(), chunkBytes: 100_000 })).rejects.toThrow('disk read failed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(storedFiles()).toEqual([FINGERPRINT, `${FINGERPRINT}.summary`]);
  });

  it('a message over the limit is refused (RESOURCE_EXHAUSTED) and stores nothing new', async () => {
    const other = Uint8Array.from(randomBytes(MAX_RECEIVE + 10));
    const fingerprint = createHash('sha256').update(other).digest('hex');
    await expect(admin().uploadAnchorSet({ fingerprint, summary: { ...SUMMARY, size: other.length }, bytes: other, chunkBytes: MAX_RECEIVE + 10 })).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
    });
    expect(storedFiles()).toEqual([FINGERPRINT, `${FINGERPRINT}.summary`]);
  });

  it('creates a run of the stored set (its summary as stored), whose nodes fetch it in chunks under the limit; unauthenticated callers are refused', async () => {
    await expect(admin().createRun({ runId: 'set', anchors: { kind: 'anchor-set', fingerprint: FINGERPRINT, summary: { ...SUMMARY, count: 199 } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const run = await admin().createRun({ runId: 'set', anchors: { kind: 'anchor-set', fingerprint: FINGERPRINT, summary: SUMMARY } });
    expect(run.config.anchors).toEqual({ kind: 'anchor-set', fingerprint: FINGERPRINT, summary: SUMMARY });

    const progress: { bytes: number; total: number }[] = [];
    const fetched = await fetchAll(node(), 'set', { onProgress: (p) => progress.push(p) });
    expect(createHash('sha256').update(fetched.bytes).digest('hex')).toBe(FINGERPRINT);
    expect(fetched.bytes.equals(Buffer.from(ENCODED))).toBe(true);
    expect(Math.max(...fetched.pieces)).toBeLessThanOrEqual(MAX_RECEIVE);
    expect(fetched.pieces.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ bytes: ENCODED.length, total: ENCODED.length });
    // Smaller pieces on request, and a resumed fetch from an offset.
    const small = await fetchAll(node(), 'set', { maxChunkBytes: 100_000 });
    expect(small.pieces.every((n) => n <= 100_000)).toBe(true);
    const resumed = await fetchAll(node(), 'set', { offset: 1_234_567 });
    expect(resumed.bytes.equals(Buffer.from(ENCODED.subarray(1_234_567)))).toBe(true);

    await expect(fetchAll(agg.client(), 'set')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(fetchAll(agg.client({ token: 'wrong' }), 'set')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(fetchAll(node(), 'set', { offset: ENCODED.length + 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(fetchAll(node(), 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('uploading needs an admin token; a run of built-in anchors has no set to fetch', async () => {
    await expect(node().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: ENCODED })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(agg.client().uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: ENCODED })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await admin().createRun({ runId: 'builtin', anchors: builtinAnchors([1, 2, 3]) });
    await expect(fetchAll(node(), 'builtin')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', details: expect.stringMatching(/built-in data set synthetic/) });
  });

  it('refuses malformed headers: a fingerprint that is not a SHA-256, a summary that does not hold together', async () => {
    const upload = (fingerprint: string, summary: AnchorSetSummaryView) => admin().uploadAnchorSet({ fingerprint, summary, bytes: ENCODED.subarray(0, 10) });
    await expect(upload('F'.repeat(64), SUMMARY)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(upload('ab', SUMMARY)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(upload('0'.repeat(64), { ...SUMMARY, count: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(upload('0'.repeat(64), { ...SUMMARY, shape: [3, 3] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(upload('0'.repeat(64), { ...SUMMARY, kind: 'images' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: expect.stringMatching(/no shape or dtype/) });
    // A summary's kind outside the enum (a raw message): INVALID_ARGUMENT, not INTERNAL.
    const unknownKind = rawUpload(agg.address, [{ fingerprint: '0'.repeat(64), summary: { ...anchorSetSummaryMessage(SUMMARY), kind: 9 as AnchorSetKind }, chunk: { offset: 0n, data: ENCODED.subarray(0, 10) } }]);
    await expect(unknownKind).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/anchor set kind 9/) });
    expect(storedFiles()).toEqual([FINGERPRINT, `${FINGERPRINT}.summary`]);
  });

  it('keeps the stored sets across a restart', async () => {
    const dataDir = agg.dataDir;
    await agg.handle.shutdown(2000);
    const again = await startTestAggregator({ dataDir, tokens: loadTokensFile(join(temp.dir, 'tokens.yaml')) });
    try {
      const client = again.client({ token: TOKENS['node-1'] });
      const parts: Uint8Array[] = [];
      for await (const piece of client.fetchAnchorSet('set')) parts.push(piece.data);
      expect(createHash('sha256').update(Buffer.concat(parts)).digest('hex')).toBe(FINGERPRINT);
      const upload = await again.client({ token: TOKENS.ops }).uploadAnchorSet({ fingerprint: FINGERPRINT, summary: SUMMARY, bytes: ENCODED });
      expect(upload.created).toBe(false);
    } finally {
      await again.stop();
    }
  });
});
