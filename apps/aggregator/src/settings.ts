import { runConfigMessage } from '@rlsa/wire';
import type { EncodingName, RunConfigInput, SimilarityName } from '@rlsa/wire';
import type { RunConfig } from '@rlsa/proto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import YAML from 'yaml';
import type { AggregatorOptions } from './aggregator-server.ts';
import { loadTokensFile } from './auth.ts';
import { AggregatorError } from './errors.ts';

/** `rlsa aggregator` settings after flags, RLSA_* env vars and the config file were merged. */
export interface AggregatorSettings {
  dataDir?: string | undefined;
  host: string;
  port: number;
  metricsPort?: number | undefined;
  healthPort?: number | undefined;
  tokensFile?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  clientCa?: string | undefined;
  insecure: boolean;
  runFile: string[];
  maxReceiveMb: number;
  durability: 'normal' | 'full';
  logLevel: string;
}

/** Keys a config file may hold: the camelCase flag names. */
export const SETTING_KEYS: readonly (keyof AggregatorSettings)[] = [
  'dataDir',
  'host',
  'port',
  'metricsPort',
  'healthPort',
  'tokensFile',
  'tlsCert',
  'tlsKey',
  'clientCa',
  'insecure',
  'runFile',
  'maxReceiveMb',
  'durability',
  'logLevel',
];

function parseFile(path: string, what: string): unknown {
  try {
    return YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a YAML/JSON config file: an object whose keys are camelCase flag names. */
export function readConfigFile(path: string): Partial<Record<keyof AggregatorSettings, unknown>> {
  const parsed = parseFile(path, 'config file');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AggregatorError('failed_precondition', `config file ${path} must hold an object of settings`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      throw new AggregatorError('failed_precondition', `config file ${path}: unknown setting ${key} (known: ${SETTING_KEYS.join(', ')})`);
    }
  }
  return parsed as Partial<Record<keyof AggregatorSettings, unknown>>;
}

/**
 * Reads a run file (YAML or JSON): one run `{ runId, anchorIds, anchorFingerprint, similarity?,
 * acceptedEncodings?, allowAbsolute?, center? }`, a list of them, or `{ runs: [...] }`.
 */
export function loadRunFile(path: string): RunConfig[] {
  const parsed = parseFile(path, 'run file');
  const list: unknown[] = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { runs?: unknown })?.runs) ? ((parsed as { runs: unknown[] }).runs) : [parsed];
  return list.map((entry, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const where = `run file ${path}${list.length > 1 ? ` (run ${i})` : ''}`;
    if (typeof e['runId'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: runId must be a string`);
    if (!Array.isArray(e['anchorIds']) || !e['anchorIds'].every((id) => Number.isSafeInteger(id) && id >= 0)) {
      throw new AggregatorError('failed_precondition', `${where}: anchorIds must be a list of sample ids`);
    }
    if (typeof e['anchorFingerprint'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: anchorFingerprint must be a string`);
    if (typeof e['dataset'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: dataset must name the built-in data set of the anchor ids`);
    const input: RunConfigInput = {
      runId: e['runId'],
      anchors: { kind: 'builtin', dataset: e['dataset'], sampleIds: (e['anchorIds'] as number[]).map(BigInt), fingerprint: e['anchorFingerprint'] },
      ...(e['similarity'] !== undefined ? { similarity: e['similarity'] as SimilarityName } : {}),
      ...(e['acceptedEncodings'] !== undefined ? { acceptedEncodings: e['acceptedEncodings'] as EncodingName[] } : {}),
      ...(e['allowAbsolute'] !== undefined ? { allowAbsolute: e['allowAbsolute'] === true } : {}),
      ...(e['center'] !== undefined ? { center: e['center'] === true } : {}),
    };
    try {
      return runConfigMessage(input);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `${where}: ${(error as Error).message}`, { cause: error });
    }
  });
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Turns merged settings into server options: reads the tokens, TLS and run files. */
export function aggregatorOptionsFromSettings(settings: AggregatorSettings, logger: Logger): AggregatorOptions {
  if (settings.dataDir === undefined || settings.dataDir === '') {
    throw new AggregatorError('failed_precondition', '--data-dir is required (or RLSA_DATA_DIR, or dataDir in the config file)');
  }
  if (!Number.isInteger(settings.port) || settings.port < 0 || settings.port > 65535) throw new AggregatorError('failed_precondition', `--port ${settings.port} is not a port`);
  if (settings.metricsPort !== undefined && (!Number.isInteger(settings.metricsPort) || settings.metricsPort < 0 || settings.metricsPort > 65535)) {
    throw new AggregatorError('failed_precondition', `--metrics-port ${settings.metricsPort} is not a port`);
  }
  if (settings.healthPort !== undefined && (!Number.isInteger(settings.healthPort) || settings.healthPort < 0 || settings.healthPort > 65535)) {
    throw new AggregatorError('failed_precondition', `--health-port ${settings.healthPort} is not a port`);
  }
  if (!(settings.maxReceiveMb > 0)) throw new AggregatorError('failed_precondition', `--max-receive-mb ${settings.maxReceiveMb} must be positive`);
  if (settings.durability !== 'normal' && settings.durability !== 'full') {
    throw new AggregatorError('failed_precondition', `--durability ${String(settings.durability)} must be normal or full`);
  }
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) {
    throw new AggregatorError('failed_precondition', '--tls-cert and --tls-key go together');
  }
  if (settings.clientCa !== undefined && settings.tlsCert === undefined) {
    throw new AggregatorError('failed_precondition', '--client-ca (mTLS) needs --tls-cert and --tls-key');
  }
  const tls =
    settings.tlsCert !== undefined && settings.tlsKey !== undefined
      ? {
          cert: readPem(settings.tlsCert, 'TLS certificate'),
          key: readPem(settings.tlsKey, 'TLS key'),
          ...(settings.clientCa !== undefined ? { clientCa: readPem(settings.clientCa, 'client CA') } : {}),
        }
      : undefined;
  return {
    dataDir: settings.dataDir,
    host: settings.host,
    port: settings.port,
    ...(settings.metricsPort !== undefined ? { metricsPort: settings.metricsPort } : {}),
    ...(settings.healthPort !== undefined ? { healthPort: settings.healthPort } : {}),
    ...(settings.tokensFile !== undefined ? { tokens: loadTokensFile(settings.tokensFile) } : {}),
    ...(tls !== undefined ? { tls } : {}),
    insecure: settings.insecure,
    runs: settings.runFile.flatMap(loadRunFile),
    maxReceiveBytes: Math.round(settings.maxReceiveMb * 1024 * 1024),
    durability: settings.durability,
    logger,
  };
}
