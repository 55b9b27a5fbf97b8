import type { Server } from '@grpc/grpc-js';
import { constants } from 'node:http2';
import type { Http2Server, Http2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { boundHttp2Servers } from './http2-window.ts';

/** Bytes of a gRPC message's prefix: a compression flag and a 4-byte big-endian length. */
const MESSAGE_PREFIX_BYTES = 5;

export interface Http2GuardLimits {
  /** A connection must have sent its HTTP/2 preface and SETTINGS (after TLS, if any) within this. */
  prefaceTimeoutMs: number;
  /** A request message must arrive whole within this of its first byte. */
  messageTimeoutMs: number;
}

/** What the guards did, for the log and the metrics. */
export interface Http2GuardEvents {
  onPrefaceTimeout(remote: string): void;
  onMessageTimeout(path: string, receivedBytes: number): void;
}

/**
 * Guards a bound grpc-js server's connections where grpc-js has no option for it (its HTTP/2
 * servers have socket timeouts off):
 * - a connection that has not completed its preface (TLS handshake, HTTP/2 magic and SETTINGS)
 *   within `prefaceTimeoutMs` is destroyed: half-open sockets cost a descriptor and memory each;
 * - a stream whose request message has not arrived whole within `messageTimeoutMs` of its first
 *   byte is reset with ENHANCE_YOUR_CALM (the client sees RESOURCE_EXHAUSTED): grpc-js buffers a
 *   message until its last byte, up to the receive limit, with no timeout of its own. Its
 *   buffers go with the stream.
 * Returns whether grpc-js's HTTP/2 servers were found (else nothing is guarded).
 */
export function guardHttp2Connections(server: Server, limits: Http2GuardLimits, events: Http2GuardEvents): boolean {
  const http2Servers = boundHttp2Servers(server);
  for (const http2Server of http2Servers) guard(http2Server, limits, events);
  return http2Servers.length > 0;
}

function guard(http2Server: Http2Server, limits: Http2GuardLimits, events: Http2GuardEvents): void {
  // Connections waiting for their preface, by remote address and port (the same on the TCP socket
  // and on the TLS socket over it), and their HTTP/2 session once there is one: it owns the
  // socket's handle then, so destroying the session is what closes the connection. (Plaintext:
  // node:http2 makes the session in its own 'connection' listener, before this one runs.)
  const timers = new Map<string, NodeJS.Timeout>();
  const sessions = new Map<string, Http2Session>();
  const settled = (remote: string): void => {
    clearTimeout(timers.get(remote));
    timers.delete(remote);
    sessions.delete(remote);
  };
  http2Server.on('session', (session: Http2Session) => {
    const remote = remoteOf(session.socket);
    sessions.set(remote, session);
    session.once('remoteSettings', () => settled(remote));
    session.once('close', () => settled(remote));
  });
  http2Server.on('connection', (socket: Socket) => {
    const remote = remoteOf(socket);
    const timer = setTimeout(() => {
      const session = sessions.get(remote);
      settled(remote);
      events.onPrefaceTimeout(remote);
      if (session !== undefined) session.destroy();
      else socket.destroy();
    }, limits.prefaceTimeoutMs);
    timer.unref();
    timers.set(remote, timer);
    socket.once('close', () => settled(remote));
  });
  http2Server.on('stream', (stream: ServerHttp2Stream, headers) => watchMessages(stream, String(headers[':path']), limits.messageTimeoutMs, events));
}

function remoteOf(socket: Pick<Socket, 'remoteAddress' | 'remotePort'> | undefined): string {
  return `${socket?.remoteAddress}:${socket?.remotePort}`;
}

/**
 * Follows the gRPC framing of a request stream (a 5-byte prefix, then that many bytes) beside
 * grpc-js's own decoder, and resets the stream when a message is not whole within `timeoutMs` of
 * its first byte. grpc-js paused the stream before this listener is added, so adding it does not
 * change the flow: it sees the chunks grpc-js reads, when it reads them.
 */
function watchMessages(stream: ServerHttp2Stream, path: string, timeoutMs: number, events: Http2GuardEvents): void {
  const prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  let prefixRead = 0;
  let bodyLeft = 0;
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const settle = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  stream.on('data', (data: Buffer) => {
    let at = 0;
    while (at < data.length) {
      if (timer === undefined) {
        received = 0;
        timer = setTimeout(() => {
          events.onMessageTimeout(path, received);
          stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        }, timeoutMs);
        timer.unref();
      }
      let n: number;
      if (prefixRead < MESSAGE_PREFIX_BYTES) {
        n = Math.min(MESSAGE_PREFIX_BYTES - prefixRead, data.length - at);
        data.copy(prefix, prefixRead, at, at + n);
        prefixRead += n;
        if (prefixRead === MESSAGE_PREFIX_BYTES) bodyLeft = prefix.readUInt32BE(1);
      } else {
        n = Math.min(bodyLeft, data.length - at);
        bodyLeft -= n;
      }
      at += n;
      received += n;
      if (prefixRead === MESSAGE_PREFIX_BYTES && bodyLeft === 0) {
        prefixRead = 0;
        settle();
      }
    }
  });
  stream.once('close', settle);
}
