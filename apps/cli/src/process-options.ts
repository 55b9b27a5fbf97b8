import { choice, defineOptions, settingsFile } from '@rlsa/options';

/** pino's levels, most to least severe: what `--log-level` accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of every long-running `rlsa` process (the aggregator, a trainer node): its settings file and its log level. */
export const PROCESS_OPTIONS = defineOptions({
  process: {
    heading: 'Process:',
    options: {
      config: settingsFile('--config <file>', 'settings file (YAML/JSON, camelCase flag names as keys)'),
      logLevel: choice('--log-level <level>', 'pino log level', LOG_LEVELS, { default: 'info' }),
    },
  },
});
