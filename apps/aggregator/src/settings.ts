// The aggregator's options, declared once. Kept light (no gRPC, SQLite or proto code at import):
// the command line registers them at every start through `@rlsa/aggregator/settings`.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { choice, decimal, defineOptions, integer, list, text, toggle, type OptionValues } from '@rlsa/options';
import type { AggregatorOptions } from './aggregator-server.ts';
import { AggregatorError } from './errors.ts';
import { DURABILITIES } from './storage/schema.ts';

/** What `--durability` accepts (the storage's durability modes). */
export { DURABILITIES };

/** The `rlsa` subcommand that runs the aggregator. */
export const AGGREGATOR_COMMAND = 'aggregator';

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
      dataDir: text('--data-dir <dir>', 'state directory (aggregator.sqlite, WAL)', { required: true }),
      durability: choice(
        '--durability <mode>',
        'normal: acknowledged chunks survive a process crash (WAL, synchronous=NORMAL); full: also power loss (fsync per commit)',
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
    },
  },
  security: {
    heading: 'Security:',
    options: {
      tokensFile: text('--tokens-file <file>', 'bearer tokens (YAML/JSON: tokens: [{subject, role, sha256}]); without it auth is off'),
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
    },
  },
});

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
  return {
    cert: readPem(security.tlsCert, 'TLS certificate'),
    key: readPem(security.tlsKey, 'TLS key'),
    ...(security.clientCa !== undefined ? { clientCa: readPem(security.clientCa, 'client CA') } : {}),
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
    ...(tls !== undefined ? { tls } : {}),
    insecure: security.insecure,
    runs: runConfigs,
    maxReceiveBytes: Math.round(network.maxReceiveMb * 1024 * 1024),
    durability: storage.durability,
    logger,
  };
}
