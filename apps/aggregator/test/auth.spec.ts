import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { createAggregatorClient } from '@rlsa/client';
import { LEGACY_ROLE_GRANTS } from '@rlsa/core';
import type { AggregatorClient } from '@rlsa/client';
import { service as healthService } from 'grpc-health-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, loadTokensFile, startAggregator } from '../src/index.ts';
import { makeTestPki } from './certificates.ts';
import type { TestPki } from './certificates.ts';
import { FINGERPRINT, builtinAnchors, chunksOf, range, startTestAggregator, tempDir, testSpace } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';

const WIDTH = 4;
const TOKENS = { 'node-1': 'token-node-1-secret', 'node-2': 'token-node-2-secret', ops: 'token-admin-secret' };
const join4 = (nodeId: string) => ({
  runId: 'r',
  nodeId,
  role: 'trainer' as const,
  model: { architecture: 'mlp', embeddingWidth: 8 },
  anchorFingerprint: FINGERPRINT,
  relativeWidth: WIDTH,
});

function healthCheck(address: string): Promise<unknown> {
  const Ctor = makeGenericClientConstructor(healthService, 'Health');
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, (...a: unknown[]) => void>;
  return new Promise((resolve, reject) => {
    (client['check'] as (...a: unknown[]) => void)({ service: 'rlsa.v2.AggregatorService' }, new Metadata(), (error: ServiceError | null, response: unknown) => {
      client.close();
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

/** One ServerReflectionInfo exchange with a hand-encoded request (the reflection package ships no client). */
function reflect(address: string, request: Buffer): Promise<Buffer> {
  const identity = (b: Buffer) => b;
  const Ctor = makeGenericClientConstructor(
    {
      info: {
        path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    'ServerReflection',
  );
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, (...a: unknown[]) => NodeJS.ReadWriteStream>;
  return new Promise((resolve, reject) => {
    const call = (client['info'] as (m: Metadata) => NodeJS.ReadWriteStream)(new Metadata());
    call.on('data', (response: Buffer) => {
      resolve(response);
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write(request);
  });
}

/** Encodes a protobuf string field. */
function stringField(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

describe('bearer tokens', () => {
  let agg: TestAggregator;
  const temp = tempDir();
  const clientOf = (token?: string): AggregatorClient => agg.client(token === undefined ? {} : { token });

  beforeAll(async () => {
    const file = join(temp.dir, 'tokens.yaml');
    writeFileSync(
      file,
      `tokens:\n${Object.entries(TOKENS)
        .map(([subject, token]) => `  - subject: ${subject}\n    role: ${subject === 'ops' ? 'admin' : 'node'}\n    sha256: ${hashToken(token)}\n`)
        .join('')}`,
    );
    agg = await startTestAggregator({ tokens: loadTokensFile(file) });
    await clientOf(TOKENS.ops).createRun({ runId: 'r', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
  });
  afterAll(async () => {
    await agg?.stop();
    temp.remove();
  });

  it('missing or unknown token: UNAUTHENTICATED', async () => {
    await expect(clientOf().join(join4('node-1'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(clientOf('wrong').join(join4('node-1'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(clientOf().readMerged('r')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(clientOf('wrong').upload({ runId: 'r', nodeId: 'node-1', chunks: chunksOf(testSpace([1], WIDTH, 1), 1) })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('a node acting as another: PERMISSION_DENIED, nothing stored', async () => {
    await expect(clientOf(TOKENS['node-1']).join(join4('node-2'))).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await clientOf(TOKENS['node-2']).join(join4('node-2'));
    await expect(
      clientOf(TOKENS['node-1']).upload({ runId: 'r', nodeId: 'node-2', chunks: chunksOf(testSpace([1, 2], WIDTH, 1), 1) }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(clientOf(TOKENS['node-1']).finish('r', 'node-2')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const run = await clientOf(TOKENS.ops).getRun('r');
    expect(run.nodes.map((n) => [n.nodeId, n.relativeRows, n.finished])).toEqual([['node-2', 0, false]]);
  });

  it('a node writes as itself and reads the merged space; admin methods and ReadNodeSpace need the admin token', async () => {
    const node = clientOf(TOKENS['node-1']);
    await node.join(join4('node-1'));
    const result = await node.upload({ runId: 'r', nodeId: 'node-1', chunks: chunksOf(testSpace([1, 2, 3], WIDTH, 1), 2) });
    expect(result.rowsStored).toBe(3);
    expect((await node.readMerged('r')).sampleIds.length).toBe(3);
    await expect(node.createRun({ runId: 'x', anchors: builtinAnchors([1], FINGERPRINT) })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(node.listRuns()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(node.readNodeSpace('r', 'node-1')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await clientOf(TOKENS.ops).readNodeSpace('r', 'node-1')).sampleIds.length).toBe(3);
  });

  it('tokens can be replaced while running (rotation): the old token stops working, the new one works', async () => {
    agg.handle.reloadTokens([
      { subject: 'node-1', grants: LEGACY_ROLE_GRANTS.node, sha256: hashToken('rotated-node-1') },
      { subject: 'ops', grants: LEGACY_ROLE_GRANTS.admin, sha256: hashToken(TOKENS.ops) },
    ]);
    try {
      await expect(clientOf(TOKENS['node-1']).join(join4('node-1'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect((await clientOf('rotated-node-1').join(join4('node-1'))).lastRelativeSeq).toBe(1);
    } finally {
      agg.handle.reloadTokens(
        Object.entries(TOKENS).map(([subject, token]) => ({ subject, grants: LEGACY_ROLE_GRANTS[subject === 'ops' ? 'admin' : 'node'], sha256: hashToken(token) })),
      );
    }
  });

  it('health and reflection answer without a token', async () => {
    expect(await healthCheck(agg.address)).toMatchObject({ status: 'SERVING' });
    const services = await reflect(agg.address, stringField(7, ''));
    expect(services.toString('latin1')).toContain('rlsa.v2.AggregatorService');
    expect(services.toString('latin1')).toContain('rlsa.v2.AdminService');
    const file = await reflect(agg.address, stringField(4, 'rlsa.v2.AggregatorService'));
    expect(file.toString('latin1')).toContain('rlsa/v2/aggregator.proto');
    expect(file.toString('latin1')).toContain('UploadChunk');
  });
});

describe('TLS and mTLS', () => {
  const temp = tempDir();
  let pki: TestPki;
  let agg: TestAggregator;
  const tlsClient = (tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }) =>
    createAggregatorClient({ address: `localhost:${agg.handle.port}`, tls, channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } });

  beforeAll(async () => {
    pki = makeTestPki(temp.dir);
    agg = await startTestAggregator({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca } });
  });
  afterAll(async () => {
    await agg?.stop();
    temp.remove();
  });

  it('accepts a client certificate from the client CA', async () => {
    const client = tlsClient({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    const run = await client.createRun({ runId: 'tls', anchors: builtinAnchors([1, 2], FINGERPRINT) });
    expect(run.config.runId).toBe('tls');
    client.close();
  });

  it('refuses a client without a certificate or with one from another CA, and a plaintext client', async () => {
    for (const tls of [{ ca: pki.ca }, { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey }]) {
      const client = tlsClient(tls);
      await expect(client.listRuns({ timeoutMs: 5000 })).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
      client.close();
    }
    const plain = createAggregatorClient({ address: `127.0.0.1:${agg.handle.port}` });
    await expect(plain.listRuns({ timeoutMs: 5000 })).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
    plain.close();
  });

  it('a client that does not trust the server CA fails', async () => {
    const client = tlsClient({ ca: pki.strangerCert, cert: pki.clientCert, key: pki.clientKey });
    await expect(client.listRuns({ timeoutMs: 5000 })).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
    client.close();
  });
});

describe('mTLS with tokens: a token is bound to the certificate of its subject (CN)', () => {
  const temp = tempDir();
  let pki: TestPki;
  let agg: TestAggregator;
  const as = (token: string) =>
    createAggregatorClient({
      address: `localhost:${agg.handle.port}`,
      token,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });

  beforeAll(async () => {
    pki = makeTestPki(temp.dir); // the client certificate's CN is node-1
    const tokens = [
      { subject: 'node-1', sha256: hashToken(TOKENS['node-1']), grants: LEGACY_ROLE_GRANTS.node },
      { subject: 'node-2', sha256: hashToken(TOKENS['node-2']), grants: LEGACY_ROLE_GRANTS.node },
      { subject: 'ops', sha256: hashToken(TOKENS.ops), grants: LEGACY_ROLE_GRANTS.admin },
    ];
    agg = await startTestAggregator({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca }, tokens });
  });
  afterAll(async () => {
    await agg?.stop();
    temp.remove();
  });

  it("accepts node-1's token with node-1's certificate, refuses another subject's token with it (a stolen token)", async () => {
    const own = as(TOKENS['node-1']);
    await expect(own.join({ ...join4('node-1'), runId: 'none' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    for (const token of [TOKENS['node-2'], TOKENS.ops]) {
      const stolen = as(token);
      await expect(stolen.join({ ...join4('node-2'), runId: 'none' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', details: expect.stringContaining('CN = ') });
      await expect(stolen.createRun({ runId: 'stolen', anchors: builtinAnchors([1], FINGERPRINT) })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      stolen.close();
    }
    own.close();
  });
});

describe('plaintext off loopback', () => {
  it('is refused without --insecure', async () => {
    const temp = tempDir();
    await expect(startAggregator({ dataDir: temp.dir, host: '0.0.0.0', port: 0, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({
      code: 'failed_precondition',
      message: expect.stringContaining('--insecure'),
    });
    const handle = await startAggregator({ dataDir: temp.dir, host: '0.0.0.0', port: 0, insecure: true, logger: pino({ level: 'silent' }) });
    expect(handle.port).toBeGreaterThan(0);
    await handle.shutdown(1000);
    temp.remove();
  });
});
