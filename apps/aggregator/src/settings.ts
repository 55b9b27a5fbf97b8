// The aggregator's options, declared once. Kept light (no gRPC, SQLite or proto code at import):
// the command line registers them at every start through `@rlsa/aggregator/settings`.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { choice, decimal, defineOptions, integer, list, text, toggle, type OptionValues } from '@rlsa/options';
import type { AggregatorOptions } from './aggregator-server.ts';
import { AggregatorError } from './errors.ts';
import { DEFAULT_LIMITS, DEFAULT_SERVER_QUOTAS } from './limits.ts';
import type { AggregatorLimits, ServerQuotas } from './limits.ts';
import { MAX_WINDOW_BYTES, MIN_WINDOW_BYTES, STREAM_WINDOW_BYTES } from './http2-window.ts';
import { DURABILITIES } from './storage/schema.ts';
import { checkTlsMaterial } from './tls-material.ts';

/** What `--durability` accepts (the storage's durability modes). */
export { DURABILITIES };

/** The `rlsa` subcommand that runs the aggregator. */
export const AGGREGATOR_COMMAND = 'aggregator';

/** Bytes per MiB (the flags' unit). */
const MIB = 1024 * 1024;

/** A TCP port, or 0 for a free one. */
const port = { min: 0, max: 65535 } as const;

/**
 * `rlsa aggregator`'s options by group: each a flag, an RLSA_* variable and a settings-file key at
 * once (precedence flag > env > file > default). `AggregatorSettings` is their resolved type.
 */
export const AGGREGATOR_OPTIONS = defineOptions({
  storage: {
    heading: 'Storage:',
    options: {
      dataDir: text('--data-dir <dir>', 'state directory (aggregator.sqlite: runs and the chunk index; segments/: the chunks; anchor-sets/)', { required: true }),
      durability: choice(
        '--durability <mode>',
        'normal: acknowledged chunks survive a process crash (records and index commits in the page cache); full: also power loss (segment fdatasync, then the index commit fsynced)',
        DURABILITIES,
        { default: 'normal' },
      ),
    },
  },
  network: {
    heading: 'Network:',
    options: {
      host: text('--host <host>', 'address to listen on; plaintext only on loopback unless --insecure', { default: '127.0.0.1' }),
      port: integer('--port <port>', 'gRPC port; 0 picks a free one (logged)', { ...port, default: 50051 }),
      metricsPort: integer('--metrics-port <port>', 'serve Prometheus /metrics over HTTP on this port (0 = a free one); off when absent', port),
      healthPort: integer('--health-port <port>', 'also serve grpc.health.v1 alone, plaintext, on this port (0 = a free one): for probes under mTLS', port),
      httpPort: integer('--http-port <port>', 'serve the read-only dashboard on this port (HTTPS under TLS; 0 = a free one); off when absent', port),
      maxReceiveMb: decimal('--max-receive-mb <mb>', 'largest request message in MiB (bigger chunks: RESOURCE_EXHAUSTED)', {
        accept: (n) => n > 0,
        expected: 'a positive number',
        default: 64,
      }),
      streamWindowMb: decimal('--stream-window-mb <mb>', "HTTP/2 receive window per stream in MiB: what one upload has in flight (it moves at most this per round trip: raise it where bandwidth × RTT is larger)", {
        accept: (n) => n * MIB >= MIN_WINDOW_BYTES && n * MIB <= MAX_WINDOW_BYTES,
        expected: 'a number from 0.0625 (64 KiB) to 2047',
        default: STREAM_WINDOW_BYTES / MIB,
      }),
    },
  },
  security: {
    heading: 'Security:',
    options: {
      tokensFile: text('--tokens-file <file>', 'bearer tokens (YAML/JSON: tokens: [{subject, sha256, grants: [admin | node:<run> | reader:<run> | reference:<run>]}], written by rlsa tokens add); without it auth is off'),
      tlsCert: text('--tls-cert <file>', 'PEM server certificate (TLS)'),
      tlsKey: text('--tls-key <file>', 'PEM server private key (TLS)'),
      clientCa: text('--client-ca <file>', 'PEM CA for client certificates: turns on mTLS'),
      insecure: toggle('--insecure', 'allow plaintext on a non-loopback address'),
    },
  },
  runs: {
    heading: 'Runs:',
    options: {
      runFile: list('--run-file <file>', 'create the run(s) in this YAML/JSON file at start (repeatable)'),
      maxRunSamples: integer('--max-run-samples <n>', "distinct samples of a run's merged space, when the run's quota is 0", { min: 1, default: DEFAULT_SERVER_QUOTAS.maxRunSamples }),
      maxNodeSamples: integer('--max-node-samples <n>', "distinct samples of one node's space, when the run's quota is 0 (0: the run's)", { min: 0, default: DEFAULT_SERVER_QUOTAS.maxNodeSamples }),
      maxRunMb: decimal('--max-run-mb <mb>', "stored MiB of a run, when the run's quota is 0 (0: only the disk's free space)", nonNegative(DEFAULT_SERVER_QUOTAS.maxRunBytes)),
      maxNodeMb: decimal('--max-node-mb <mb>', "stored MiB of one node, when the run's quota is 0 (0: only the disk's free space)", nonNegative(DEFAULT_SERVER_QUOTAS.maxNodeBytes)),
    },
  },
  limits: {
    heading: 'Limits:',
    options: {
      maxStreamsPerConnection: integer('--max-streams-per-connection <n>', 'concurrent calls on one HTTP/2 connection', { min: 1, default: DEFAULT_LIMITS.maxStreamsPerConnection }),
      maxCallsPerPrincipal: integer('--max-calls-per-principal <n>', "concurrent calls of one token's subject (RESOURCE_EXHAUSTED beyond)", { min: 1, default: DEFAULT_LIMITS.maxCallsPerPrincipal }),
      messageTimeoutS: decimal('--message-timeout-s <s>', 'a request message must arrive whole within this of its first byte', positive(DEFAULT_LIMITS.messageTimeoutMs / 1000)),
      prefaceTimeoutS: decimal('--preface-timeout-s <s>', 'a connection must finish TLS and the HTTP/2 preface within this', positive(DEFAULT_LIMITS.prefaceTimeoutMs / 1000)),
      idleTimeoutS: decimal('--idle-timeout-s <s>', 'a connection without calls for this long is closed', positive(DEFAULT_LIMITS.idleConnectionMs / 1000)),
      readThreads: integer('--read-threads <n>', 'threads for heavy reads (Evaluate, Nearest, node spaces)', { min: 1, max: 64, default: DEFAULT_LIMITS.readThreads }),
      readQueue: integer('--read-queue <n>', 'heavy reads waiting for a thread, at most (RESOURCE_EXHAUSTED beyond)', { min: 0, default: DEFAULT_LIMITS.readQueue }),
      maxWatchers: integer('--max-watchers <n>', 'open WatchRun calls, all runs (RESOURCE_EXHAUSTED beyond)', { min: 1, default: DEFAULT_LIMITS.maxWatchers }),
    },
  },
});

