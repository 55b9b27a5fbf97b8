import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseListeningLine } from '@rlsa/aggregator/readiness';
import type { ListeningAnnouncement } from '@rlsa/aggregator/readiness';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The `rlsa` entry point, run by node directly. */
export const BIN = path.join(ROOT, 'apps/cli/bin/rlsa.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `rlsa <args>` (environment: this process's, without RLSA_* variables, plus `env`). */
export function spawnRlsa(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RLSA_')));
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...clean, ...env } });
}

/** Runs `rlsa <args>` to its end. */
export function rlsa(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawnRlsa(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningAggregator {
  readonly child: ChildProcess;
  readonly listening: ListeningAnnouncement;
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts `rlsa aggregator --port 0 <args>` and resolves once it logs its listening line. */
export function startAggregator(args: readonly string[]): Promise<RunningAggregator> {
  const child = spawnRlsa(['aggregator', '--port', '0', ...args]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let pending = '';
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the aggregator did not listen within 90 s:\n${log}`)), 90_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      log += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const listening = parseListeningLine(line);
        if (listening === undefined) continue;
        clearTimeout(timer);
        resolve({
          child,
          listening,
          address: `127.0.0.1:${listening.port}`,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    void exited.then(() => reject(new Error(`the aggregator exited before listening:\n${log}`)));
  });
}
