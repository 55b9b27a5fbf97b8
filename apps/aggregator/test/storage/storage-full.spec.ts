import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { meanOverSpaces } from '@rlsa/core';
import type { AnchorSetSummaryView } from '@rlsa/client';
import { encodeAnchorSet } from '@rlsa/sources';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { service as healthService } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, bigIds, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from '../helpers.ts';
import type { TestAggregator, TestSpace } from '../helpers.ts';

/**
 * A full disk, for real: the data dir on a tmpfs of a few MB (root only: mounting needs it), filled
 * by a file until ENOSPC. Uploads get UNAVAILABLE (retryable), health turns NOT_SERVING on the main
 * port and on --health-port, the metrics count it; once the file is removed, a probe write turns
 * everything back by itself, the node's retried upload goes through, and the merged space is the
 * exact mean of what was acknowledged.
 */
const IS_ROOT = process.getuid?.() === 0;
const FS_BYTES = 8 * 1024 * 1024;
const WIDTH = 64;
// 64 rows × 64 float32 = 16 KB per chunk: every record needs new pages of the file system.
const CHUNK_ROWS = 64;
/** An anchor set's canonical encoding (@rlsa/sources): 64 random 32×32×3 images, 196 KB, more than the full tmpfs can take. */
const ANCHOR_COUNT = 64;
const ANCHOR_SET = encodeAnchorSet({ kind: 'array', shape: { kind: 'image', height: 32, width: 32, channels: 3 }, values: Uint8Array.from(randomBytes(ANCHOR_COUNT * 32 * 32 * 3)) });
const ANCHOR_SUMMARY: AnchorSetSummaryView = { size: ANCHOR_SET.length, count: ANCHOR_COUNT, kind: 'array', shape: [32, 32, 3], dtype: 'uint8', hasLabels: false, hasNames: false };

function healthStatus(address: string): Promise<string> {
  const Ctor = makeGenericClientConstructor(healthService, 'Health');
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, (...a: unknown[]) => void>;
  return new Promise((resolve, reject) => {
    (client['check'] as (...a: unknown[]) => void)({ service: '' }, new Metadata(), (error: ServiceError | null, response: { status: string }) => {
      client.close();
      if (error !== null) reject(error);
      else resolve(response.status);
    });
  });
}

