import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRlsa as rlsa } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'rlsa-trainer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rlsa trainer', () => {
  it('takes settings from the config file, RLSA_* env vars over it and flags over both', async () => {
    const config = join(dir, 'node.yaml');
    writeFileSync(config, 'run: local\nnodeId: from-file\ndataset: synthetic\nmodel: mlp-narrow\nepochs: 1\nmaxSamples: 200\nbatchSize: 32\n');
    const results = join(dir, 'results.json');
    const { code, stdout, stderr } = await rlsa(['trainer', '--config', config, '--max-samples', '150', '--results-file', results], {
      RLSA_EPOCHS: '2',
      RLSA_PATIENCE: '5',
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(results, 'utf8')) as Record<string, unknown> & { training: { epochs: unknown[] }; timings: { totalSeconds: number } };
    expect(summary['nodeId']).toBe('from-file'); // file
    expect(summary['model']).toBe('mlp-narrow'); // file
    expect(summary['trainSamples']).toBe(150); // flag over file
    expect(summary.training.epochs).toHaveLength(2); // env over file
    expect(summary['upload']).toBeNull();
    expect(typeof summary['backend']).toBe('string');
    expect(summary.timings.totalSeconds).toBeGreaterThan(0);
    // pino JSON lines, one of them naming the backend.
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; backend?: string });
    expect(lines.filter((l) => l.msg.startsWith('tfjs backend:') && l.backend === summary['backend'])).toHaveLength(1);
  });

  it('a user mistake is one line on stderr and exit status 2', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'nodeID: x\n');
    // Three processes at once: each start-up is most of the cost.
    const [missing, unknown, noData] = await Promise.all([
      rlsa(['trainer', '--run', 'r', '--dataset', 'synthetic', '--model', 'mlp']),
      rlsa(['trainer', '--config', config]),
      rlsa(['trainer', '--run', 'r', '--node-id', 'n', '--dataset', 'fashion-mnist', '--data-dir', join(dir, 'none'), '--model', 'mlp']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('rlsa: --node-id is required\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`rlsa: ${config}: unknown setting "nodeID"\n`);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toBe(`rlsa: ${join(dir, 'none')}: no such directory (Fashion-MNIST)\n`);
  });
});
