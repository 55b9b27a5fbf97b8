import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerCredentials as Credentials } from '@grpc/grpc-js';
import { AdminService, AggregatorService, serviceUnit } from '@rlsa/proto';
import type { RunConfig } from '@rlsa/proto';
import type { Logger } from 'pino';
import { openAggregatorCore } from './aggregator-core.ts';
import type { AggregatorCore } from './aggregator-core.ts';
import { audit } from './access/audit-log.ts';
import { Authenticator } from './auth.ts';
import type { TokenEntry } from './auth.ts';
import { startDashboard } from './dashboard/dashboard-server.ts';
import { AggregatorError } from './errors.ts';
import { widenHttp2Windows } from './http2-window.ts';
import { AggregatorMetrics } from './metrics.ts';
import { AdminRpc } from './services/admin-service.ts';
import { AggregatorRpc } from './services/aggregator-service.ts';
import { AggregatorHealth } from './services/health.ts';
import { storageSignals } from './services/storage-signals.ts';
import { rlsaReflectionService } from './services/reflection.ts';
import { aggregatorEdge, shuttingDown } from './services/service-edge.ts';
import type { Durability } from './storage/schema.ts';
import { Teardown } from './teardown.ts';

/** Default largest request message: 64 MiB (a chunk of 16,384 rows × 1,024 float32 is 64 MiB). */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export interface AggregatorOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 50051. */
  port?: number;
  /** Prometheus /metrics HTTP port (0 = a free port); undefined = no metrics endpoint. */
  metricsPort?: number;
  /** The read-only dashboard's port (HTTPS under TLS; 0 = a free port); undefined = no dashboard. */
  httpPort?: number;
  /**
   * A second, plaintext gRPC port serving only grpc.health.v1 (0 = a free port), for probes that
   * cannot present a client certificate under mTLS; undefined = none. Health is on the main port too.
   */
  healthPort?: number;
  /** Tokens (from a tokens file); undefined = auth off (warned). */
  tokens?: readonly TokenEntry[];
  /** PEM server certificate and key; clientCa turns on mTLS (client certificates required). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** Allows plaintext on a non-loopback address. */
  insecure?: boolean;
  /** Runs to create at start (run files); an existing identical run is kept. */
  runs?: readonly RunConfig[];
  /** grpc max receive message length in bytes; larger messages get RESOURCE_EXHAUSTED. */
  maxReceiveBytes?: number;
  durability?: Durability;
  logger: Logger;
}

