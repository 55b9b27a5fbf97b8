import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startAggregator } from '../../src/index.ts';
import { LOCK_FILE } from '../../src/data-dir-lock.ts';
import { makeTestPki } from '../certificates.ts';
import { FINGERPRINT, builtinAnchors, idColumn, range, startTestAggregator, tempDir } from '../helpers.ts';
import { CLI, spawnNode } from '../process-helpers.ts';
import { rawAggregatorClient, rawUpload } from '../raw-client.ts';

/**
 * Issue 13 item 6 (its parts outside access): one aggregator per data dir (a second is refused, a
 * SIGKILL leaves no stale lock), ids bounded with messages and log lines quoting a prefix only,
 * and TLS material checked at start (garbage refused in one line, exit status 2).
 */
const MEGABYTE_ID = 'n'.repeat(1024 * 1024);

/** A pino logger writing into `lines`. */
function capturingLogger(lines: string[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

/** Runs the CLI to its exit: its status and stderr. */
async function cliExit(args: string[]): Promise<{ code: number | null; err: string }> {
  const spawned = spawnNode([CLI, ...args]);
  let err = '';
  spawned.child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const { code } = await spawned.exited;
  return { code, err };
}

describe('start-up checks and bounded ids', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('a second aggregator on the same data dir is refused (in the process and from another one), and the dir is free again after a stop', async () => {
    const dataDir = join(temp.dir, 'locked');
    const first = await startTestAggregator({ dataDir });
    try {
      await expect(startAggregator({ dataDir, port: 0, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({
        code: 'failed_precondition',
        message: expect.stringContaining(`data dir ${dataDir} is in use by another aggregator`),
      });
      const other = await cliExit(['aggregator', '--data-dir', dataDir, '--port', '0']);
      expect(other.code).toBe(2);
      expect(other.err.trim().split('\n')).toHaveLength(1);
      expect(other.err).toContain(`is in use by another aggregator (it holds ${join(dataDir, LOCK_FILE)})`);
      // The first one still serves.
      expect(await first.client().listRuns()).toEqual([]);
    } finally {
      await first.stop();
    }
    const again = await startTestAggregator({ dataDir });
    await again.stop();
  });

  it('a SIGKILLed aggregator leaves no stale lock: a new one starts on its data dir at once', async () => {
    const dataDir = join(temp.dir, 'killed');
    const started = (): ReturnType<typeof spawnNode> => spawnNode([CLI, 'aggregator', '--data-dir', dataDir, '--port', '0', '--log-level', 'info']);
    const first = started();
    await first.waitFor(/"msg":"aggregator listening"/);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = started();
    try {
      await second.waitFor(/"msg":"aggregator listening"/, 30_000);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('a 1 MB id is INVALID_ARGUMENT on every method that takes one, quoted by a short prefix, in short log lines', async () => {
    const lines: string[] = [];
    const agg = await startTestAggregator({ dataDir: join(temp.dir, 'ids'), logger: capturingLogger(lines) });
    const raw = rawAggregatorClient(agg.address);
    try {
      const client = agg.client();
      await client.createRun({ runId: 'r', anchors: builtinAnchors(range(0, 2)) });
      const long = `id of ${MEGABYTE_ID.length} characters is longer than 128: "${'n'.repeat(64)}"… (${MEGABYTE_ID.length} characters)`;
      const refusals = [
        client.join({ runId: 'r', nodeId: MEGABYTE_ID, role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 2 }, anchorFingerprint: FINGERPRINT, relativeWidth: 2 }),
        client.join({ runId: MEGABYTE_ID, nodeId: 't', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 2 }, anchorFingerprint: FINGERPRINT, relativeWidth: 2 }),
        client.join({ runId: 'r', nodeId: 't', role: 'trainer', taskId: MEGABYTE_ID, model: { architecture: 'mlp', embeddingWidth: 2 }, anchorFingerprint: FINGERPRINT, relativeWidth: 2 }),
        client.readMerged(MEGABYTE_ID),
        client.readNodeSpace('r', MEGABYTE_ID),
        client.evaluate(MEGABYTE_ID),
        client.nearest(MEGABYTE_ID, { sampleId: 1n }, 1),
        client.finish('r', MEGABYTE_ID),
        client.getRun(MEGABYTE_ID),
        client.createRun({ runId: MEGABYTE_ID, anchors: builtinAnchors(range(0, 2)) }),
      ];
      for (const refusal of refusals) {
        const error = await refusal.then(
          () => undefined,
          (e: unknown) => e as { code: string; message: string },
        );
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(long) });
        expect((error as { message: string }).message.length).toBeLessThan(400);
      }
      // On a stream: the upload's first chunk.
      const upload = await rawUpload(raw, [{ runId: 'r', nodeId: MEGABYTE_ID, seq: 0n, sampleIds: idColumn([1]), values: { rows: 1, cols: 2, encoding: 1, data: new Uint8Array(8) } }]);
      expect(upload.code).toBe(status.INVALID_ARGUMENT);
      expect(upload.details).toContain(`node_${long}`);
      // WatchRun, on a raw call (the client retries nothing here, but reads the first status).
      const watch = (raw['watchRun'] as (req: unknown, md: Metadata) => NodeJS.EventEmitter)({ runId: MEGABYTE_ID }, new Metadata());
      const watchError = await new Promise<ServiceError>((resolve) => watch.on('error', resolve));
      expect(watchError.code).toBe(status.INVALID_ARGUMENT);
      // Nothing was created under those ids.
      expect((await client.listRuns()).map((r) => r.config.runId)).toEqual(['r']);
      expect((await client.getRun('r')).nodes).toEqual([]);
    } finally {
      raw.close();
      await agg.stop();
    }
    // Every log line stays short (the id is quoted by its prefix only).
    expect(lines.length).toBeGreaterThan(0);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(2048);
  });

  it('TLS material that is garbage, or a key of another certificate, is refused at start in one line with exit status 2', async () => {
    const pki = makeTestPki(temp.dir);
    const file = (name: string, content: Buffer | string): string => {
      const path = join(temp.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const cert = file('server.pem', pki.serverCert);
    const key = file('server-key.pem', pki.serverKey);
    const garbage = file('garbage.pem', 'not a certificate at all\n');
    const brokenPem = file('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const otherKey = file('other-key.pem', pki.clientKey);
    const base = ['aggregator', '--data-dir', join(temp.dir, 'tls-data'), '--port', '0'];
    const cases: { args: string[]; says: RegExp }[] = [
      { args: ['--tls-cert', cert, '--tls-key', key, '--client-ca', garbage], says: new RegExp(`--client-ca ${garbage} holds no PEM certificate`) },
      { args: ['--tls-cert', cert, '--tls-key', key, '--client-ca', brokenPem], says: new RegExp(`--client-ca ${brokenPem}: certificate 1 does not parse`) },
      { args: ['--tls-cert', garbage, '--tls-key', key], says: new RegExp(`--tls-cert ${garbage} holds no PEM certificate`) },
      { args: ['--tls-cert', cert, '--tls-key', garbage], says: new RegExp(`--tls-key ${garbage} is not a PEM private key`) },
      { args: ['--tls-cert', cert, '--tls-key', otherKey], says: new RegExp(`--tls-key ${otherKey} is not the private key of --tls-cert ${cert}`) },
    ];
    const results = await Promise.all(cases.map(({ args }) => cliExit([...base, ...args])));
    results.forEach((result, i) => {
      expect(result.code, cases[i]?.says.source).toBe(2);
      expect(result.err.trim().split('\n')).toHaveLength(1);
      expect(result.err).toMatch(cases[i]?.says as RegExp);
    });
    // Through the API: the same check, naming the flags.
    await expect(startAggregator({ dataDir: join(temp.dir, 'tls-api'), port: 0, logger: pino({ level: 'silent' }), tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: Buffer.from('junk') } })).rejects.toMatchObject({
      code: 'failed_precondition',
      message: '--client-ca holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    });
  });
});