/** A decimal option > 0 with its default. */
function positive(value: number): { accept: (n: number) => boolean; expected: string; default: number } {
  return { accept: (n) => n > 0, expected: 'a positive number', default: value };
}

/** A decimal option ≥ 0 with its default. */
function nonNegative(value: number): { accept: (n: number) => boolean; expected: string; default: number } {
  return { accept: (n) => n >= 0, expected: 'a number ≥ 0', default: value };
}

/** `rlsa aggregator` settings after flags, RLSA_* env vars and the config file were merged, by group. */
export type AggregatorSettings = OptionValues<typeof AGGREGATOR_OPTIONS>;

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The server's TLS material from the settings (none without --tls-cert), refusing a half-given pair. */
function tlsFromSettings(security: AggregatorSettings['security']): AggregatorOptions['tls'] {
  if ((security.tlsCert === undefined) !== (security.tlsKey === undefined)) throw new AggregatorError('failed_precondition', '--tls-cert and --tls-key go together');
  if (security.clientCa !== undefined && security.tlsCert === undefined) throw new AggregatorError('failed_precondition', '--client-ca (mTLS) needs --tls-cert and --tls-key');
  if (security.tlsCert === undefined || security.tlsKey === undefined) return undefined;
  const tls = {
    cert: readPem(security.tlsCert, 'TLS certificate'),
    key: readPem(security.tlsKey, 'TLS key'),
    ...(security.clientCa !== undefined ? { clientCa: readPem(security.clientCa, 'client CA') } : {}),
  };
  checkTlsMaterial(tls, tlsLabels(security));
  return tls;
}

/** How refusals of the TLS material name it: flag and file. */
function tlsLabels(security: AggregatorSettings['security']): { cert: string; key: string; clientCa: string } {
  return { cert: `--tls-cert ${security.tlsCert}`, key: `--tls-key ${security.tlsKey}`, clientCa: `--client-ca ${security.clientCa}` };
}

/** The limits and the server's quotas from the settings. */
function boundsFromSettings({ runs, limits }: AggregatorSettings): { limits: AggregatorLimits; quotas: ServerQuotas } {
  return {
    limits: {
      maxStreamsPerConnection: limits.maxStreamsPerConnection,
      maxCallsPerPrincipal: limits.maxCallsPerPrincipal,
      messageTimeoutMs: Math.round(limits.messageTimeoutS * 1000),
      prefaceTimeoutMs: Math.round(limits.prefaceTimeoutS * 1000),
      idleConnectionMs: Math.round(limits.idleTimeoutS * 1000),
      readThreads: limits.readThreads,
      readQueue: limits.readQueue,
      maxWatchers: limits.maxWatchers,
    },
    quotas: { maxRunSamples: runs.maxRunSamples, maxNodeSamples: runs.maxNodeSamples, maxRunBytes: Math.round(runs.maxRunMb * MIB), maxNodeBytes: Math.round(runs.maxNodeMb * MIB) },
  };
}

/** Turns resolved settings into server options: reads the tokens, TLS and run files. */
export async function aggregatorOptionsFromSettings(settings: AggregatorSettings, logger: Logger): Promise<AggregatorOptions> {
  const { storage, network, security, runs } = settings;
  const tls = tlsFromSettings(security);
  // The run file's messages need the wire views (proto code): loaded only when a run file is given.
  const { loadRunFile } = await import('./run-file.ts');
  const runConfigs = (await Promise.all(runs.runFile.map(loadRunFile))).flat();
  const { loadTokensFile } = await import('./auth.ts');
  return {
    dataDir: storage.dataDir,
    host: network.host,
    port: network.port,
    ...(network.metricsPort !== undefined ? { metricsPort: network.metricsPort } : {}),
    ...(network.healthPort !== undefined ? { healthPort: network.healthPort } : {}),
    ...(network.httpPort !== undefined ? { httpPort: network.httpPort } : {}),
    ...(security.tokensFile !== undefined ? { tokens: loadTokensFile(security.tokensFile) } : {}),
    ...(tls !== undefined ? { tls, tlsLabels: tlsLabels(security) } : {}),
    insecure: security.insecure,
    runs: runConfigs,
    maxReceiveBytes: Math.round(network.maxReceiveMb * 1024 * 1024),
    streamWindowBytes: Math.round(network.streamWindowMb * MIB),
    durability: storage.durability,
    ...boundsFromSettings(settings),
    logger,
  };
}
