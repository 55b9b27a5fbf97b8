import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListeningLine } from '@rlsa/aggregator';
import { readNpy } from '@rlsa/npy';
import { addOptions, resolveOptions } from '@rlsa/options';
import { parseResizeRule } from '@rlsa/sources';
import { dataChoice, modelChoice } from '@rlsa/trainer-node';
import { TRAINER_OPTIONS } from '@rlsa/trainer-node/options';

// docs/join-a-run.md as a party reads it: every `npx rlsa trainer` command of its ```sh blocks
// parses against the trainer's option schema (flags, choices, one data source, a model), and the
// ```sh run block (the offline walk-through) runs as written from the repository's root: the
// examples written, an aggregator, the operator's run, three parties, the run's status, the export.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUIDE = readFileSync(path.join(ROOT, 'docs', 'join-a-run.md'), 'utf8');
const scratch = mkdtempSync(path.join(tmpdir(), 'rlsa-guide-'));
const exportDir = path.join(scratch, 'export');
let aggregator: ChildProcess | undefined;

afterAll(async () => {
  if (aggregator !== undefined && aggregator.exitCode === null) {
    const exited = new Promise((resolve) => aggregator!.once('exit', resolve));
    aggregator.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** The commands of the guide's fenced blocks with this info string, continuation lines joined. */
function commands(info: string): string[] {
  const blocks = [...GUIDE.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].filter((m) => m[1]!.trim() === info).map((m) => m[2]!);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, '').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')));
}

/** A shell word list (the guide's commands quote nothing). */
const words = (line: string): string[] => line.split(/\s+/);

/** Parses a `rlsa trainer` command line with the trainer's schema, as the command line would; throws what it would refuse. */
function parseTrainer(argv: readonly string[]): void {
  const command = addOptions(new Command('trainer').exitOverride().configureOutput({ writeErr: () => undefined }), TRAINER_OPTIONS, { environment: false });
  command.parse([...argv], { from: 'user' });
  const settings = resolveOptions(command, TRAINER_OPTIONS);
  dataChoice(settings.data, modelChoice(settings.training.model));
  if (settings.data.resize !== undefined) parseResizeRule(settings.data.resize, settings.data.resizeFit, settings.data.resizeKernel);
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sh(line: string, env: NodeJS.ProcessEnv): Promise<Finished> {
  const child = spawn('sh', ['-c', line], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Starts the guide's aggregator line on a free port and a scratch data dir; resolves with its address. */
function startAggregator(line: string): Promise<string> {
  const args = words(line).slice(2).map((word, k, all) => (all[k - 1] === '--port' ? '0' : all[k - 1] === '--data-dir' ? path.join(scratch, 'aggregator') : word));
  const child = spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/rlsa.mjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  aggregator = child;
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = out.split('\n').map(parseListeningLine).find((a) => a !== undefined)?.port;
      if (port !== undefined) resolve(`127.0.0.1:${port}`);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`the aggregator exited (${code}):\n${out}`)));
  });
}

describe('docs/join-a-run.md', () => {
  it('every rlsa trainer command parses against the trainer schema', () => {
    const trainerLines = commands('sh').filter((line) => line.startsWith('npx rlsa trainer '));
    expect(trainerLines.length).toBeGreaterThanOrEqual(5);
    for (const line of trainerLines) expect(() => parseTrainer(words(line).slice(3)), line).not.toThrow();
    // The check refuses what the node would refuse.
    expect(() => parseTrainer(['--run', 'r', '--node-id', 'n', '--data', 'imagefolder:x', '--model', 'resnet'])).toThrow(/--model must be one of/);
    expect(() => parseTrainer(['--run', 'r', '--node-id', 'n', '--data', 'imagefolder:x', '--model', 'mlp', '--held-out', '1'])).toThrow(/--held-out must be a number in \[0, 1\)/);
  });

  it('the offline walk-through runs as written', async () => {
    const lines = commands('sh run');
    expect(lines[0]).toBe('npx tsx examples/make-examples.ts');
    const env: NodeJS.ProcessEnv = { ...process.env };
    const outputs: string[] = [];
    for (const line of lines) {
      if (line.startsWith('npx rlsa aggregator ')) {
        env['RLSA_AGGREGATOR'] = await startAggregator(line);
        continue;
      }
      // The guide exports the address it gave the aggregator; here the aggregator has a free port instead.
      if (line.startsWith('export RLSA_AGGREGATOR=')) continue;
      if (line.startsWith('npx rlsa trainer ')) parseTrainer(words(line).slice(3));
      // The export goes to the scratch folder instead of the guide's /tmp path.
      const run = await sh(line.startsWith('npx rlsa export ') ? line.replace(/--out \S+/, `--out ${exportDir}`) : line, env);
      // The operator's commands say on stderr what they sent (the anchor set's upload); nothing else may be said there.
      const stderr = run.stderr.replace(/^anchor set \S+: \d+ anchors, \d+ bytes, uploaded \([0-9a-f]{64}\)\n/m, '');
      expect({ line, code: run.code, stderr }).toEqual({ line, code: 0, stderr: '' });
      outputs.push(run.stdout);
    }
    expect(lines.at(-2)).toBe('npx rlsa run show demo');
    const status = outputs.at(-2)!;
    console.info(status);
    // Each party's row of the nodes table: its id, then (columns later) finished.
    for (const party of ['party-a', 'party-b', 'party-c']) expect(status).toMatch(new RegExp(`^${party}\\s+trainer\\s.*\\syes\\s`, 'm'));
    expect(status).toMatch(/^nodes\s+3 \(3 finished/m);
    // The examples' slices: a 0–69, b 40–109, c 60–119 of 120 pictures; 40–109 held by two or three parties.
    expect(status).toMatch(/^merged samples 120$/m);
    const counts = readNpy(path.join(exportDir, 'merged_counts.npy'));
    const fromMoreThanOne = Array.from(counts.data as Uint32Array).filter((count) => count > 1).length;
    expect({ samples: counts.data.length, fromMoreThanOne }).toEqual({ samples: 120, fromMoreThanOne: 70 });
  }, 600_000);
});
