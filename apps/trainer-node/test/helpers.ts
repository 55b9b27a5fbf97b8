import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseListeningLine } from '@rlsa/aggregator';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../../apps/cli/bin/rlsa.mjs', import.meta.url));

/** What an `rlsa` child process did: its exit status and everything it printed. */
export interface RlsaRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `rlsa` command line (a real child process, with `nodeArgs` for node itself) from the repository's root and resolves when it exits. */
export function runRlsa(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<RlsaRun> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

export interface AggregatorProcess {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `rlsa aggregator --port 0` and resolves with the port of its "aggregator listening" line. */
export function startAggregatorProcess(dataDir: string, timeoutMs = 45_000): Promise<AggregatorProcess> {
  const child = spawn(process.execPath, [CLI, 'aggregator', '--data-dir', dataDir, '--port', '0', '--log-level', 'info'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aggregator did not start:\n${out}`));
    }, timeoutMs);
    const onData = (data: Buffer): void => {
      out += data.toString('utf8');
      for (const line of out.split('\n')) {
        const port = parseListeningLine(line)?.port;
        if (port === undefined) continue;
        clearTimeout(timer);
        resolve({
          port,
          child,
          output: () => out,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
        return;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`aggregator exited (${code}) before listening:\n${out}`));
    });
  });
}

/** A loopback TCP proxy to `targetPort` whose connections can be cut, to break a stream mid-upload. */
export interface CuttableProxy {
  readonly port: number;
  /** Destroys every open connection (the client sees the stream fail and must reconnect). */
  cut(): void;
  cuts: number;
  close(): Promise<void>;
}

export function startProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const proxy: CuttableProxy = {
        port: typeof address === 'object' && address !== null ? address.port : 0,
        cuts: 0,
        cut() {
          proxy.cuts++;
          for (const s of sockets) s.destroy();
          sockets.clear();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      resolve(proxy);
    });
  });
}
