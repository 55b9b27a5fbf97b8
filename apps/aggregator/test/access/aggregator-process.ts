import { readFileSync } from 'node:fs';
import { parseListeningLine } from '../../src/index.ts';
import type { ListeningAnnouncement } from '../../src/index.ts';
import { CLI, spawnNode } from '../process-helpers.ts';
import type { Spawned } from '../process-helpers.ts';

/** `rlsa aggregator` as a child process: its address, its log lines (pino JSON), its memory, and a stop. */
export interface AggregatorProcess {
  readonly spawned: Spawned;
  readonly listening: ListeningAnnouncement;
  readonly address: string;
  /** Every JSON log line so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** The child's resident set size in bytes (Linux: /proc/<pid>/status VmRSS). */
  rssBytes(): number;
  /** SIGTERM, then the exit. */
  stop(): Promise<void>;
}

/** Starts `rlsa aggregator --port 0 <args>` (log level info) and waits for its listening line. */
export async function startAggregatorProcess(args: readonly string[]): Promise<AggregatorProcess> {
  const spawned = spawnNode([CLI, 'aggregator', '--port', '0', '--log-level', 'info', ...args]);
  const match = await spawned.waitFor(/^(\{.*"msg":"aggregator listening".*\})$/m, 90_000);
  const listening = parseListeningLine(match[1] as string);
  if (listening === undefined) throw new Error(`not a listening line: ${match[1]}`);
  return {
    spawned,
    listening,
    address: `127.0.0.1:${listening.port}`,
    logLines: () =>
      spawned
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    rssBytes: () => {
      const status = readFileSync(`/proc/${spawned.child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (kb === null) throw new Error('no VmRSS in /proc/<pid>/status');
      return Number(kb[1]) * 1024;
    },
    stop: async () => {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGTERM');
      await spawned.exited;
    },
  };
}
