import { setMaxListeners } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AggregatorError } from '../errors.ts';
import { DashboardError, HTTP_STATUS, toDashboardError } from './dashboard-error.ts';
import { DEFAULT_DASHBOARD_LIMITS } from './dashboard-limits.ts';
import type { DashboardLimits } from './dashboard-limits.ts';
import { DashboardRoutes } from './dashboard-routes.ts';
import type { DashboardDeps } from './dashboard-routes.ts';
import { html } from './html.ts';
import { sendHtml, sendText, wantsPage } from './http-io.ts';
import { page } from './pages/layout.ts';
import { loginPage } from './pages/login-page.ts';
import { Router } from './router.ts';

export interface DashboardOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Whether `host` is a loopback address: without tokens the dashboard serves only there (unless `insecure`). */
  readonly loopback: boolean;
  /** Allows the dashboard without authentication on a non-loopback address (warned), as for plaintext gRPC. */
  readonly insecure: boolean;
  /** The aggregator's certificate and key: the dashboard is then HTTPS and its cookie Secure. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly limits?: Partial<DashboardLimits>;
}

/** A running dashboard. */
export interface Dashboard {
  readonly port: number;
  /** Its address, e.g. https://127.0.0.1:8443/ . */
  readonly url: string;
  /** Open live-update streams. */
  readonly eventStreams: number;
  /** Ends every session (the tokens were reloaded: each browser signs in again). */
  endSessions(): void;
  /** Ends the streams and closes every connection. */
  close(): Promise<void>;
}

/**
 * Serves the read-only dashboard over HTTP, or HTTPS under TLS: sessions from a reader or admin
 * token, the runs, live progress (server-sent events), the CKA table and a PCA. Every resource a
 * browser can make it spend is bounded (`DashboardLimits`). Refuses to start without tokens on a
 * non-loopback address unless `insecure`.
 */
export async function startDashboard(deps: DashboardDeps, options: DashboardOptions): Promise<Dashboard> {
  const limits = { ...DEFAULT_DASHBOARD_LIMITS, ...options.limits };
  if (!deps.authenticator.enabled && !options.loopback) {
    if (!options.insecure) {
      throw new AggregatorError('failed_precondition', `refusing the dashboard without a tokens file on non-loopback address ${options.host}: give --tokens-file, or --insecure`);
    }
    deps.log.warn({ host: options.host }, 'dashboard without authentication on a non-loopback address (--insecure): anyone who reaches it sees every run');
  }
  const closing = new AbortController();
  const shutdown = AbortSignal.any([deps.shutdown, closing.signal]);
  // Each live-update stream listens to it.
  setMaxListeners(limits.maxEventStreams + 8, shutdown);
  const routes = new DashboardRoutes({ ...deps, shutdown }, limits, options.tls !== undefined);
  const router = new Router(routes.routes());
  const server = createServerFor(options.tls, limits, (request, response) => void answer(router, routes, deps.log, request, response));
  const port = await listen(server, options.host, options.port);
  const scheme = options.tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;
  deps.log.info({ url, auth: routes.authOff ? 'off' : 'tokens' }, 'dashboard listening');
  return {
    port,
    url,
    get eventStreams() {
      return routes.eventStreams;
    },
    endSessions: () => routes.sessions.clear(),
    close: async () => {
      closing.abort();
      routes.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The HTTP(S) server with the limits on heads, whole requests, idle connections and their number. */
function createServerFor(tls: DashboardOptions['tls'], limits: DashboardLimits, listener: (request: IncomingMessage, response: ServerResponse) => void): Server {
  // connectionsCheckingInterval: how often node enforces the two timeouts (default 30 s).
  const bounds = {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: 1_000,
    keepAliveTimeout: 5_000,
  };
  const server: Server =
    tls === undefined ? createHttpServer(bounds, listener) : createHttpsServer({ ...bounds, cert: tls.cert, key: tls.key, handshakeTimeout: limits.headersTimeoutMs }, listener);
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  return server;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot serve the dashboard on ${host}:${port}: ${(error as Error).message}`, { cause: error });
  }
  return (server.address() as AddressInfo).port;
}

/** Answers one request: its route's handler, or the refusal with its precise status. */
async function answer(router: Router, routes: DashboardRoutes, log: Logger, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    const { exchange, handler } = router.route(request, response);
    await handler(exchange);
  } catch (error: unknown) {
    refuse(request, response, toDashboardError(error), routes.authOff, log);
  }
}

/** The refusal as a page (for a browser's page load) or one line of text; 401 on a page is the login form. */
function refuse(request: IncomingMessage, response: ServerResponse, error: DashboardError, authOff: boolean, log: Logger): void {
  if (error.code === 'internal') log.error({ err: error.cause ?? error, url: request.url }, 'dashboard request failed');
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const status = HTTP_STATUS[error.code];
  const message = error.code === 'internal' ? 'internal error' : error.message;
  const headers: Record<string, string> = {};
  if (error.allow !== undefined) headers['allow'] = error.allow.join(', ');
  if (error.code === 'unavailable') headers['retry-after'] = '5';
  if (error.code === 'payload_too_large') headers['connection'] = 'close';
  if (!wantsPage(request)) return sendText(response, status, message, headers);
  if (error.code === 'unauthenticated') return sendHtml(response, status, loginPage(request.url ?? '/'), headers);
  const body = html`<h1>${status} ${titleOf(error)}</h1><p class="problem" role="alert">${message}</p><p><a href="/">Back to the runs</a></p>`;
  sendHtml(response, status, page(titleOf(error), { principal: undefined, authOff }, body), headers);
}

function titleOf(error: DashboardError): string {
  return error.code.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}
