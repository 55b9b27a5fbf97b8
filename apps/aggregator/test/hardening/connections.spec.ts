import { readFileSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth.ts';
import { LEGACY_ROLE_GRANTS } from '@rlsa/core';
import { builtinAnchors, range, startTestAggregator, tempDir } from '../helpers.ts';
import { CLI, spawnNode } from '../process-helpers.ts';

/**
 * Connections and streams (issue 13 item 1, besides authentication), on real gRPC with raw sockets
 * and node:http2: half-open connections closed within the preface bound, a request message that
 * never completes reset within the message bound and its memory released, streams per connection
 * and calls per principal bounded, idle connections closed.
 */

/** Resident memory of process `pid`, in MB (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number((line ?? '0').replace(/\D+/g, '')) / 1024;
}

/** A gRPC message prefix announcing `bytes` bytes (uncompressed). */
function messagePrefix(bytes: number): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes, 1);
  return prefix;
}

/** A raw HTTP/2 request of `path` with gRPC headers (optionally a bearer token). */
function grpcRequest(session: ClientHttp2Session, path: string, token?: string): ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('connections and streams', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('3,000 connections that never finish the HTTP/2 preface are closed within the bound, while a real client is served', async () => {
    const prefaceTimeoutMs = 1_000;
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'preface'), limits: { prefaceTimeoutMs } });
    const sockets: Socket[] = [];
    try {
      const closedAfter: number[] = [];
      // In batches, each connected before the next (the listen backlog would delay some SYNs by seconds).
      for (let batch = 0; batch < 6; batch += 1) {
        const connected: Promise<void>[] = [];
        for (let i = 0; i < 500; i += 1) {
          const socket = createConnection({ host: '127.0.0.1', port: agg.handle.port });
          let connectedAt = Date.now();
          connected.push(new Promise((resolve) => socket.once('connect', () => resolve())));
          socket.once('connect', () => {
            connectedAt = Date.now();
            // Half of them start the preface and stop; the others send nothing at all.
            if (i % 2 === 0) socket.write('PRI * HTTP/2.0\r\n');
          });
          socket.on('error', () => {});
          // Reading, so that the server's FIN is seen.
          socket.resume();
          socket.on('close', () => closedAfter.push(Date.now() - connectedAt));
          sockets.push(socket);
        }
        await Promise.all(connected);
      }
      // A client that completes its preface keeps its connection and is served meanwhile.
      const client = agg.client();
      await client.createRun({ runId: 'r', anchors: builtinAnchors(range(0, 2)) });
      const deadline = Date.now() + prefaceTimeoutMs + 20_000;
      while (closedAfter.length < sockets.length && Date.now() < deadline) await sleep(100);
      expect(closedAfter).toHaveLength(3_000);
      // Each closed after the bound, and within it plus generous slack for a loaded machine.
      expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(prefaceTimeoutMs - 50);
      expect(Math.max(...closedAfter)).toBeLessThan(prefaceTimeoutMs + 15_000);
      expect(await client.listRuns()).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await agg.stop();
    }
  });

  it('a request message that never completes is reset within the bound, and the memory it took is reused (RSS flat over rounds)', async () => {
    const aggregator = spawnNode([CLI, 'aggregator', '--data-dir', join(temp.dir, 'message'), '--port', '0', '--message-timeout-s', '2', '--log-level', 'info']);
    let client: ClientHttp2Session | undefined;
    try {
      const { port } = JSON.parse((await aggregator.waitFor(/^(\{.*"msg":"aggregator listening".*\})$/m))[1] as string) as { port: number };
      const pid = aggregator.child.pid as number;
      client = connect(`http://127.0.0.1:${port}`);
      const before = rssMb(pid);
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const rounds: { during: number; after: number; resetAfterMs: number }[] = [];
      // Each round: 20 calls announce 64 MiB each, send 16 MB (320 MB in all), and stop. Without
      // the timeout each round's buffers would stay held: 4 rounds, 1.3 GB.
      for (let round = 0; round < 4; round += 1) {
        const streams = Array.from({ length: 20 }, () => grpcRequest(client as ClientHttp2Session, '/rlsa.v2.AggregatorService/Evaluate'));
        const resets = streams.map((stream) => new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1))));
        const sent = Date.now();
        for (const stream of streams) {
          stream.on('error', () => {});
          stream.write(messagePrefix(64 * 1024 * 1024 - 1));
          for (let i = 0; i < 16; i += 1) stream.write(chunk);
        }
        await sleep(1_000);
        const during = rssMb(pid);
        const codes = await Promise.all(resets);
        const resetAfterMs = Date.now() - sent;
        // Reset by the server (ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED to a gRPC client), not long after the bound.
        expect(codes.every((code) => code === constants.NGHTTP2_ENHANCE_YOUR_CALM)).toBe(true);
        expect(resetAfterMs).toBeLessThan(2_000 + 15_000);
        await sleep(500);
        rounds.push({ during, after: rssMb(pid), resetAfterMs });
      }
      console.log(`incomplete messages: RSS ${before.toFixed(0)} MB before; per round (MB during, after, ms to reset): ${rounds.map((r) => `${r.during.toFixed(0)}/${r.after.toFixed(0)}/${r.resetAfterMs}`).join(', ')}`);
      // The memory of a round is reused by the next: the growth stays below two rounds' worth.
      const last = rounds[rounds.length - 1] as { after: number };
      expect(last.after - before).toBeLessThan(2 * 320);
    } finally {
      client?.destroy();
      aggregator.child.kill('SIGTERM');
      await aggregator.exited;
    }
  }, 120_000);

  it('streams over the per-connection bound are refused, and calls over the per-principal bound are RESOURCE_EXHAUSTED until one ends', async () => {
    const tokens = [{ subject: 'n1', grants: LEGACY_ROLE_GRANTS.node, sha256: hashToken('token-n1') }, { subject: 'ops', grants: LEGACY_ROLE_GRANTS.admin, sha256: hashToken('token-ops') }];
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'streams'), tokens, limits: { maxStreamsPerConnection: 4, maxCallsPerPrincipal: 3 } });
    const session = connect(`http://127.0.0.1:${agg.handle.port}`);
    const settings = new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    try {
      await agg.client({ token: 'token-ops' }).createRun({ runId: 'r', anchors: builtinAnchors(range(0, 2)) });
      await settings;
      expect(session.remoteSettings.maxConcurrentStreams).toBe(4);
      // Four WatchRun streams of n1's token would be 4 calls; the principal may hold 3.
      const watchRequest = Buffer.concat([messagePrefix(3), Buffer.from([0x0a, 0x01, 0x72])]); // WatchRunRequest { run_id: "r" }
      const statusOf = (stream: ClientHttp2Stream): Promise<string | undefined> =>
        new Promise((resolve) => {
          stream.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
          stream.on('response', (headers) => {
            if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
          });
          stream.on('close', () => resolve(undefined));
          stream.on('error', () => resolve(undefined));
        });
      const watches = Array.from({ length: 3 }, () => grpcRequest(session, '/rlsa.v2.AggregatorService/WatchRun', 'token-n1'));
      for (const w of watches) w.end(watchRequest);
      await Promise.all(watches.map((w) => new Promise((resolve) => w.once('data', resolve))));
      const fourth = grpcRequest(session, '/rlsa.v2.AggregatorService/WatchRun', 'token-n1');
      fourth.end(watchRequest);
      expect(await statusOf(fourth)).toBe('8'); // RESOURCE_EXHAUSTED
      // Another principal is not affected.
      expect(await agg.client({ token: 'token-ops' }).listRuns()).toHaveLength(1);
      // A fifth stream on this connection while four are open: refused by HTTP/2 (REFUSED_STREAM or the client's own limit).
      const opened = [...watches, grpcRequest(session, '/rlsa.v2.AggregatorService/WatchRun', 'token-ops')];
      (opened[3] as ClientHttp2Stream).end(watchRequest);
      await new Promise((resolve) => (opened[3] as ClientHttp2Stream).once('data', resolve));
      const fifth = grpcRequest(session, '/rlsa.v2.AggregatorService/WatchRun', 'token-ops');
      fifth.end(watchRequest);
      const fifthOutcome = await new Promise<string>((resolve) => {
        fifth.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        fifth.on('data', () => resolve('served'));
        setTimeout(() => resolve('waiting'), 1_000);
      });
      expect(fifthOutcome).not.toBe('served');
      fifth.close();
      // One of n1's watches ends: n1 may call again.
      (watches[0] as ClientHttp2Stream).close();
      await sleep(200);
      const again = grpcRequest(session, '/rlsa.v2.AggregatorService/WatchRun', 'token-n1');
      again.end(watchRequest);
      await new Promise((resolve) => again.once('data', resolve));
      again.close();
    } finally {
      session.destroy();
      await agg.stop();
    }
  });

  it('a connection without calls is closed after the idle bound (GOAWAY)', async () => {
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'idle'), limits: { idleConnectionMs: 500 } });
    const session = connect(`http://127.0.0.1:${agg.handle.port}`);
    try {
      const started = Date.now();
      const closed = await new Promise<number>((resolve) => {
        session.on('goaway', () => resolve(Date.now() - started));
        session.on('close', () => resolve(Date.now() - started));
        session.on('error', () => {});
      });
      expect(closed).toBeGreaterThanOrEqual(400);
      expect(closed).toBeLessThan(10_000);
    } finally {
      session.destroy();
      await agg.stop();
    }
  });
});
