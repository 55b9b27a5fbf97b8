import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SimulationError } from './simulation-error.ts';

/** A process the simulation started: its stdout and stderr go to `<logDir>/<name>.log`. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last non-empty lines it printed (stdout and stderr), newest last. */
  readonly tail: string[];
}

/**
 * The child processes of one simulation: each spawned with `node <entry> <args>`, its output
 * appended line by line to its log file, stopped together by `stopAll` (SIGTERM, then SIGKILL after
 * a grace period). Nothing it started outlives it when `stopAll` is awaited.
 */
export class ProcessGroup {
  private readonly processes: ManagedProcess[] = [];
  private readonly logs: WriteStream[] = [];

  constructor(
    private readonly logDir: string,
    private readonly entry: string,
  ) {}

  /** Starts `node <entry> ...args`; `onLine` sees every stdout/stderr line as it arrives. */
  spawn(name: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; onLine?: (line: string, stream: 'stdout' | 'stderr') => void } = {}): ManagedProcess {
    const logPath = join(this.logDir, `${name}.log`);
    const log = createWriteStream(logPath, { flags: 'a' });
    this.logs.push(log);
    const child = spawn(process.execPath, [this.entry, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...childEnvironment(process.env), ...options.env },
    });
    const tail: string[] = [];
    const remember = (line: string, stream: 'stdout' | 'stderr'): void => {
      log.write(`${line}\n`);
      if (line.trim().length > 0) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
      options.onLine?.(line, stream);
    };
    createInterface({ input: child.stdout! }).on('line', (line) => remember(line, 'stdout'));
    createInterface({ input: child.stderr! }).on('line', (line) => remember(line, 'stderr'));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('error', (error) => {
        remember(`spawn failed: ${error.message}`, 'stderr');
        resolve({ code: -1, signal: null });
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const managed: ManagedProcess = { name, child, logPath, exited, tail };
    this.processes.push(managed);
    return managed;
  }

  /** Every process started so far. */
  get all(): readonly ManagedProcess[] {
    return this.processes;
  }

  /**
   * Stops every process still running: SIGTERM (the aggregator drains, the nodes exit), then SIGKILL
   * for those still alive after `graceMs`. Closes the log files.
   */
  async stopAll(graceMs = 5000): Promise<void> {
    const running = this.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(
      running.map(async (p) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), graceMs);
        });
        const outcome = await Promise.race([p.exited, timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          p.child.kill('SIGKILL');
          await p.exited;
        }
      }),
    );
    await Promise.all(this.logs.map((log) => new Promise<void>((resolve) => log.end(resolve))));
    this.logs.length = 0;
  }
}

/**
 * The environment of a child: this process's, without RLSA_* variables. The simulation passes every
 * setting as a flag; a stray RLSA_CONFIG, RLSA_TOKEN or RLSA_DATA_DIR in the user's shell (meant for
 * a long-running aggregator or node) would otherwise change what the children do.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('RLSA_')));
}

/** The last meaningful line of a process's output, for a one-line failure message (pino `msg` if JSON). */
export function lastMessage(p: ManagedProcess): string {
  for (let i = p.tail.length - 1; i >= 0; i--) {
    const line = p.tail[i]!;
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
      const err = typeof parsed.err?.message === 'string' ? `: ${parsed.err.message}` : '';
      if (typeof parsed.msg === 'string') return `${parsed.msg}${err}`;
    } catch {
      // not JSON: a plain line (e.g. "rlsa: ..." from a usage error)
    }
    if (line.trim().length > 0) return line.trim();
  }
  return 'no output';
}

/**
 * Waits for a line `match` accepts (returning non-undefined) on a process's output; rejects when the
 * process exits first or after `timeoutMs`.
 */
export function waitForLine<T>(p: ManagedProcess, match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (f: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      p.child.stdout?.off('data', onData);
      p.child.stderr?.off('data', onData);
      f();
    };
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const value = match(line);
        if (value !== undefined) {
          finish(() => resolve(value));
          return;
        }
      }
    };
    p.child.stdout?.on('data', onData);
    p.child.stderr?.on('data', onData);
    const timer = setTimeout(
      () => finish(() => reject(new SimulationError('timeout', `${p.name} did not become ready within ${Math.round(timeoutMs / 1000)} s (log: ${p.logPath})`))),
      timeoutMs,
    );
    void p.exited.then(({ code, signal }) =>
      finish(() =>
        reject(new SimulationError('process_failed', `${p.name} exited (${signal ?? `code ${code}`}) before it was ready: ${lastMessage(p)} (log: ${p.logPath})`)),
      ),
    );
  });
}
