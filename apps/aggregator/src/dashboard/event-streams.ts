import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DashboardError } from './dashboard-error.ts';
import type { DashboardLimits } from './dashboard-limits.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/** What one live-update stream sends: a status now and after each change, while it is still allowed. */
export interface LiveSource<T> {
  /** Subscribes to the changes (from now on), ending when `signal` aborts. */
  watch(signal: AbortSignal): AsyncIterable<void>;
  status(): T;
  /** False once the browser's session ended (logout, expiry, tokens reloaded): the stream ends. */
  allowed(): boolean;
}

/**
 * The open server-sent-event streams: at most `maxEventStreams` at once (more: 503), each
 * sending at most one `status` event per `eventIntervalMs` (the changes in between coalesce into
 * the next one, as WatchRun's do), a heartbeat comment every `heartbeatMs`, honouring
 * backpressure (a slow browser is sent nothing until its socket drained), and all ended when the
 * aggregator shuts down.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly limits: Pick<DashboardLimits, 'maxEventStreams' | 'eventIntervalMs' | 'heartbeatMs'>,
    private readonly shutdown: AbortSignal,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Streams `source` to `response` until the browser leaves, the source ends or the aggregator shuts down. */
  async serve<T>(response: ServerResponse, source: LiveSource<T>): Promise<void> {
    if (this.shutdown.aborted) throw new DashboardError('unavailable', 'the aggregator is shutting down');
    if (this.open.size >= this.limits.maxEventStreams) {
      throw new DashboardError('unavailable', `${this.limits.maxEventStreams} live-update streams are open already; try again later`);
    }
    const ended = new AbortController();
    const end = (): void => ended.abort();
    response.on('close', end);
    this.shutdown.addEventListener('abort', end);
    this.open.add(response);
    const heartbeat = setInterval(() => {
      if (!ended.signal.aborted && response.writableLength === 0) response.write(': heartbeat\n\n');
    }, this.limits.heartbeatMs);
    try {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      await this.pump(response, source, ended.signal);
    } finally {
      clearInterval(heartbeat);
      this.shutdown.removeEventListener('abort', end);
      this.open.delete(response);
      response.end();
    }
  }

  private async pump<T>(response: ServerResponse, source: LiveSource<T>, signal: AbortSignal): Promise<void> {
    const send = async (): Promise<void> => {
      if (!response.write(`event: status\ndata: ${JSON.stringify(source.status())}\n\n`)) await once(response, 'drain', { signal });
    };
    try {
      const changes = source.watch(signal);
      response.write('retry: 5000\n\n');
      await send();
      for await (const _ of changes) {
        if (!source.allowed()) return;
        await send();
        await sleep(this.limits.eventIntervalMs, undefined, { signal });
      }
    } catch (error: unknown) {
      if (!signal.aborted) throw error;
    }
  }
}
