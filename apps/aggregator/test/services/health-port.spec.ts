import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AggregatorError } from '../../src/errors.ts';
import { AggregatorHealth } from '../../src/services/health.ts';
import { HealthPortThread } from '../../src/services/health-port.ts';
import { spawnNode } from '../process-helpers.ts';
import type { Spawned } from '../process-helpers.ts';

const PROBER = fileURLToPath(new URL('../fixtures/health-prober.mjs', import.meta.url));
const GUARD = { prefaceTimeoutMs: 10_000, messageTimeoutMs: 60_000 };
/** A stall limit short enough for a test, long enough over the 250 ms heartbeat. */
const STALL_MS = 600;

interface Answer {
  atMs: number;
  status?: string;
  error?: number;
  ms?: number;
}

const answers = (prober: Spawned): Answer[] =>
  prober
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Answer);

/** Resolves once the prober's latest answer, asked after `sinceMs`, is `status`. */
async function until(prober: Spawned, status: string, sinceMs = 0, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const latest = answers(prober).at(-1);
    if (latest !== undefined && latest.atMs > sinceMs && latest.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the health port did not answer ${status} within ${timeoutMs} ms: ${JSON.stringify(answers(prober).slice(-5))}`);
}

describe('HealthPortThread: the health port on a thread of its own', () => {
  let thread: HealthPortThread | undefined;
  let prober: Spawned | undefined;

  afterEach(async () => {
    prober?.child.kill('SIGKILL');
    await thread?.stop();
    thread = undefined;
    prober = undefined;
  });

  it("follows AggregatorHealth, and answers NOT_SERVING while the event loop is blocked past stallMs, SERVING again after", async () => {
    const health = new AggregatorHealth();
    thread = await HealthPortThread.start(health, { address: '127.0.0.1:0', channelOptions: {}, guard: GUARD, stallMs: STALL_MS }, pino({ level: 'silent' }));
    prober = spawnNode([PROBER, `127.0.0.1:${thread.port}`, '50']);
    await until(prober, 'SERVING');
    health.storageWritable(false);
    await until(prober, 'NOT_SERVING');
    health.storageWritable(true);
    await until(prober, 'SERVING');

    // Block this thread's event loop (no heartbeat) for well past the stall limit; the prober, a
    // process of its own, goes on asking the health thread meanwhile.
    const blockedFrom = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS + 1_500);
    const blockedTo = Date.now();
    await until(prober, 'SERVING', blockedTo);
    const during = answers(prober).filter((a) => a.atMs >= blockedFrom && a.atMs <= blockedTo);
    // Answered all along (by the thread), and NOT_SERVING once the stall limit had passed.
    expect(during.length).toBeGreaterThan(10);
    expect(during.every((a) => a.status !== undefined)).toBe(true);
    expect(during.filter((a) => a.atMs >= blockedFrom + STALL_MS + 400).every((a) => a.status === 'NOT_SERVING')).toBe(true);
    expect(during.filter((a) => a.atMs < blockedFrom + STALL_MS - 300).every((a) => a.status === 'SERVING')).toBe(true);
  });

  it('draining: NOT_SERVING for good', async () => {
    const health = new AggregatorHealth();
    thread = await HealthPortThread.start(health, { address: '127.0.0.1:0', channelOptions: {}, guard: GUARD }, pino({ level: 'silent' }));
    prober = spawnNode([PROBER, `127.0.0.1:${thread.port}`, '50']);
    await until(prober, 'SERVING');
    health.notServing();
    health.storageWritable(true);
    await until(prober, 'NOT_SERVING');
  });

  it('an address it cannot bind is FAILED_PRECONDITION naming it, and no thread is left', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const refusal = await HealthPortThread.start(new AggregatorHealth(), { address: `127.0.0.1:${port}`, channelOptions: {}, guard: GUARD }, pino({ level: 'silent' })).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(AggregatorError);
      expect((refusal as AggregatorError).code).toBe('failed_precondition');
      expect((refusal as AggregatorError).message).toContain(`127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });
});
