import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import YAML from 'yaml';
import { DATASET_NAMES, TEST_SPLITS } from '@rlsa/data';
import type { TrainerNodeOptions } from '@rlsa/trainer-node';
import { MODEL_NAMES } from '@rlsa/trainer-node/model-specs';
import { UsageError } from '../user-error.ts';

const SCENARIOS = ['shared-samples', 'shared-classes', 'disjoint'] as const;
const BACKENDS = ['auto', 'node', 'wasm', 'cpu'] as const;
const ENCODINGS = ['float32', 'float16', 'int8'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** `--flag-name` → RLSA_FLAG_NAME */
function envName(flag: string): string {
  return `RLSA_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

function option(flags: string, description: string): Option {
  const long = /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
  return new Option(flags, description).env(envName(long));
}

function integer(name: string, min: number) {
  return (value: unknown): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function fraction(name: string) {
  return (value: unknown): number => {
    const n = Number(value);
    if (!(n >= 0 && n < 1)) throw new UsageError(`${name} must be a number in [0, 1), got ${JSON.stringify(value)}`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: unknown): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${name} must be a positive number, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Parsers per camelCase key, applied to flag, env and config-file values alike. */
const PARSERS: Record<string, (value: unknown) => unknown> = {
  task: integer('--task', 0),
  tasks: integer('--tasks', 1),
  shared: integer('--shared', 0),
  novel: integer('--novel', 0),
  sharedPercent: integer('--shared-percent', 0),
  seed: integer('--seed', 0),
  initSeed: integer('--init-seed', 0),
  epochs: integer('--epochs', 1),
  batchSize: integer('--batch-size', 1),
  patience: integer('--patience', 1),
  validationFraction: fraction('--validation-fraction'),
  learningRate: positiveNumber('--learning-rate'),
  maxSamples: integer('--max-samples', 1),
  maxTestSamples: integer('--max-test-samples', 1),
  chunkRows: integer('--chunk-rows', 1),
};

/**
 * `rlsa trainer`: one party of a run. Trains its model on its own slice of the data, embeds the
 * run's anchors and its samples, projects them on the anchors and uploads only the relative rows
 * (absolute embeddings only with --upload-absolute). Every flag also comes from RLSA_<FLAG> and
 * from `--config FILE` (YAML/JSON, camelCase keys); precedence flag > env > file > default.
 */
export function registerTrainerCommand(program: Command): void {
  const command = program
    .command('trainer')
    .description('train a node model on its task, embed, project on the run anchors and upload the relative space')
    .addOption(option('--aggregator <host:port>', 'aggregator address; without it the node trains and reports only, nothing is uploaded'))
    .addOption(option('--run <run>', 'run id (required)'))
    .addOption(option('--node-id <id>', 'this node\'s id (required)'))
    .addOption(option('--dataset <name>', 'data set (required)').choices(DATASET_NAMES))
    .addOption(option('--data-dir <dir>', 'directory of the data set files (default: the data set\'s standard location)'))
    .addOption(option('--model <name>', 'architecture (required)').choices(MODEL_NAMES))
    .addOption(option('--role <role>', 'trainer (its task) or reference (all tasks, evaluated against, never merged)').choices(['trainer', 'reference']).default('trainer'))
    .addOption(option('--task <t>', 'the trainer\'s task, 0-based').argParser(PARSERS['task']!).default(0))
    .addOption(option('--scenario <scenario>', 'how the training data is split into tasks').choices(SCENARIOS).default('shared-classes'))
    .addOption(option('--tasks <k>', 'number of tasks (trainer nodes)').argParser(PARSERS['tasks']!).default(2))
    .addOption(option('--shared <s>', 'shared-samples: classes every task holds').argParser(PARSERS['shared']!))
    .addOption(option('--novel <n>', 'shared-samples: classes of each task alone').argParser(PARSERS['novel']!))
    .addOption(option('--shared-percent <p>', 'shared-classes: percent of each first-half class in task 0').argParser(PARSERS['sharedPercent']!))
    .addOption(option('--seed <seed>', 'seed of the partition and subsampling (the same on every node of a run)').argParser(PARSERS['seed']!).default(42))
    .addOption(
      option('--init-seed <seed>', "seed of this node's weight initialisation and batch order (default: derived from --seed and the node id)").argParser(
        PARSERS['initSeed']!,
      ),
    )
    .addOption(option('--epochs <e>', 'maximum training epochs').argParser(PARSERS['epochs']!).default(10))
    .addOption(option('--batch-size <b>', 'mini-batch size').argParser(PARSERS['batchSize']!).default(128))
    .addOption(option('--patience <p>', 'early stopping: epochs without a better validation loss').argParser(PARSERS['patience']!).default(3))
    .addOption(option('--validation-fraction <f>', 'share of the training samples held out for early stopping').argParser(PARSERS['validationFraction']!).default(0.1))
    .addOption(option('--learning-rate <lr>', 'Adam step size').argParser(PARSERS['learningRate']!).default(1e-3))
    .addOption(option('--max-samples <n>', 'at most n training samples per task (seeded; the same ones on every node)').argParser(PARSERS['maxSamples']!))
    .addOption(option('--max-test-samples <n>', 'use a seeded subset of n test samples (the same on every node)').argParser(PARSERS['maxTestSamples']!))
    .addOption(
      option('--test-split <how>', "test samples a trainer embeds: those of its task's classes, or its share of the test split cut like the training split (the paper's protocol)")
        .choices(TEST_SPLITS)
        .default('classes'),
    )
    .addOption(option('--backend <backend>', 'tfjs backend').choices(BACKENDS).default('auto'))
    .addOption(option('--encoding <encoding>', 'payload encoding of the uploaded rows').choices(ENCODINGS).default('float32'))
    .addOption(option('--upload-absolute', 'also upload absolute embeddings (research baselines; off: only relative rows leave the node)'))
    .addOption(option('--chunk-rows <n>', 'rows per upload chunk').argParser(PARSERS['chunkRows']!).default(1024))
    .addOption(option('--token <token>', 'bearer token'))
    .addOption(option('--token-file <file>', 'file holding the bearer token'))
    .addOption(option('--tls-ca <file>', 'PEM CA to trust: turns on TLS'))
    .addOption(option('--tls-cert <file>', 'PEM client certificate (mTLS)'))
    .addOption(option('--tls-key <file>', 'PEM client key (mTLS)'))
    .addOption(option('--config <file>', 'settings file (YAML/JSON, camelCase flag names as keys)'))
    .addOption(option('--log-level <level>', 'pino log level').choices(LOG_LEVELS).default('info'))
    .addOption(option('--results-file <file>', 'write a JSON summary (task accuracy, backend, timings) here'));
  command.action(async (_flags: Record<string, unknown>, cmd: Command) => {
    const settings = mergeSettings(cmd);
    // Loaded here, not at the top: tfjs and gRPC are heavy, and every other rlsa command starts without them.
    const { readTokenFile, runTrainerNode } = await import('@rlsa/trainer-node');
    const logger = pino({ level: String(settings['logLevel']), base: { service: 'rlsa-trainer' } });
    const result = await runTrainerNode(trainerOptions(settings, readTokenFile), logger);
    const resultsFile = settings['resultsFile'];
    if (typeof resultsFile === 'string') writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
    logger.info({ taskAccuracy: result.taskAccuracy, totalSeconds: result.timings.totalSeconds }, 'trainer done');
    logger.flush();
    // The wasm runtime keeps handles open; the work is done and the logs are flushed.
    process.exit(0);
  });
}

function readConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new UsageError(`${path}: cannot read the config file (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text) as unknown;
  } catch (error: unknown) {
    throw new UsageError(`${path}: not valid YAML/JSON (${(error as Error).message})`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${path}: the config file must be a mapping of settings`);
  return parsed as Record<string, unknown>;
}

/** Flags (and RLSA_* env, which commander reads) over the config file over defaults; values parsed. */
function mergeSettings(cmd: Command): Record<string, unknown> {
  const flags = cmd.opts<Record<string, unknown>>();
  const configPath = flags['config'];
  const file = typeof configPath === 'string' ? readConfig(configPath) : {};
  const known = new Set(cmd.options.map((o) => o.attributeName()));
  for (const key of Object.keys(file)) {
    if (!known.has(key)) throw new UsageError(`${String(configPath)}: unknown setting "${key}"`);
  }
  const settings: Record<string, unknown> = {};
  for (const key of known) {
    const source = cmd.getOptionValueSource(key);
    const fromFile = (source === undefined || source === 'default') && file[key] !== undefined;
    const value = fromFile ? file[key] : flags[key];
    settings[key] = value !== undefined && fromFile && PARSERS[key] ? PARSERS[key](value) : value;
  }
  const choices: Record<string, readonly string[]> = {
    dataset: DATASET_NAMES,
    model: MODEL_NAMES,
    role: ['trainer', 'reference'],
    scenario: SCENARIOS,
    testSplit: TEST_SPLITS,
    backend: BACKENDS,
    encoding: ENCODINGS,
    logLevel: LOG_LEVELS,
  };
  for (const [key, allowed] of Object.entries(choices)) {
    const value = settings[key];
    if (value !== undefined && !allowed.includes(String(value))) {
      throw new UsageError(`${key} "${String(value)}" is not one of ${allowed.join(', ')}`);
    }
  }
  for (const key of ['run', 'nodeId', 'dataset', 'model']) {
    if (settings[key] === undefined) throw new UsageError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`);
  }
  return settings;
}

