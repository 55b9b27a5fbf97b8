import { Command, Option } from 'commander';
import pino from 'pino';
import type { AggregatorSettings } from '@rlsa/aggregator';
import { UsageError } from '../user-error.ts';

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new UsageError(`${name} must be an integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0)) throw new UsageError(`${name} must be a positive number, got ${JSON.stringify(value)}`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((v) => v !== '')];
}

/** `--flag-name` → RLSA_FLAG_NAME */
function envName(flag: string): string {
  return `RLSA_${flag.replace(/-/g, '_').toUpperCase()}`;
}

function option(flags: string, description: string, flag: string): Option {
  return new Option(flags, description).env(envName(flag));
}

/**
 * `rlsa aggregator`: the gRPC aggregator service. Every flag can also come from the env var
 * RLSA_<FLAG> and from `--config FILE` (YAML/JSON, camelCase keys); precedence flag > env > file > default.
 */
export function registerAggregatorCommand(program: Command): void {
  program
    .command('aggregator')
    .description('run the gRPC aggregator: stores node uploads in SQLite, serves the merged space, CKA, nearest neighbours')
    .addOption(option('--data-dir <dir>', 'state directory (aggregator.sqlite, WAL); required', 'data-dir'))
    .addOption(option('--host <host>', 'address to listen on; plaintext only on loopback unless --insecure', 'host').default('127.0.0.1'))
    .addOption(option('--port <port>', 'gRPC port; 0 picks a free one (logged)', 'port').default(50051).argParser(integer('--port')))
    .addOption(option('--metrics-port <port>', 'serve Prometheus /metrics over HTTP on this port (0 = a free one); off when absent', 'metrics-port').argParser(integer('--metrics-port')))
    .addOption(
      option('--health-port <port>', 'also serve grpc.health.v1 alone, plaintext, on this port (0 = a free one): for probes under mTLS', 'health-port').argParser(
        integer('--health-port'),
      ),
    )
    .addOption(option('--tokens-file <file>', 'bearer tokens (YAML/JSON: tokens: [{subject, role, sha256}]); without it auth is off', 'tokens-file'))
    .addOption(option('--tls-cert <file>', 'PEM server certificate (TLS)', 'tls-cert'))
    .addOption(option('--tls-key <file>', 'PEM server private key (TLS)', 'tls-key'))
    .addOption(option('--client-ca <file>', 'PEM CA for client certificates: turns on mTLS', 'client-ca'))
    .addOption(option('--insecure', 'allow plaintext on a non-loopback address', 'insecure'))
    .addOption(option('--run-file <file>', 'create the run(s) in this YAML/JSON file at start (repeatable)', 'run-file').argParser(collect))
    .addOption(option('--max-receive-mb <mb>', 'largest request message in MiB (bigger chunks: RESOURCE_EXHAUSTED)', 'max-receive-mb').default(64).argParser(positive('--max-receive-mb')))
    .addOption(
      option('--durability <mode>', 'normal: acknowledged chunks survive a process crash (WAL, synchronous=NORMAL); full: also power loss (fsync per commit)', 'durability')
        .choices(['normal', 'full'])
        .default('normal'),
    )
    .addOption(option('--config <file>', 'settings file (YAML/JSON, camelCase flag names as keys)', 'config'))
    .addOption(option('--log-level <level>', 'pino log level', 'log-level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .action(async (_flags: Record<string, unknown>, command: Command) => {
      // Loaded here, not at the top: gRPC and SQLite are heavy, and every other rlsa command starts without them.
      const { SETTING_KEYS, aggregatorOptionsFromSettings, loadTokensFile, readConfigFile, startAggregator } = await import('@rlsa/aggregator');
      const settings = mergeSettings(command, SETTING_KEYS, readConfigFile);
      const logger = pino({ level: settings.logLevel, base: { service: 'rlsa-aggregator' } });
      const handle = await startAggregator(aggregatorOptionsFromSettings(settings, logger));
      logger.info({ host: handle.host, port: handle.port, metricsPort: handle.metricsPort ?? null, healthPort: handle.healthPort ?? null, dataDir: settings.dataDir }, 'aggregator listening');
      const tokensFile = settings.tokensFile;
      if (tokensFile !== undefined) {
        // SIGHUP re-reads the tokens file: rotate tokens without a restart.
        process.on('SIGHUP', () => {
          try {
            handle.reloadTokens(loadTokensFile(tokensFile));
          } catch (error: unknown) {
            logger.error({ err: error, tokensFile }, 'tokens file not reloaded; the previous tokens stay in force');
          }
        });
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, 'draining');
          handle.shutdown().then(resolve, (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            resolve();
          });
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      logger.flush();
      process.exit(0);
    });
}

/** Flags (and RLSA_* env, which commander reads) over the config file over defaults. */
function mergeSettings(
  command: Command,
  settingKeys: readonly (keyof AggregatorSettings)[],
  readConfigFile: (path: string) => Partial<Record<keyof AggregatorSettings, unknown>>,
): AggregatorSettings {
  const flags = command.opts<Record<string, unknown>>();
  const configPath = flags['config'];
  const file = typeof configPath === 'string' ? readConfigFile(configPath) : {};
  const pick = (key: keyof AggregatorSettings): unknown => {
    const source = command.getOptionValueSource(key);
    if ((source === undefined || source === 'default') && file[key] !== undefined) return file[key];
    return flags[key];
  };
  const settings: Record<string, unknown> = {};
  for (const key of settingKeys) settings[key] = pick(key);
  const asNumber = (key: keyof AggregatorSettings): number | undefined => {
    const value = settings[key];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${key} must be a number, got ${JSON.stringify(value)}`);
    return n;
  };
  const runFile = settings['runFile'];
  return {
    dataDir: settings['dataDir'] as string | undefined,
    host: String(settings['host']),
    port: asNumber('port') as number,
    metricsPort: asNumber('metricsPort'),
    healthPort: asNumber('healthPort'),
    tokensFile: settings['tokensFile'] as string | undefined,
    tlsCert: settings['tlsCert'] as string | undefined,
    tlsKey: settings['tlsKey'] as string | undefined,
    clientCa: settings['clientCa'] as string | undefined,
    insecure: settings['insecure'] === true || settings['insecure'] === 'true',
    runFile: runFile === undefined ? [] : Array.isArray(runFile) ? runFile.map(String) : [String(runFile)],
    maxReceiveMb: asNumber('maxReceiveMb') as number,
    durability: settings['durability'] as 'normal' | 'full',
    logLevel: String(settings['logLevel']),
  };
}
