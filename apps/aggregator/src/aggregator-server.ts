import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ChannelOptions, ServerCredentials as Credentials } from '@grpc/grpc-js';
import { AdminService, AggregatorService, serviceUnit } from '@rlsa/proto';
import type { RunConfig } from '@rlsa/proto';
import type { Logger } from 'pino';
import { openAggregatorCore } from './aggregator-core.ts';
import type { AggregatorCore } from './aggregator-core.ts';
import { audit } from './access/audit-log.ts';
import { Authenticator } from './auth.ts';
import type { TokenEntry } from './auth.ts';
import { startDashboard } from './dashboard/dashboard-server.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { AggregatorError } from './errors.ts';
import { guardHttp2Connections } from './http2-guards.ts';
import { widenHttp2Windows } from './http2-window.ts';
import { tuneGarbageCollection } from './ingest/gc-settings.ts';
import { DEFAULT_LIMITS, DEFAULT_SERVER_QUOTAS, KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS } from './limits.ts';
import type { AggregatorLimits, ServerQuotas } from './limits.ts';
import { AggregatorMetrics } from './metrics.ts';
import { AdminRpc } from './services/admin-service.ts';
import { AggregatorRpc } from './services/aggregator-service.ts';
import { AggregatorHealth } from './services/health.ts';
import { HealthPortThread } from './services/health-port.ts';
import { storageSignals } from './services/storage-signals.ts';
import { rlsaReflectionService } from './services/reflection.ts';
import { PrincipalCalls } from './services/principal-calls.ts';
import { aggregatorEdge, shuttingDown } from './services/service-edge.ts';
import { WatchSlots } from './services/watch-slots.ts';
import type { Durability } from './storage/schema.ts';
import { Teardown } from './teardown.ts';
import { checkTlsMaterial } from './tls-material.ts';
import type { TlsLabels } from './tls-material.ts';

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
  /** PEM server certificate and key; clientCa turns on mTLS (client certificates required). Checked at start (`checkTlsMaterial`). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** What refusals of `tls` call its parts (the command line names the flags and files); default: the flags. */
  tlsLabels?: TlsLabels;
  /** Allows plaintext on a non-loopback address. */
  insecure?: boolean;
  /** Runs to create at start (run files); an existing identical run is kept. */
  runs?: readonly RunConfig[];
  /** grpc max receive message length in bytes; larger messages get RESOURCE_EXHAUSTED. */
  maxReceiveBytes?: number;
  /** HTTP/2 receive window per stream in bytes (default STREAM_WINDOW_BYTES): what one upload has in flight. */
  streamWindowBytes?: number;
  durability?: Durability;
  /** Connections, calls, reads and watchers, bounded (defaults: DEFAULT_LIMITS). */
  limits?: Partial<AggregatorLimits>;
  /** What a run's quota fields mean when 0 (defaults: DEFAULT_SERVER_QUOTAS). */
  quotas?: Partial<ServerQuotas>;
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
  // Chunks must die young, and scavenges stay on one thread: see gc-settings.ts.
  tuneGarbageCollection();
  const log = options.logger;
  const host = options.host ?? '127.0.0.1';
  checkTransport(options, host, log);
  if (options.tls !== undefined) checkTlsMaterial(options.tls, options.tlsLabels ?? TLS_FLAGS);
  const limits: AggregatorLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const authenticator = new Authenticator(options.tokens);
  if (!authenticator.enabled) log.warn('no tokens file: authentication is off, every caller is admin (development only)');
  const metrics = new AggregatorMetrics();
  const teardown = new Teardown();
  try {
    // Before anything of the data dir is read: one aggregator per data dir.
    teardown.add(lockDataDir(options.dataDir), (lock) => lock.release());
    const health = new AggregatorHealth();
    const coreOptions = { dataDir: options.dataDir, durability: options.durability ?? 'normal', runs: options.runs ?? [], quotas: { ...DEFAULT_SERVER_QUOTAS, ...options.quotas }, limits };
    const core = openAggregatorCore({ ...coreOptions, storageEvents: storageSignals(metrics, health, log) }, log, teardown);
    metrics.mergedBytes.set(core.runs.mergedBytes());
    const draining = new AbortController();
    metrics.countRuns(() => core.runs.countByState());
    metrics.countDamagedNodes(core.damagedNodeCount);
    metrics.countMergeBacklog(() => core.merge.bytesBehind);
    const edgeDeps = { authenticator, metrics, log, shutdown: draining.signal, mtls: options.tls?.clientCa !== undefined, calls: new PrincipalCalls(limits.maxCallsPerPrincipal) };
    const server = teardown.add(aggregatorServer(core, edgeDeps, health, options, limits), (s) => s.forceShutdown());
    const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port = await bind(server, `${bindHost}:${options.port ?? 50051}`, credentialsFor(options.tls), 'listen on');
    if (!widenHttp2Windows(server, options.streamWindowBytes)) log.debug('grpc-js internals changed: HTTP/2 windows stay at their defaults');
    guardConnections(server, limits, log);
    const healthPort = await serveHealthPort(health, { bindHost, port: options.healthPort, limits, log }, teardown);
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

/** How refusals name the TLS material given through the API: the flags that give it on the command line. */
const TLS_FLAGS: TlsLabels = { cert: '--tls-cert', key: '--tls-key', clientCa: '--client-ca' };

/**
 * grpc-js server options bounding connections: concurrent streams per connection (HTTP/2
 * SETTINGS_MAX_CONCURRENT_STREAMS), idle connections closed, silent peers pinged and dropped.
 */
function connectionOptions(limits: AggregatorLimits): ChannelOptions {
  return {
    'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
    'grpc.max_connection_idle_ms': limits.idleConnectionMs,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  };
}

/** The preface and message timeouts on a bound server's connections (see `guardHttp2Connections`). */
function guardConnections(server: Server, limits: AggregatorLimits, log: Logger): void {
  const guarded = guardHttp2Connections(server, limits, {
    // Debug: a flood of half-open sockets must not become a flood of log lines.
    onPrefaceTimeout: (remote) => log.debug({ remote, ms: limits.prefaceTimeoutMs }, 'connection closed: no HTTP/2 preface in time'),
    onMessageTimeout: (path, receivedBytes) => log.warn({ path, receivedBytes, ms: limits.messageTimeoutMs }, 'stream reset: request message not received whole in time'),
  });
  if (!guarded) log.warn('grpc-js internals changed: no preface or message timeouts on connections');
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
function aggregatorServer(core: AggregatorCore, edgeDeps: Parameters<typeof aggregatorEdge>[0], health: AggregatorHealth, options: AggregatorOptions, limits: AggregatorLimits): Server {
  const edge = aggregatorEdge(edgeDeps);
  const server = new Server({
    ...connectionOptions(limits),
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    'grpc.max_send_message_length': -1,
    interceptors: [edge.interceptor],
  });
  const units = [
    serviceUnit(AggregatorService, new AggregatorRpc({ ...core, metrics: edgeDeps.metrics, log: edgeDeps.log, watchers: new WatchSlots(limits.maxWatchers) }), edge),
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

/** The plaintext health-only port, when asked for: on a thread of its own, with the main port's connection bounds. */
async function serveHealthPort(
  health: AggregatorHealth,
  at: { bindHost: string; port: number | undefined; limits: AggregatorLimits; log: Logger },
  teardown: Teardown,
): Promise<number | undefined> {
  if (at.port === undefined) return undefined;
  const options = { address: `${at.bindHost}:${at.port}`, channelOptions: { ...connectionOptions(at.limits), 'grpc.max_receive_message_length': HEALTH_MAX_RECEIVE_BYTES }, guard: { prefaceTimeoutMs: at.limits.prefaceTimeoutMs, messageTimeoutMs: at.limits.messageTimeoutMs } };
  const thread = teardown.add(await HealthPortThread.start(health, options, at.log), (t) => t.stop());
  return thread.port;
}

/** A health check request is a service name: the health port takes no message above 4 KiB. */
const HEALTH_MAX_RECEIVE_BYTES = 4 * 1024;

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