function readPem(file: unknown): Buffer | undefined {
  if (typeof file !== 'string') return undefined;
  try {
    return readFileSync(file);
  } catch (error: unknown) {
    throw new UsageError(`${file}: cannot read (${(error as Error).message})`);
  }
}

function trainerOptions(s: Record<string, unknown>, readTokenFile: (file: string) => string): TrainerNodeOptions {
  const num = (key: string): number | undefined => (s[key] === undefined ? undefined : Number(s[key]));
  if (s['token'] !== undefined && s['tokenFile'] !== undefined) throw new UsageError('give --token or --token-file, not both');
  const token = typeof s['tokenFile'] === 'string' ? readTokenFile(s['tokenFile']) : (s['token'] as string | undefined);
  const ca = readPem(s['tlsCa']);
  const cert = readPem(s['tlsCert']);
  const key = readPem(s['tlsKey']);
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = ca !== undefined || cert !== undefined ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : undefined;
  return {
    aggregator: s['aggregator'] as string | undefined,
    runId: String(s['run']),
    nodeId: String(s['nodeId']),
    dataset: String(s['dataset']),
    dataDir: s['dataDir'] as string | undefined,
    model: String(s['model']),
    role: s['role'] as 'trainer' | 'reference',
    task: num('task'),
    scenario: s['scenario'] as TrainerNodeOptions['scenario'],
    tasks: Number(s['tasks']),
    shared: num('shared'),
    novel: num('novel'),
    sharedPercent: num('sharedPercent'),
    seed: Number(s['seed']),
    initSeed: num('initSeed'),
    epochs: Number(s['epochs']),
    batchSize: Number(s['batchSize']),
    patience: num('patience'),
    validationFraction: num('validationFraction'),
    learningRate: num('learningRate'),
    maxSamples: num('maxSamples'),
    maxTestSamples: num('maxTestSamples'),
    testSplit: s['testSplit'] as TrainerNodeOptions['testSplit'],
    backend: s['backend'] as TrainerNodeOptions['backend'],
    encoding: s['encoding'] as TrainerNodeOptions['encoding'],
    uploadAbsolute: s['uploadAbsolute'] === true || s['uploadAbsolute'] === 'true',
    chunkRows: num('chunkRows'),
    token,
    tls,
  };
}
