import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

/** One server-sent event: its name and its data (JSON-decoded). */
export interface ServerEvent {
  event: string;
  data: unknown;
}

export interface EventStreamReader {
  status: number;
  headers: IncomingHttpHeaders;
  /** The next event (waits for it; rejects after `timeoutMs` or when the stream ends first). */
  next(timeoutMs?: number): Promise<ServerEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `url` as an event stream with `cookie` and parses its events as they arrive. */
export function openEventStream(url: string, cookie: string): Promise<EventStreamReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      const events: ServerEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let done = false;
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':') && line.includes(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
          if (fields['data'] !== undefined) events.push({ event: fields['event'] ?? 'message', data: JSON.parse(fields['data']) });
        }
        for (const wake of [...waiters]) wake();
      });
      const ended = new Promise<void>((settle) => {
        res.on('close', () => {
          done = true;
          for (const wake of [...waiters]) wake();
          settle();
        });
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        ended,
        close: () => req.destroy(),
        next: (timeoutMs = 10_000) =>
          new Promise((give, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error('no event in time'));
            }, timeoutMs);
            const check = (): void => {
              const event = events.shift();
              if (event === undefined && !done) return;
              clearTimeout(timer);
              waiters.delete(check);
              if (event === undefined) fail(new Error('the stream ended'));
              else give(event);
            };
            waiters.add(check);
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
