import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { LISTENING_MESSAGE, parseListeningLine, type ListeningAnnouncement } from '@rlsa/aggregator';

/** The `rlsa` entry point, run by node directly (as the images and the systemd unit do). */
export const RLSA_BIN = join(import.meta.dirname, '..', '..', 'apps', 'cli', 'bin', 'rlsa.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rlsa <args>` to completion (optionally as `ip netns exec NS node ...`). */
export function runRlsa(args: readonly string[], options: { netns?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawnRlsa(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `rlsa <args>`; inside network namespace `netns` when given (`ip netns exec` execs into node, so the pid is node's). */
export function spawnRlsa(args: readonly string[], options: { netns?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const command = options.netns === undefined ? process.execPath : 'ip';
  const argv = options.netns === undefined ? [RLSA_BIN, ...args] : ['netns', 'exec', options.netns, process.execPath, RLSA_BIN, ...args];
  return spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
}

export interface RunningAggregator {
  readonly child: ChildProcess;
  readonly port: number;
  /** Its listening line: host, ports, data directory. */
  readonly listening: ListeningAnnouncement;
  /** Every log line so far (pino JSON). */
  readonly log: string[];
  /** SIGTERM, then wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `rlsa aggregator <args>` and resolves once it logs its listening line (`parseListeningLine`);
 * rejects with its output if it exits first.
 */
export function startAggregator(args: readonly string[], options: { netns?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningAggregator> {
  const child = spawnRlsa(['aggregator', ...args], options);
  const log: string[] = [];
  let pending = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        const listening = parseListeningLine(line);
        if (listening === undefined) continue;
        clearTimeout(timer);
        resolve({ child, port: listening.port, listening, log, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // It must log at info level or above for the "listening" line (do not pass --log-level warn).
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aggregator did not log "${LISTENING_MESSAGE}" within 90 s:\n${log.join('\n')}\n${pending}`));
    }, 90_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`aggregator exited (${code}) before listening:\n${log.join('\n')}\n${pending}`));
    });
  });
}
