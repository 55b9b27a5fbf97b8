import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import type { AggregatorHandle } from '@rlsa/aggregator';
import { AGGREGATOR_COMMAND, AGGREGATOR_OPTIONS } from '@rlsa/aggregator/settings';
import { addOptions, defineOptions, resolveOptions } from '@rlsa/options';
import { PROCESS_OPTIONS } from '../process-options.ts';

/** The aggregator's own options and the process's (settings file, log level). */
export const AGGREGATOR_COMMAND_OPTIONS = defineOptions({ ...AGGREGATOR_OPTIONS, ...PROCESS_OPTIONS });

/** SIGHUP re-reads the tokens file: rotate tokens without a restart (a bad file keeps the previous tokens). */
function reloadTokensOnHangup(handle: AggregatorHandle, tokensFile: string, loadTokensFile: (path: string) => Parameters<AggregatorHandle['reloadTokens']>[0], logger: Logger): void {
  process.on('SIGHUP', () => {
    try {
      handle.reloadTokens(loadTokensFile(tokensFile));
    } catch (error: unknown) {
      logger.error({ err: error, tokensFile }, 'tokens file not reloaded; the previous tokens stay in force');
    }
  });
}

/** Resolves on SIGTERM or SIGINT once the aggregator has drained. */
function drainOnSignal(handle: AggregatorHandle, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
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
}

/**
 * `rlsa aggregator`: the gRPC aggregator service. Every option can also come from the env var
 * RLSA_<FLAG> and from `--config FILE` (YAML/JSON, camelCase keys); precedence flag > env > file > default.
 */
export function registerAggregatorCommand(program: Command): void {
  const command = program
    .command(AGGREGATOR_COMMAND)
    .description('run the gRPC aggregator: stores node uploads (segment files indexed in SQLite), serves the merged space, CKA, nearest neighbours');
  addOptions(command, AGGREGATOR_COMMAND_OPTIONS).action(async (_flags: Record<string, unknown>, cmd: Command) => {
    const settings = resolveOptions(cmd, AGGREGATOR_COMMAND_OPTIONS);
    // Loaded here, not at the top: gRPC and SQLite are heavy, and every other rlsa command starts without them.
    const { aggregatorOptionsFromSettings, announceListening, loadTokensFile, startAggregator } = await import('@rlsa/aggregator');
    const logger = pino({ level: settings.process.logLevel, base: { service: 'rlsa-aggregator' } });
    const handle = await startAggregator(await aggregatorOptionsFromSettings(settings, logger));
    announceListening(logger, { host: handle.host, port: handle.port, metricsPort: handle.metricsPort ?? null, healthPort: handle.healthPort ?? null, httpPort: handle.httpPort ?? null, dataDir: settings.storage.dataDir });
    if (settings.security.tokensFile !== undefined) reloadTokensOnHangup(handle, settings.security.tokensFile, loadTokensFile, logger);
    await drainOnSignal(handle, logger);
    logger.flush();
    process.exit(0);
  });
}
