import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, initCa, issueCertificate } from '@rlsa/ops';
import { buildProgram } from '@rlsa/cli/program';
import { runFileText } from '../scripts/make-run-file.ts';
import { createTestNetwork, listNetns, netnsUnavailableReason, type TestNetwork } from './netns.ts';
import { runRlsa, startAggregator, type CliResult, type RunningAggregator } from './processes.ts';

/**
 * The deployment on separate hosts: the aggregator and each trainer node in a Linux network namespace
 * of its own, each with its own address (10.231.0.x, veth pairs on a bridge in a hub namespace), mTLS
 * and tokens on, a small synthetic run to the end; then a node without a valid client certificate or
 * token is refused. Needs root and iproute2; skips, saying why, where namespaces cannot be made.
 */
const unavailable = netnsUnavailableReason();
const trainerMissing = buildProgram().commands.some((command) => command.name() === 'trainer') ? undefined : '`rlsa trainer` is not registered';
const RUN = 'netns';
const HOSTS = ['aggregator', 'node-1', 'node-2', 'reference', 'operator', 'intruder'] as const;

let network: TestNetwork | undefined;
let aggregator: RunningAggregator | undefined;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'rlsa-netns-'));
const pki = join(dir, 'pki');
const foreignPki = join(dir, 'foreign-pki');
const tokensFile = join(dir, 'tokens.yaml');
let address = '';

