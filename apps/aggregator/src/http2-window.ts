import type { Server } from '@grpc/grpc-js';
import type { Http2Server, Http2Session } from 'node:http2';

/**
 * HTTP/2 receive window per stream (`--stream-window-mb`): what one upload has in flight, a chunk
 * of 1 MiB (256 rows of 1,024 float32) while the one before is checked. A stream moves at most a
 * window per round trip (1 MiB: 20 MiB/s at 50 ms), so links whose bandwidth × RTT is larger want
 * more. Larger windows let every node's first chunks land at once, and the event loop's first turns
 * of an upload grow long, health checks on the main port waiting behind them (bench/README.md).
 */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
/** HTTP/2 receive window per connection (several nodes' streams may share one connection); at least the stream window. */
export const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
/** The smallest stream window `--stream-window-mb` takes: HTTP/2's default (RFC 9113 6.5.2, 65,535 octets), rounded up. */
export const MIN_WINDOW_BYTES = 64 * 1024;
/** The largest HTTP/2 window (RFC 9113 6.9.1: 2³¹ − 1 octets). */
export const MAX_WINDOW_BYTES = 2 ** 31 - 1;

/**
 * Raises the HTTP/2 receive windows of a bound grpc-js server. grpc-js has no server option for
 * them, and the HTTP/2 default (64 KiB) lets only 64 KiB travel per round trip of both event loops,
 * so a server busy storing a chunk stalls the upload. This reaches into grpc-js's (private)
 * map of HTTP/2 servers; if it is not there (another grpc-js version), nothing changes.
 * Returns whether the windows could be set.
 */
export function widenHttp2Windows(server: Server, streamWindow = STREAM_WINDOW_BYTES, connectionWindow = Math.max(CONNECTION_WINDOW_BYTES, streamWindow)): boolean {
  const http2Servers = boundHttp2Servers(server);
  for (const http2Server of http2Servers) {
    http2Server.on('session', (session: Http2Session) => {
      try {
        session.settings({ initialWindowSize: streamWindow });
        session.setLocalWindowSize(connectionWindow);
      } catch {
        // A session closing already: nothing to tune.
      }
    });
  }
  return http2Servers.length > 0;
}

/**
 * The node:http2 servers under a bound grpc-js server: grpc-js keeps them in a private map
 * (`http2Servers`, keyed by server); none when it is not there (another grpc-js version).
 */
export function boundHttp2Servers(server: Server): Http2Server[] {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return [];
  return [...(http2Servers.keys() as IterableIterator<Http2Server>)];
}
