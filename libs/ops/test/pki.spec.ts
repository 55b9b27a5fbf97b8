import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, issueCertificate, OpsError } from '../src/index.ts';

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const mode = (path: string): number => statSync(path).mode & 0o777;

let dir: string;
let otherDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlsa-pki-test-'));
  otherDir = mkdtempSync(join(tmpdir(), 'rlsa-pki-other-'));
  await initCa(dir, { days: 30 });
  await initCa(otherDir, { days: 30, commonName: 'Someone else' });
  await issueCertificate(dir, 'aggregator', { hosts: ['aggregator', 'localhost', '10.231.0.1', '::1'] });
  await issueCertificate(dir, 'node-1', { client: true });
  await issueCertificate(otherDir, 'node-1', { client: true });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(otherDir, { recursive: true, force: true });
});

describe('rlsa pki init', () => {
  it('creates a CA certificate with CA:TRUE and a private key of mode 0600', () => {
    expect(mode(join(dir, 'ca.key'))).toBe(0o600);
    const text = openssl('x509', '-in', join(dir, 'ca.crt'), '-noout', '-text');
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Subject: CN ?= ?RLSA CA/);
  });

  it('refuses to replace an existing CA', async () => {
    await expect(initCa(dir)).rejects.toMatchObject({ code: 'already_exists' });
  });
});

describe('rlsa pki issue', () => {
  it('issues a server certificate that verifies against the CA, with every --host as a SAN', async () => {
    const cert = join(dir, 'aggregator.crt');
    expect(openssl('verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', cert).trim()).toBe(`${cert}: OK`);
    const san = openssl('x509', '-in', cert, '-noout', '-ext', 'subjectAltName');
    expect(san).toContain('DNS:aggregator');
    expect(san).toContain('DNS:localhost');
    expect(san).toContain('IP Address:10.231.0.1');
    expect(san).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(mode(join(dir, 'aggregator.key'))).toBe(0o600);
  });

  it('issues a client certificate with CN = node id, good for client auth only', () => {
    const cert = join(dir, 'node-1.crt');
    expect(openssl('verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', cert).trim()).toBe(`${cert}: OK`);
    expect(() => openssl('verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', cert)).toThrow();
    expect(openssl('x509', '-in', cert, '-noout', '-subject').trim()).toMatch(/CN ?= ?node-1$/);
    expect(mode(join(dir, 'node-1.key'))).toBe(0o600);
  });

  it('never outlives the CA (30 days here, 825 asked)', () => {
    const end = (name: string): number => Date.parse(openssl('x509', '-in', join(dir, name), '-noout', '-enddate').trim().replace('notAfter=', ''));
    expect(end('aggregator.crt')).toBeLessThanOrEqual(end('ca.crt'));
    expect(end('aggregator.crt')).toBeGreaterThan(end('ca.crt') - 2 * 86_400_000);
  });

  it('pairs each certificate with its own key', () => {
    for (const name of ['aggregator', 'node-1']) {
      const fromCert = openssl('x509', '-in', join(dir, `${name}.crt`), '-noout', '-pubkey');
      const fromKey = openssl('pkey', '-in', join(dir, `${name}.key`), '-pubout');
      expect(fromCert).toBe(fromKey);
    }
  });

  it('a certificate from another CA does not verify against ours', () => {
    expect(() => openssl('verify', '-CAfile', join(dir, 'ca.crt'), join(otherDir, 'node-1.crt'))).toThrow();
  });

  it('completes a mutual TLS handshake with its certificates, and fails it with a foreign client certificate', async () => {
    const ca = readFileSync(join(dir, 'ca.crt'));
    let served = 0;
    const server = createServer(
      { cert: readFileSync(join(dir, 'aggregator.crt')), key: readFileSync(join(dir, 'aggregator.key')), ca, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        served += 1;
        socket.end(`hello ${(socket as TLSSocket).getPeerCertificate().subject.CN}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const talk = (certDir: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect({
          host: '127.0.0.1', port, servername: 'localhost', ca,
          cert: readFileSync(join(certDir, 'node-1.crt')), key: readFileSync(join(certDir, 'node-1.key')),
        });
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
    try {
      expect(await talk(dir)).toBe('hello node-1');
      // TLS 1.3: the server refuses the certificate after the client's side of the handshake,
      // so the client sees an alert or a closed connection, and the server never serves it.
      expect(await talk(otherDir).catch(() => 'refused')).not.toMatch(/hello/);
      expect(served).toBe(1);
    } finally {
      server.close();
    }
  });

  it('rejects bad names and hosts, a missing CA, and a re-issue without --force', async () => {
    await expect(issueCertificate(dir, '../evil', { client: true })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(issueCertificate(dir, 'srv', { hosts: ['a b'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(issueCertificate(dir, 'srv', { hosts: ['x,DNS:evil'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(issueCertificate(dir, 'srv', {})).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(issueCertificate(dir, 'node-2', { client: true, hosts: ['x'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(issueCertificate(join(dir, 'nowhere'), 'node-2', { client: true })).rejects.toMatchObject({ code: 'not_found' });
    await expect(issueCertificate(dir, 'node-1', { client: true })).rejects.toBeInstanceOf(OpsError);
    const before = readFileSync(join(dir, 'node-1.crt'), 'utf8');
    await issueCertificate(dir, 'node-1', { client: true, force: true });
    expect(readFileSync(join(dir, 'node-1.crt'), 'utf8')).not.toBe(before);
  });
});
