import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy } from '@rlsa/npy';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * docs/operations.md as written: its ```sh title="ops-guide"``` blocks, in order, in one bash
 * (`set -euo pipefail`), from a fresh folder under the clone's git-ignored `tmp/` (where `npx rlsa`
 * finds the workspace's binary, as from the clone's root). The one change: the guide's ports (50051,
 * 8080, 9464) become free ones, so that the spec does not depend on what else listens here.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GUIDE = path.join(ROOT, 'docs/operations.md');
const BLOCK = /```sh title="ops-guide"\n([\s\S]*?)```/g;
const GUIDE_PORTS = [50051, 8080, 9464];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });
const work = mkdtempSync(path.join(ROOT, 'tmp', 'ops-guide-'));

afterAll(() => {
  // The aggregator the guide started, if a failure left it running (the guide's last block stops it).
  const pidFile = path.join(work, 'ops', 'aggregator.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      // stopped already
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('docs/operations.md', () => {
  it('runs as written: tokens, the aggregator, a run, three nodes, watch, evaluate, export, nearest, close, delete', async () => {
    const blocks = [...readFileSync(GUIDE, 'utf8').matchAll(BLOCK)].map((match) => match[1] as string);
    expect(blocks.length).toBe(12);
    const ports = await Promise.all(GUIDE_PORTS.map(freePort));
    const script = blocks
      .map((block, i) => `echo "=== ops-guide block ${i + 1}" >&2\n${block}`)
      .join('\n')
      .replace(/\b(50051|8080|9464)\b/g, (port) => String(ports[GUIDE_PORTS.indexOf(Number(port))]));
    writeFileSync(path.join(work, 'guide.sh'), `set -euo pipefail\n${script}`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RLSA_')));
    const child = spawn('bash', ['guide.sh'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) console.log(`${stdout}\n${stderr}`);
    expect(code).toBe(0);

    // What the walkthrough showed, checked against what it wrote.
    expect(stdout).toMatch(/^operator\tadmin\t/m);
    expect(stdout).toMatch(/^reference\treference:demo\t/m);
    expect(stdout).toMatch(/^demo\s+open\s+64 of synthetic\s+0\s+0\s+0\s+0\s+0\s/m);
    expect(stdout).toMatch(/nodes {10}3 \(3 finished, 0 connected\)/);
    expect(stdout).toContain('run demo, against the reference reference\n');
    expect(stdout).toMatch(/^merged\s+\d+\s+0\.\d{6}\s+0\.\d{6}$/m);
    const merged = readNpy(path.join(work, 'ops/export/merged.npy'));
    const ids = readNpy(path.join(work, 'ops/export/sample_ids.npy'));
    expect(merged.shape[1]).toBe(64);
    expect(stdout).toContain(`exported ${merged.shape[0]} rows of the merged space of run demo to ops/export\n`);
    // The nearest neighbours of the first sample exported (the query itself is not among them).
    expect(stdout).toMatch(/^RANK\s+SAMPLE\s+SIMILARITY\s+LABEL\n\s+1\s+\d+\s+-?[01]\.\d{6}\s/m);
    expect((ids.data as BigUint64Array).length).toBe(merged.shape[0]);
    expect(stdout).toContain(`run demo is closed: ${merged.shape[0]} merged samples, final\n`);
    expect(stdout).toMatch(/^run demo is deleted: [1-9]\d* bytes freed$/m);
    expect(stdout).toMatch(/^demo\s+deleted\s/m);
    const audit = stdout.split('\n').filter((line) => line.includes('"msg":"audit"')).map((line) => JSON.parse(line) as { who: string; action: string });
    expect(audit.map((line) => `${line.who} ${line.action}`)).toEqual(['operator CreateRun', 'SIGHUP ReloadTokens', 'operator CloseRun', 'operator DeleteRun']);
    expect(stdout).toMatch(/^rlsa_aggregator_runs\{state="deleted"\} 1$/m);
    const watched = readFileSync(path.join(work, 'ops/watch.jsonl'), 'utf8').trim().split('\n');
    expect((JSON.parse(watched.at(-1) as string) as { totals: { finishedNodes: number } }).totals.finishedNodes).toBe(3);
  }, 600_000);
});
