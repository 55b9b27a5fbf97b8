import type { ChannelOptions } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Worker } from 'node:worker_threads';
import { AggregatorError } from '../errors.ts';
import type { Http2GuardLimits } from '../http2-guards.ts';
import { startThread } from '../worker-thread.ts';
import type { AggregatorHealth } from './health.ts';
import type { HealthPortReply, HealthPortRequest, HealthPortThreadData } from './health-port-thread.ts';

/** How often the event loop beats for the health thread. */
const BEAT_MS = 250;
/** An event loop that has not beaten for this long answers NOT_SERVING on the health port. */
export const DEFAULT_STALL_MS = 10_000;

/**
 * The plaintext health port, served by a thread of its own (`health-port-thread.ts`), so that a
 * probe is answered within milliseconds however busy the event loop is with uploads and reads
 * (on the main port a check waits for the event loop's turn). It answers what `AggregatorHealth`
 * says (storage writable, not draining), and NOT_SERVING while the event loop's heartbeat stands
 * still for `stallMs`: a liveness probe still sees an aggregator that stopped answering.
 */
export class HealthPortThread {
  private constructor(
    private readonly worker: Worker,
    private readonly beat: NodeJS.Timeout,
    readonly port: number,
  ) {}

  /** Starts the thread, binds `address` there and follows `health`; FAILED_PRECONDITION when the address cannot be bound. */
  static async start(
    health: AggregatorHealth,
    options: { address: string; channelOptions: ChannelOptions; guard: Http2GuardLimits; stallMs?: number },
    log: Logger,
  ): Promise<HealthPortThread> {
    const heartbeat = new Int32Array(new SharedArrayBuffer(4));
    const data: HealthPortThreadData = { address: options.address, channelOptions: options.channelOptions, guard: options.guard, heartbeat, beatMs: BEAT_MS, stallMs: options.stallMs ?? DEFAULT_STALL_MS };
    const worker = startThread(new URL('./health-port-thread.ts', import.meta.url), { ...data });
    const beat = setInterval(() => Atomics.add(heartbeat, 0, 1), BEAT_MS);
    beat.unref();
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => {
        worker.on('message', (reply: HealthPortReply) => {
          if (reply.kind === 'listening') resolve(reply.port);
          else if (reply.kind === 'bind-failed') reject(new AggregatorError('failed_precondition', `cannot serve health on ${options.address}: ${reply.message}`));
          else logReply(reply, options.guard, log);
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new AggregatorError('internal', `the health port's thread exited (${code}) before it listened`)));
      });
    } catch (error: unknown) {
      clearInterval(beat);
      await worker.terminate();
      throw error;
    }
    worker.removeAllListeners('exit');
    worker.on('error', (error) => log.error({ err: error }, "the health port's thread failed"));
    worker.unref();
    const thread = new HealthPortThread(worker, beat, port);
    health.onChange((serving) => thread.post({ kind: 'serving', serving }));
    return thread;
  }

  /** Stops serving the port and ends the thread. */
  async stop(): Promise<void> {
    clearInterval(this.beat);
    const stopped = new Promise<void>((resolve) => {
      this.worker.on('message', (reply: HealthPortReply) => reply.kind === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.post({ kind: 'stop' });
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    await this.worker.terminate();
  }

  private post(message: HealthPortRequest): void {
    this.worker.postMessage(message);
  }
}

function logReply(reply: HealthPortReply, guard: Http2GuardLimits, log: Logger): void {
  if (reply.kind === 'preface-timeout') log.debug({ remote: reply.remote, ms: guard.prefaceTimeoutMs, port: 'health' }, 'connection closed: no HTTP/2 preface in time');
  else if (reply.kind === 'message-timeout') log.warn({ path: reply.path, receivedBytes: reply.receivedBytes, ms: guard.messageTimeoutMs, port: 'health' }, 'stream reset: request message not received whole in time');
  else if (reply.kind === 'stalled') {
    if (reply.stalled) log.error('the event loop has not answered for the health thread in time: the health port answers NOT_SERVING');
    else log.info('the event loop answers again: the health port answers SERVING');
  }
}