/** Writes zeros into `path` until the file system has no room left; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, block, 0, block.length);
      } catch (error: unknown) {
        if ((error as { code?: string }).code === 'ENOSPC') break;
        throw error;
      }
    }
    // The last partial page too: small writes until nothing fits.
    for (const size of [4096, 512, 1]) {
      try {
        for (;;) written += writeSync(fd, block, 0, size);
      } catch (error: unknown) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!IS_ROOT)('a full disk (tmpfs of 8 MB; root only, to mount it)', () => {
  const temp = tempDir();
  const mount = join(temp.dir, 'fs');
  let agg: TestAggregator | undefined;
  afterAll(async () => {
    await agg?.stop();
    try {
      execFileSync('umount', [mount]);
    } catch {
      // not mounted
    }
    temp.remove();
  });

  it('answers UNAVAILABLE and NOT_SERVING while full, recovers by itself when space is freed, and loses nothing acknowledged', async () => {
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_BYTES}`, 'tmpfs', mount]);
    agg = await startTestAggregator({ dataDir: join(mount, 'data'), healthPort: 0, metricsPort: 0 });
    const healthAddress = `127.0.0.1:${agg.handle.healthPort}`;
    const client = agg.client();
    await client.createRun({ runId: 'full', anchors: builtinAnchors(range(0, WIDTH)), acceptedEncodings: ['float32'] });
    const spaces: Record<'t1' | 't2', TestSpace> = { t1: testSpace(range(0, 256), WIDTH, 21), t2: testSpace(range(128, 384), WIDTH, 22) };
    for (const nodeId of ['t1', 't2'] as const) {
      await client.join({ runId: 'full', nodeId, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    }
    await client.upload({ runId: 'full', nodeId: 't1', chunks: chunksOf(spaces.t1, CHUNK_ROWS) });

    const filler = join(mount, 'filler');
    expect(fill(filler)).toBeGreaterThan(FS_BYTES / 2);
    // Full: the upload is refused with a retryable status, nothing of it stored.
    await expect(client.upload({ runId: 'full', nodeId: 't2', chunks: chunksOf(spaces.t2, CHUNK_ROWS), retry: { attempts: 0 } })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await healthStatus(agg.address)).toBe('NOT_SERVING');
    expect(await healthStatus(healthAddress)).toBe('NOT_SERVING');
    const whileFull = await (await fetch(`http://127.0.0.1:${agg.handle.metricsPort}/metrics`)).text();
    expect(whileFull).toMatch(/^rlsa_aggregator_storage_full 1$/m);
    expect(Number(/^rlsa_aggregator_storage_refused_chunks_total (\d+)$/m.exec(whileFull)?.[1])).toBeGreaterThanOrEqual(1);
    // An anchor set too: UNAVAILABLE, and no part of it left on the data dir.
    const anchorDir = join(mount, 'data', 'anchor-sets');
    const anchorFilesBefore = readdirSync(anchorDir).sort();
    const anchorSet = { fingerprint: createHash('sha256').update(ANCHOR_SET).digest('hex'), summary: ANCHOR_SUMMARY, bytes: ANCHOR_SET };
    await expect(client.uploadAnchorSet(anchorSet)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(readdirSync(anchorDir).sort()).toEqual(anchorFilesBefore);
    const status = await client.getRun('full');
    expect(status.nodes.find((n) => n.nodeId === 't2')).toMatchObject({ relativeChunks: 0, relativeRows: 0 });
    expect(status.nodes.find((n) => n.nodeId === 't1')).toMatchObject({ relativeChunks: 4, relativeRows: 256 });

    // The node retries (its client's default: UNAVAILABLE, backoff); space comes back meanwhile.
    const joined = await client.join({ runId: 'full', nodeId: 't2', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    const retried = client.upload({ runId: 'full', nodeId: 't2', chunks: chunksOf(spaces.t2, CHUNK_ROWS), startAfterSeq: joined.lastRelativeSeq, retry: { attempts: 60, initialDelayMs: 50, maxDelayMs: 500 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(filler);
    await until(async () => (await healthStatus(agg?.address ?? '')) === 'SERVING', 15_000);
    expect(await healthStatus(healthAddress)).toBe('SERVING');
    expect(await retried).toMatchObject({ lastSeq: 3, rowsStored: 256 });
    const recovered = await (await fetch(`http://127.0.0.1:${agg.handle.metricsPort}/metrics`)).text();
    expect(recovered).toMatch(/^rlsa_aggregator_storage_full 0$/m);
    // The anchor set, sent again once there is room, is stored whole.
    expect(await client.uploadAnchorSet(anchorSet)).toMatchObject({ created: true });
    expect(readdirSync(anchorDir).sort()).toEqual([...anchorFilesBefore, anchorSet.fingerprint, `${anchorSet.fingerprint}.summary`].sort());

    const merged = await client.readMerged('full');
    const expected = meanOverSpaces(Object.values(spaces).map((s) => ({ sampleIds: s.sampleIds, values: { rows: s.sampleIds.length, cols: WIDTH, data: s.values } })));
    expect(Array.from(merged.sampleIds)).toEqual(bigIds(expected.sampleIds));
    expect(Array.from(merged.counts)).toEqual(Array.from(expected.counts));
    // The float64 mean of at most two float32 values, rounded once to float32: exact.
    expect(Array.from(merged.values.data)).toEqual(Array.from(expected.values.data, (v) => Math.fround(v)));
  }, 60_000);
});
