import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregatorClient, type AggregatorClient } from '@rlsa/client';
import { Metadata } from '@grpc/grpc-js';
import { Authenticator, loadTokensFile } from '@rlsa/aggregator';
import { runRlsa, startAggregator, type CliResult, type RunningAggregator } from './processes.ts';

/**
 * The operator's commands end to end: `rlsa pki` and `rlsa tokens` as a user types them, their files
 * read by the real aggregator (TLS, mTLS, tokens) and its health-only port asked by the image's health check.
 */
const dir = mkdtempSync(join(tmpdir(), 'rlsa-ops-cli-'));
const pki = join(dir, 'pki');
const tokensFile = join(dir, 'tokens.yaml');
const outputs: CliResult[] = [];
let nodeToken = '';
let adminToken = '';
let aggregator: RunningAggregator | undefined;
const clients: AggregatorClient[] = [];

async function rlsa(...args: string[]): Promise<CliResult> {
  const result = await runRlsa(args);
  outputs.push(result);
  if (result.code !== 0) throw new Error(`rlsa ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

beforeAll(async () => {
  await rlsa('pki', 'init', '--dir', pki, '--days', '30');
  await Promise.all([
    rlsa('pki', 'issue', '--dir', pki, '--name', 'aggregator', '--host', 'localhost,127.0.0.1'),
    rlsa('pki', 'issue', '--dir', pki, '--name', 'node-1', '--client'),
    rlsa('pki', 'issue', '--dir', pki, '--name', 'operator', '--client'),
    rlsa('tokens', 'add', 'node-1', '--file', tokensFile).then((result) => (nodeToken = result.stdout)),
  ]);
  adminToken = (await rlsa('tokens', 'add', 'operator', '--admin', '--file', tokensFile)).stdout;
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rlsa pki and rlsa tokens, as an operator runs them', () => {
  it('print no key material, and write keys and the tokens file with mode 0600', () => {
    const keys = ['ca.key', 'aggregator.key', 'node-1.key'].map((name) => readFileSync(join(pki, name), 'utf8'));
    for (const { stdout, stderr } of outputs) {
      expect(stdout + stderr).not.toMatch(/PRIVATE KEY/);
      for (const key of keys) expect(stdout + stderr).not.toContain(key.split('\n')[1]);
    }
    for (const name of ['ca.key', 'aggregator.key', 'node-1.key']) expect(statSync(join(pki, name)).mode & 0o777).toBe(0o600);
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
  });

  it('print each token once, alone on stdout, and store only its hash, in the format the aggregator reads', () => {
    expect(nodeToken).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(readFileSync(tokensFile, 'utf8')).not.toContain(nodeToken.trim());
    const authenticator = new Authenticator(loadTokensFile(tokensFile));
    const as = (token: string): Metadata => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return metadata;
    };
    expect(authenticator.authenticate(as(nodeToken.trim()))).toMatchObject({ subject: 'node-1', grants: [{ kind: 'run', role: 'node', runId: '*' }] });
    expect(authenticator.authenticate(as(adminToken.trim()))).toMatchObject({ subject: 'operator', grants: [{ kind: 'admin' }] });
  });

  it('are what the aggregator needs for mTLS with tokens; its health port answers the image health check', async () => {
    aggregator = await startAggregator([
      '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--health-port', '0',
      '--tls-cert', join(pki, 'aggregator.crt'), '--tls-key', join(pki, 'aggregator.key'),
      '--client-ca', join(pki, 'ca.crt'), '--tokens-file', tokensFile,
    ]);
    const tlsOf = (name: string) => ({ ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, `${name}.crt`)), key: readFileSync(join(pki, `${name}.key`)) });
    const connect = (token: string, certificate = 'node-1'): AggregatorClient => {
      const client = createAggregatorClient({ address: `localhost:${aggregator?.port}`, token, tls: tlsOf(certificate) });
      clients.push(client);
      return client;
    };
    expect(await connect(adminToken.trim(), 'operator').listRuns()).toEqual([]);
    await expect(connect('not-a-token').listRuns()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(connect(nodeToken.trim()).listRuns()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    // Under mTLS a token is bound to its subject's certificate (CN): the admin token with node-1's certificate is refused.
    await expect(connect(adminToken.trim(), 'node-1').listRuns()).rejects.toMatchObject({ code: 'PERMISSION_DENIED', details: expect.stringContaining('CN = operator') });

    const healthPort = aggregator.listening.healthPort;
    expect(healthPort).toBeGreaterThan(0);
    const check = execFileSync(process.execPath, [join(import.meta.dirname, '..', 'docker', 'healthcheck.mjs'), 'aggregator'], {
      env: { ...process.env, RLSA_HEALTH_PORT: String(healthPort) },
      encoding: 'utf8',
    });
    expect(check.trim()).toBe('SERVING');
    expect(await aggregator.stop()).toBe(0);
  }, 120_000);
});
