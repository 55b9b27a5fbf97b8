// The trainer node's options, declared once. Kept free of tfjs and gRPC (the command line registers
// them at every start); `@rlsa/trainer-node/options` imports only this file and the vocabularies.
import { ENCODING_NAMES } from '@rlsa/client';
import { NODE_ROLES, SCENARIOS } from '@rlsa/core';
import { DATASET_NAMES, TEST_SPLITS } from '@rlsa/data';
import { LAYOUTS } from '@rlsa/encoders';
import { choice, decimal, defaultValues, defineOptions, integer, text, toArgv, toggle, type OptionValues, type PartialOptionValues } from '@rlsa/options';
import { CHANNEL_COUNTS, DEFAULT_HOLDOUT_FRACTION, FIT_MODES, ID_SCHEMES, RESIZE_KERNELS } from '@rlsa/sources';
import { MAX_NATIVE_THREADS } from '@rlsa/linalg-native/native-options';
import { BACKENDS } from '@rlsa/tfjs-kernels/backends';
import { MODEL_NAMES } from './model-specs.ts';

/** The channel counts `--channels` takes, as text (decoded images are grey or RGB). */
const CHANNEL_CHOICES = CHANNEL_COUNTS.map(String);

/** Rows per upload chunk: 1,024 rows of 256 float32 values are 1 MiB, well under gRPC's message limit. */
export const DEFAULT_CHUNK_ROWS = 1024;

/**
 * `rlsa trainer`'s options by group. Each is a flag, an RLSA_* variable and a settings-file key at
 * once; `TrainerSettings` is their resolved type and `trainerArgv` turns settings back into flags.
 * A new node setting is one entry here plus its use in the phase that needs it.
 */