/** `node --import tsx deploy/test/netns-client.ts ...` inside a host's namespace; its JSON line. */
async function clientAt(host: string, args: readonly string[]): Promise<Record<string, unknown>> {
  const child = spawn('ip', ['netns', 'exec', network?.host(host).netns ?? '', process.execPath, '--import', 'tsx', join(import.meta.dirname, 'netns-client.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`netns-client ${args[0]} at ${host} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.skipIf(unavailable !== undefined)(`separate hosts in network namespaces${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  beforeAll(async () => {
    network = createTestNetwork(HOSTS);
    address = `${network.host('aggregator').address}:50051`;
    await initCa(pki, { days: 2 });
    await initCa(foreignPki, { days: 2, commonName: 'Foreign CA' });
    await issueCertificate(pki, 'aggregator', { hosts: [network.host('aggregator').address], days: 2 });
    for (const name of ['node-1', 'node-2', 'reference', 'operator']) await issueCertificate(pki, name, { client: true, days: 2 });
    await issueCertificate(foreignPki, 'node-1', { client: true, days: 2 });
    const grants: Record<string, string[]> = { 'node-1': [`node:${RUN}`], 'node-2': [`node:${RUN}`], reference: [`reference:${RUN}`], operator: ['admin'] };
    for (const [name, granted] of Object.entries(grants)) writeFileSync(join(dir, `${name}.token`), addToken(tokensFile, name, { grants: granted }).token, { mode: 0o600 });
    writeFileSync(join(dir, 'run.yaml'), runFileText({ dataset: 'synthetic', run: RUN }));
    aggregator = await startAggregator(
      [
        '--data-dir', join(dir, 'data'), '--host', network.host('aggregator').address, '--port', '50051', '--health-port', '8081',
        '--tls-cert', join(pki, 'aggregator.crt'), '--tls-key', join(pki, 'aggregator.key'), '--client-ca', join(pki, 'ca.crt'),
        '--tokens-file', tokensFile, '--run-file', join(dir, 'run.yaml'),
      ],
      { netns: network.host('aggregator').netns },
    );
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await aggregator?.stop();
    network?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(trainerMissing !== undefined)(
    `two trainer nodes and a reference, each on its own host, run a synthetic run to the end over mTLS${trainerMissing === undefined ? '' : ` (skipped: ${trainerMissing})`}`,
    async () => {
      const trainer = (node: string, extra: readonly string[]): Promise<CliResult> =>
        runRlsa(
          [
            'trainer', '--aggregator', address, '--run', RUN, '--node-id', node, '--dataset', 'synthetic', '--model', 'mlp',
            '--scenario', 'shared-classes', '--tasks', '2', '--seed', '42', '--epochs', '1',
            '--tls-ca', join(pki, 'ca.crt'), '--tls-cert', join(pki, `${node}.crt`), '--tls-key', join(pki, `${node}.key`),
            '--token-file', join(dir, `${node}.token`), '--log-level', 'warn', ...extra,
          ],
          { netns: network?.host(node).netns ?? '' },
        );
      const results = await Promise.all([
        trainer('node-1', ['--task', '0']),
        trainer('node-2', ['--task', '1']),
        trainer('reference', ['--role', 'reference']),
      ]);
      for (const result of results) expect(result.code, result.stderr).toBe(0);

      const status = (await clientAt('operator', ['status', address, RUN, pki, join(dir, 'operator.token')])) as {
        nodes: { nodeId: string; finished: boolean; relativeRows: number }[];
        mergedSamples: number;
        width: number;
        evaluation: { scores: { subject: string; n: number; linearBiased: number }[] };
      };
      expect(status.nodes.map((node) => node.nodeId).sort()).toEqual(['node-1', 'node-2', 'reference']);
      for (const node of status.nodes) {
        expect(node.finished).toBe(true);
        expect(node.relativeRows).toBeGreaterThan(0);
      }
      expect(status.width).toBe(256);
      expect(status.mergedSamples).toBeGreaterThan(0);
      const merged = status.evaluation.scores.find((score) => score.subject === 'merged');
      expect(merged?.n).toBeGreaterThan(0);
      expect(merged?.linearBiased).toBeGreaterThan(0);
      expect(merged?.linearBiased).toBeLessThanOrEqual(1 + 1e-9);
    },
    300_000,
  );

  it('a node without a valid client certificate or token is refused', async () => {
    const refusals = await clientAt('intruder', ['refusals', address, RUN, pki, foreignPki, join(dir, 'node-1.token')]);
    expect(refusals).toEqual({
      noClientCert: 'UNAVAILABLE',
      foreignClientCert: 'UNAVAILABLE',
      plaintext: 'UNAVAILABLE',
      noToken: 'UNAUTHENTICATED',
      wrongToken: 'UNAUTHENTICATED',
      impersonation: 'PERMISSION_DENIED',
    });
    // Each refusal is a status, not a crash: the aggregator logged no error.
    expect(aggregator?.log.some((line) => line.includes('"level":50'))).toBe(false);
  }, 120_000);

  it('the health-only port answers in plaintext from another host', async () => {
    const check = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('ip', ['netns', 'exec', network?.host('operator').netns ?? '', process.execPath, '-e', HEALTH_PROBE, `${network?.host('aggregator').address}:8081`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(check).toEqual({ code: 0, out: 'SERVING\n' });
  });
});

/** grpc.health.v1.Health/Check over plaintext, as a Kubernetes grpc probe does; prints SERVING or the status. */
const HEALTH_PROBE = `
const grpc = require(${JSON.stringify(join(import.meta.dirname, '..', '..', 'node_modules', '@grpc', 'grpc-js'))});
const client = new grpc.Client(process.argv[1], grpc.credentials.createInsecure());
client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => Buffer.alloc(0), (b) => b, {}, new grpc.Metadata(), { deadline: Date.now() + 10000 }, (error, bytes) => {
  client.close();
  if (error) { console.log(error.code); process.exit(1); }
  console.log(bytes[0] === 8 && bytes[1] === 1 ? 'SERVING' : 'status ' + bytes[1]);
});
`;

describe('network namespace clean-up', () => {
  it.skipIf(unavailable !== undefined)('leaves none of its namespaces behind', () => {
    // Runs after the suite above (describe blocks run in order): its afterAll deleted what it made.
    expect(network?.namespaces.length).toBe(HOSTS.length + 1);
    const left = listNetns('rlsa-');
    expect(network?.namespaces.filter((name) => left.includes(name))).toEqual([]);
  });
});
