import { connect } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/index.ts';
import { tempDir } from '../helpers.ts';
import { startAggregatorProcess } from './aggregator-process.ts';
import type { AggregatorProcess } from './aggregator-process.ts';

const MiB = 1024 * 1024;
/** What each call announces: a message just under the aggregator's 64 MiB receive limit. */
const ANNOUNCED_BYTES = 64 * MiB - 1;
/** What each refused call then sends of it, and how many such calls. */
const SENT_PER_CALL = 32 * MiB;
const REFUSED_CALLS = 8;
/** The control: two authenticated calls send this much each of the same message (which the server must buffer to parse). */
const CONTROL_SENT = 48 * MiB;
const NODE_TOKEN = 'metadata-auth-node-token';

interface Flood {
  /** grpc-status of the answer (headers of a trailers-only response, or trailers); undefined when none came. */
  status: string | undefined;
  /** Bytes of the message body the client managed to write. */
  sent: number;
  /** Whether the answer came before the client had written everything it meant to. */
  answeredEarly: boolean;
  /** Ends the call from the client side (RST_STREAM CANCEL). */
  cancel(): void;
}

/**
 * One unary call made by hand over HTTP/2: headers (with `authorization` when given), a gRPC message
 * prefix announcing ANNOUNCED_BYTES, then `bytes` of the body in 1 MiB DATA writes (each after the
 * last was flushed: HTTP/2 flow control), and never the end of the message or of the stream.
 */
async function flood(session: ClientHttp2Session, bytes: number, token?: string): Promise<Flood> {
  const headers = {
    ':method': 'POST',
    ':path': '/rlsa.v2.AggregatorService/Join',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  const stream = session.request(headers, { endStream: false });
  let status: string | undefined;
  const note = (h: IncomingHttpHeaders): void => {
    const value = h['grpc-status'];
    if (typeof value === 'string') status ??= value;
  };
  stream.on('response', note);
  stream.on('trailers', note);
  stream.on('error', () => {});
  stream.resume();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(ANNOUNCED_BYTES, 1);
  const piece = Buffer.alloc(MiB, 7);
  let sent = 0;
  let answeredEarly = false;
  const write = (data: Buffer): Promise<boolean> =>
    new Promise((resolve) => {
      if (stream.closed || stream.destroyed) return resolve(false);
      const onClose = (): void => resolve(false);
      stream.once('close', onClose);
      stream.write(data, (error) => {
        stream.off('close', onClose);
        resolve(error === undefined || error === null);
      });
    });
  await write(prefix);
  while (sent < bytes) {
    if (status !== undefined) answeredEarly = true;
    if (!(await write(piece))) break;
    sent += piece.length;
  }
  // Give an answer that is on its way a moment to arrive.
  for (let i = 0; i < 50 && status === undefined && !stream.closed; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return { status, sent, answeredEarly, cancel: () => stream.close() };
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('authentication before the message is read (issue 13 item 1)', () => {
  const temp = tempDir('rlsa-metadata-auth-');
  let aggregator: AggregatorProcess;

  beforeAll(async () => {
    const tokensFile = join(temp.dir, 'tokens.yaml');
    writeFileSync(tokensFile, `tokens:\n  - { subject: node-1, sha256: "${hashToken(NODE_TOKEN)}", grants: ["node:r"] }\n`);
    aggregator = await startAggregatorProcess(['--data-dir', join(temp.dir, 'data'), '--tokens-file', tokensFile]);
  }, 120_000);
  afterAll(async () => {
    await aggregator?.stop();
    temp.remove();
  });

  // First, on the fresh process: memory freed by earlier calls would hide growth (the allocator reuses it).
  it('the measure sees an authenticated call buffer the message it announces (the control)', async () => {
    const session = connect(`http://${aggregator.address}`);
    try {
      await settle(300);
      const before = aggregator.rssBytes();
      const calls = [await flood(session, CONTROL_SENT, NODE_TOKEN), await flood(session, CONTROL_SENT, NODE_TOKEN)];
      await settle(300);
      const grown = aggregator.rssBytes() - before;
      console.log(JSON.stringify({ controlSentMiB: (2 * CONTROL_SENT) / MiB, rssGrowthMiB: +(grown / MiB).toFixed(1) }));
      for (const call of calls) {
        expect(call.status).toBeUndefined();
        expect(call.sent).toBe(CONTROL_SENT);
        call.cancel();
      }
      expect(grown).toBeGreaterThan(CONTROL_SENT);
    } finally {
      session.close();
    }
  }, 180_000);
  it('answers a call without a valid token UNAUTHENTICATED from its headers and does not buffer the message it announces', async () => {
    const session = connect(`http://${aggregator.address}`);
    try {
      // Warm up (the first calls grow the heap a little whatever they carry), then measure.
      const warm = await flood(session, MiB);
      warm.cancel();
      await settle(300);
      const before = aggregator.rssBytes();
      const refused: Flood[] = [];
      for (let i = 0; i < REFUSED_CALLS; i++) refused.push(await flood(session, SENT_PER_CALL, i % 2 === 0 ? undefined : 'not-a-token'));
      await settle(300);
      const grown = aggregator.rssBytes() - before;
      const sent = refused.reduce((sum, call) => sum + call.sent, 0);
      console.log(JSON.stringify({ refusedCalls: REFUSED_CALLS, sentMiB: sent / MiB, rssGrowthMiB: +(grown / MiB).toFixed(1) }));
      for (const call of refused) {
        expect(call.status).toBe('16'); // UNAUTHENTICATED
        expect(call.answeredEarly).toBe(true);
        call.cancel();
      }
      // Generous: the server keeps none of what was sent (a buffered message would be ≥ 32 MiB per call).
      expect(grown).toBeLessThan(48 * MiB);
      expect(grown).toBeLessThan(sent / 4);
    } finally {
      session.close();
    }
  }, 180_000);
});