export const TRAINER_OPTIONS = defineOptions({
  node: {
    heading: 'The node:',
    options: {
      run: text('--run <run>', 'run id', { required: true }),
      nodeId: text('--node-id <id>', "this node's id", { required: true }),
      role: choice('--role <role>', 'trainer (its task) or reference (all tasks, evaluated against, never merged)', NODE_ROLES, { default: 'trainer' }),
      task: integer('--task <t>', "the trainer's task, 0-based", { min: 0, default: 0 }),
    },
  },
  data: {
    heading: 'Data:',
    options: {
      data: text('--data <kind:where>', "the node's data: imagefolder:DIR, npy:DIR or builtin:NAME (a built-in data set, as --dataset NAME)"),
      dataset: choice('--dataset <name>', 'built-in data set (the same as --data builtin:NAME)', DATASET_NAMES),
      dataDir: text('--data-dir <dir>', "directory of the built-in data set's files (default: the data set's standard location)"),
      ids: choice('--ids <scheme>', "sample ids of the node's own data: content (SHA-256 of each file or row), filename (image folders), file (ids.npy) (default: content; an NPY folder's ids.npy when it has one)", ID_SCHEMES),
      resize: text('--resize <HxW>', 'resize every image to H×W (needed when the images differ in size)'),
      resizeFit: choice('--resize-fit <fit>', 'how --resize keeps the aspect ratio: cover (centre crop), contain (pad), fill (stretch)', FIT_MODES, { default: 'cover' }),
      resizeKernel: choice('--resize-kernel <kernel>', 'interpolation of --resize', RESIZE_KERNELS, { default: 'lanczos3' }),
      channels: choice('--channels <c>', 'channels images are decoded to: 3 (RGB) or 1 (grey)', CHANNEL_CHOICES, { default: '3' }),
      heldOut: decimal('--held-out <f>', "share of the node's own data held out (seeded by --seed) to test its model, unless the data has a test part", {
        accept: (n) => n >= 0 && n < 1,
        expected: 'a number in [0, 1)',
        default: DEFAULT_HOLDOUT_FRACTION,
      }),
    },
  },
  anchors: {
    heading: 'Anchors:',
    options: {
      anchors: text('--anchors <file|dir>', "a local copy of the run's anchor set (the encoded set, an .npy file, an array folder or an image folder): checked against the run's fingerprint instead of fetching it"),
    },
  },
  partition: {
    heading: 'Partition (the same on every node of a run):',
    options: {
      scenario: choice('--scenario <scenario>', 'how the training data is split into tasks', SCENARIOS, { default: 'shared-classes' }),
      tasks: integer('--tasks <k>', 'number of tasks (trainer nodes)', { min: 1, default: 2 }),
      shared: integer('--shared <s>', 'shared-samples: classes every task holds', { min: 0 }),
      novel: integer('--novel <n>', 'shared-samples: classes of each task alone', { min: 0 }),
      sharedPercent: integer('--shared-percent <p>', 'shared-classes: percent of each first-half class in task 0', { min: 0 }),
      seed: integer('--seed <seed>', 'seed of the partition and subsampling (the same on every node of a run)', { min: 0, default: 42 }),
      maxSamples: integer('--max-samples <n>', 'at most n training samples per task (seeded; the same ones on every node)', { min: 1 }),
      maxTestSamples: integer('--max-test-samples <n>', 'use a seeded subset of n test samples (the same on every node)', { min: 1 }),
      testSplit: choice(
        '--test-split <how>',
        "test samples a trainer embeds: those of its task's classes, or its share of the test split cut like the training split (the paper's protocol)",
        TEST_SPLITS,
        { default: 'classes' },
      ),
    },
  },
  training: {
    heading: 'Training:',
    options: {
      model: text('--model <model>', `a model the node trains (${MODEL_NAMES.join(', ')}), or a pretrained one: onnx:FILE.onnx, tfjs:DIR/model.json, embeddings:DIR (computed elsewhere)`, {
        required: true,
      }),
      initSeed: integer('--init-seed <seed>', "seed of this node's weight initialisation and batch order (default: derived from --seed and the node id)", { min: 0 }),
      epochs: integer('--epochs <e>', 'maximum training epochs', { min: 1, default: 10 }),
      batchSize: integer('--batch-size <b>', 'mini-batch size', { min: 1, default: 128 }),
      patience: integer('--patience <p>', 'early stopping: epochs without a better validation loss', { min: 1, default: 3 }),
      validationFraction: decimal('--validation-fraction <f>', 'share of the training samples held out for early stopping', {
        accept: (n) => n >= 0 && n < 1,
        expected: 'a number in [0, 1)',
        default: 0.1,
      }),
      learningRate: decimal('--learning-rate <lr>', 'Adam step size', { accept: (n) => n > 0, expected: 'a positive number', default: 1e-3 }),
      backend: choice('--backend <backend>', 'tfjs backend', BACKENDS, { default: 'auto' }),
      threads: integer('--threads <n>', "threads of the native training kernels (default: RLSA_NATIVE_THREADS, else every core the machine has)", { min: 1, max: MAX_NATIVE_THREADS }),
    },
  },
  encoder: {
    heading: 'Pretrained model (--model onnx: or tfjs:):',
    options: {
      layout: choice('--layout <layout>', "the ONNX model's image layout (default: its rlsa.layout metadata, else what its input allows)", LAYOUTS),
      mean: text('--mean <m1,m2,...>', 'per-channel mean of the inputs on [0, 1] (default: the model metadata rlsa.mean, else none)'),
      std: text('--std <s1,s2,...>', 'per-channel standard deviation of the inputs on [0, 1] (default: rlsa.std, else none)'),
      embeddingOutput: text('--embedding-output <name>', 'the ONNX output that is the embedding (default: rlsa.embedding_output, else the only output)'),
      embeddingLayer: text('--embedding-layer <name>', 'the tfjs layer that is the embedding (default: rlsa.embedding_output, else embedding)'),
      onnxThreads: integer('--onnx-threads <n>', "threads of ONNX Runtime's operators", { min: 1, default: 1 }),
    },
  },
  upload: {
    heading: 'Upload:',
    options: {
      encoding: choice('--encoding <encoding>', 'payload encoding of the uploaded rows', ENCODING_NAMES, { default: 'float32' }),
      uploadAbsolute: toggle('--upload-absolute', 'also upload absolute embeddings (research baselines; off: only relative rows leave the node)'),
      chunkRows: integer('--chunk-rows <n>', 'rows per upload chunk', { min: 1, default: DEFAULT_CHUNK_ROWS }),
    },
  },
  connection: {
    heading: 'Connection:',
    options: {
      aggregator: text('--aggregator <host:port>', 'aggregator address; without it the node trains and reports only, nothing is uploaded'),
      token: text('--token <token>', 'bearer token'),
      tokenFile: text('--token-file <file>', 'file holding the bearer token'),
      tlsCa: text('--tls-ca <file>', 'PEM CA to trust: turns on TLS'),
      tlsCert: text('--tls-cert <file>', 'PEM client certificate (mTLS)'),
      tlsKey: text('--tls-key <file>', 'PEM client key (mTLS)'),
    },
  },
  output: {
    heading: 'Output:',
    options: {
      resultsFile: text('--results-file <file>', 'write a JSON summary (task accuracy, backend, timings) here'),
      embeddingsOut: text('--embeddings-out <dir>', "also write the node's absolute embeddings here as an embeddings: folder (embeddings.npy, ids.npy, labels.npy, anchor_embeddings.npy); none of it is sent"),
    },
  },
});

/** The defaults of the data group (for settings given in code, where they may be left out). */
export const TRAINER_DATA_DEFAULTS = defaultValues(TRAINER_OPTIONS).data;

/** A node's settings as the command line resolves them, by group. */
export type TrainerSettings = OptionValues<typeof TRAINER_OPTIONS>;

/** Any subset of a node's settings, as a process that starts nodes gives them. */
export type TrainerArgvSettings = PartialOptionValues<typeof TRAINER_OPTIONS>;

/** The `rlsa` subcommand that runs one node. */
export const TRAINER_COMMAND = 'trainer';

/**
 * The argv (after the `rlsa` entry script) that starts a node with these settings: `['trainer',
 * '--run', ..., '--epochs', '3', ...]`; unset values are left to the node's defaults.
 */
export function trainerArgv(settings: TrainerArgvSettings): string[] {
  return [TRAINER_COMMAND, ...toArgv(TRAINER_OPTIONS, settings)];
}
