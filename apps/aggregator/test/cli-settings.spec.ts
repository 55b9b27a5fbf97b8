import { createAggregatorClient } from '@rlsa/client';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListeningLine, type ListeningAnnouncement } from '../src/readiness.ts';
import { FINGERPRINT, tempDir } from './helpers.ts';
import { CLI, REPO_ROOT } from './process-helpers.ts';

function run(args: string[], env: Record<string, string>): { done: Promise<{ code: number | null; out: string; err: string }>; kill: () => void; out: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))),
    kill: () => child.kill('SIGTERM'),
    out: () => out,
  };
}

/**
 * The HTTP/2 stream window a server at `port` grants (its SETTINGS_INITIAL_WINDOW_SIZE): read after
 * a PING's answer, which comes after every SETTINGS frame the server sent when the connection opened.
 */
async function grantedStreamWindow(port: number): Promise<number> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
    return session.remoteSettings.initialWindowSize as number;
  } finally {
    session.close();
  }
}

describe('rlsa aggregator settings: flags over RLSA_* env over the config file', () => {
  const temp = tempDir();
  afterAll(() => temp.remove());

  it('takes settings from all three places and creates the runs of run files', async () => {
    const config = join(temp.dir, 'aggregator.yaml');
    // host 0.0.0.0 would be refused without TLS: the --host flag must win over the file.
    writeFileSync(config, `dataDir: ${join(temp.dir, 'data')}\nhost: 0.0.0.0\nport: 0\nhealthPort: 0\nlogLevel: info\n`);
    const runFile = join(temp.dir, 'run.json');
    writeFileSync(runFile, JSON.stringify({ runId: 'from-file', dataset: 'synthetic', anchorIds: [7, 8, 9], anchorFingerprint: FINGERPRINT, similarity: 'cosine', acceptedEncodings: ['float16', 'int8'], allowAbsolute: true }));
    const child = run(['aggregator', '--config', config, '--host', '127.0.0.1'], { RLSA_METRICS_PORT: '0', RLSA_RUN_FILE: runFile, RLSA_STREAM_WINDOW_MB: '0.5' });
    let line: ListeningAnnouncement | undefined;
    for (let i = 0; i < 600 && line === undefined; i += 1) {
      line = child.out().split('\n').map(parseListeningLine).find((found) => found !== undefined);
      if (line === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(line).toMatchObject({ host: '127.0.0.1', metricsPort: expect.any(Number), healthPort: expect.any(Number), dataDir: join(temp.dir, 'data') });
    const client = createAggregatorClient({ address: `127.0.0.1:${line?.port}` });
    const runStatus = await client.getRun('from-file');
    expect(runStatus.config).toMatchObject({ anchors: { kind: 'builtin', dataset: 'synthetic', sampleIds: [7n, 8n, 9n], fingerprint: FINGERPRINT }, acceptedEncodings: ['float16', 'int8'], allowAbsolute: true, similarity: 'cosine' });
    client.close();
    // RLSA_STREAM_WINDOW_MB=0.5: each stream may have 512 KiB in flight.
    expect(await grantedStreamWindow(line?.port as number)).toBe(512 * 1024);
    child.kill();
    expect((await child.done).code).toBe(0);
  });

  it('a bad setting is one line on stderr and exit status 2', async () => {
    const config = join(temp.dir, 'bad.yaml');
    writeFileSync(config, `dataDir: ${join(temp.dir, 'data2')}\nprot: 5\n`);
    const [result, missing] = await Promise.all([run(['aggregator', '--config', config], {}).done, run(['aggregator', '--port', '0'], {}).done]);
    expect(result.code).toBe(2);
    expect(result.err).toBe(`rlsa: ${config}: unknown setting "prot"\n`);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--data-dir is required');
    // A stream window under HTTP/2's default or over its largest: refused before anything starts.
    const windows = await Promise.all(['0.01', '4096'].map((mb) => run(['aggregator', '--data-dir', join(temp.dir, 'data3'), '--port', '0', '--stream-window-mb', mb], {}).done));
    for (const [i, window] of windows.entries()) {
      expect(window.code).toBe(2);
      expect(window.err).toBe(`rlsa: --stream-window-mb must be a number from 0.0625 (64 KiB) to 2047, got "${['0.01', '4096'][i]}"\n`);
    }
  });
});