export interface AggregatorHandle {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly httpPort: number | undefined;
  readonly metrics: AggregatorMetrics;
  /** Replaces the tokens (e.g. the tokens file re-read on SIGHUP); calls in progress keep their principal. */
  reloadTokens(tokens: readonly TokenEntry[]): void;
  /** Drains: refuses new calls, ends streams (uploads get UNAVAILABLE after their committed chunks), closes storage. */
  shutdown(graceMs?: number): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Starts the aggregator: opens (or creates) its data dir (`aggregator.sqlite`, `segments/`), rebuilds the merged
 * state, serves AggregatorService, AdminService, grpc.health.v1 and server reflection, and
 * optionally Prometheus metrics. Whatever a failed start opened is closed again.
 */
export async function startAggregator(options: AggregatorOptions): Promise<AggregatorHandle> {
  const log = options.logger;
  const host = options.host ?? '127.0.0.1';
  checkTransport(options, host, log);
  const authenticator = new Authenticator(options.tokens);
  if (!authenticator.enabled) log.warn('no tokens file: authentication is off, every caller is admin (development only)');
  const metrics = new AggregatorMetrics();
  const teardown = new Teardown();
  try {
    const health = new AggregatorHealth();
    const core = openAggregatorCore(
      { dataDir: options.dataDir, durability: options.durability ?? 'normal', runs: options.runs ?? [], storageEvents: storageSignals(metrics, health, log) },
      log,
      teardown,
    );
    metrics.mergedBytes.set(core.runs.mergedBytes());
    const draining = new AbortController();
    metrics.countRuns(() => core.runs.countByState());
    const edgeDeps = { authenticator, metrics, log, shutdown: draining.signal, mtls: options.tls?.clientCa !== undefined };
    const server = teardown.add(aggregatorServer(core, edgeDeps, health, options), (s) => s.forceShutdown());
    const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port = await bind(server, `${bindHost}:${options.port ?? 50051}`, credentialsFor(options.tls), 'listen on');
    if (!widenHttp2Windows(server)) log.debug('grpc-js internals changed: HTTP/2 windows stay at their defaults');
    const healthPort = await serveHealthPort(health, bindHost, options.healthPort, teardown);
    const metricsPort = await serveMetrics(metrics, host, options.metricsPort, teardown);
    const dashboardDeps = { ...core, authenticator, log: log.child({ component: 'dashboard' }), shutdown: draining.signal };
    const dashboardOptions = { host, port: options.httpPort ?? 0, loopback: isLoopback(host), insecure: options.insecure === true, tls: options.tls };
    const dashboard = options.httpPort === undefined ? undefined : teardown.add(await startDashboard(dashboardDeps, dashboardOptions), (d) => d.close());
    const shutdown = drainOnce(async (graceMs) => {
      draining.abort(shuttingDown());
      health.notServing();
      await drainServer(server, graceMs);
      await teardown.run();
      log.info('aggregator stopped');
    });
    const reloadTokens = (tokens: readonly TokenEntry[]): void => {
      authenticator.replace(tokens);
      dashboard?.endSessions();
      log.info({ tokens: tokens.length }, 'tokens reloaded');
      audit(log, 'SIGHUP', 'ReloadTokens', { tokens: tokens.length });
    };
    return { host, port, metricsPort, healthPort, httpPort: dashboard?.port, metrics, reloadTokens, shutdown };
  } catch (error: unknown) {
    await teardown.run();
    throw error;
  }
}

/** Plaintext only on loopback, unless `insecure` (warned). */
function checkTransport(options: AggregatorOptions, host: string, log: Logger): void {
  if (options.tls !== undefined || isLoopback(host)) return;
  if (options.insecure !== true) {
    throw new AggregatorError('failed_precondition', `refusing plaintext on non-loopback address ${host}: give --tls-cert/--tls-key, or --insecure`);
  }
  log.warn({ host }, 'serving plaintext on a non-loopback address (--insecure): tokens and data travel unencrypted');
}

/** The gRPC server with every service of the aggregator registered on it (not yet bound). */
function aggregatorServer(core: AggregatorCore, edgeDeps: Parameters<typeof aggregatorEdge>[0], health: AggregatorHealth, options: AggregatorOptions): Server {
  const edge = aggregatorEdge(edgeDeps);
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    'grpc.max_send_message_length': -1,
    interceptors: [edge.interceptor],
  });
  const units = [
    serviceUnit(AggregatorService, new AggregatorRpc({ ...core, metrics: edgeDeps.metrics, log: edgeDeps.log }), edge),
    serviceUnit(AdminService, new AdminRpc({ ...core, log: edgeDeps.log }), edge),
    health,
    rlsaReflectionService(),
  ];
  for (const unit of units) unit.addToServer(server);
  return server;
}

function credentialsFor(tls: AggregatorOptions['tls']): Credentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

/** Binds `server`; a failure is FAILED_PRECONDITION naming the address. */
async function bind(server: Server, address: string, credentials: Credentials, what: string): Promise<number> {
  try {
    return await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, credentials, (error, port) => (error === null ? resolve(port) : reject(error)));
    });
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot ${what} ${address}: ${(error as Error).message}`, { cause: error });
  }
}

/** The plaintext health-only port, when asked for. */
async function serveHealthPort(health: AggregatorHealth, bindHost: string, port: number | undefined, teardown: Teardown): Promise<number | undefined> {
  if (port === undefined) return undefined;
  const server = teardown.add(new Server(), (s) => s.forceShutdown());
  health.addToServer(server);
  return bind(server, `${bindHost}:${port}`, ServerCredentials.createInsecure(), 'serve health on');
}

/** The Prometheus endpoint, when asked for. */
async function serveMetrics(metrics: AggregatorMetrics, host: string, port: number | undefined, teardown: Teardown): Promise<number | undefined> {
  if (port === undefined) return undefined;
  let served: Awaited<ReturnType<AggregatorMetrics['serve']>>;
  try {
    served = await metrics.serve(host, port);
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot serve metrics on ${host}:${port}: ${(error as Error).message}`, { cause: error });
  }
  teardown.add(served.server, async (server) => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return served.port;
}

/** Waits for the calls in progress (streams end as the drain aborts them), forcing them after `graceMs`. */
function drainServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The shutdown, run once however often it is asked for. */
function drainOnce(drain: (graceMs: number) => Promise<void>): (graceMs?: number) => Promise<void> {
  let draining: Promise<void> | undefined;
  return (graceMs = 10_000) => (draining ??= drain(graceMs));
}
