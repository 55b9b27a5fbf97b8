// The settings of one simulated run, declared once: `rlsa simulate` and `rlsa study` register them,
// the presets are layers of them, and the defaults are the main job. Free of tfjs, gRPC and vega:
// every `rlsa` process loads it at start (`@rlsa/simulation/options`).
import { ENCODING_NAMES } from '@rlsa/client';
import { ANCHOR_STRATEGIES, SCENARIOS, type AnchorStrategy } from '@rlsa/core';
import { DATASET_NAMES } from '@rlsa/data';
import { choice, defaultValues, defineOptions, integer, limit, list, text, toggle, type OptionLayer, type OptionValues } from '@rlsa/options';
import { BACKENDS } from '@rlsa/tfjs-kernels/backends';
import { TRAINER_OPTIONS } from '@rlsa/trainer-node/options';

/**
 * The run's settings by group. The defaults are the main job's: shared classes on Fashion-MNIST
 * with 2 nodes, sized to finish within 3 minutes on a 2-core machine with CKA(merged, reference) ≥ 0.7.
 * The MLP trains fast on the wasm backend; a per-task sample cap bounds training time while every
 * test sample is still embedded and evaluated; the probe is capped too (its settings otherwise the paper's).
 */
export const SIMULATION_OPTIONS = defineOptions({
  data: {
    heading: 'Data:',
    options: {
      dataset: choice('--dataset <name>', 'data set', DATASET_NAMES, { default: 'fashion-mnist' }),
      dataDir: text('--data-dir <dir>', "the data set's files (default: its standard location)"),
    },
  },
  partition: {
    heading: 'Partition:',
    options: {
      scenario: choice('--scenario <name>', 'shared-samples | shared-classes | disjoint', SCENARIOS, { default: 'shared-classes' }),
      nodes: integer('--nodes <k>', 'trainer nodes (the reference comes on top)', { min: 1, default: 2 }),
      seed: integer('--seed <s>', 'seed of partitions, anchors, training and probes', { min: 0, default: 42 }),
      shared: TRAINER_OPTIONS.partition.options.shared,
      novel: integer('--novel <N>', 'shared-samples: classes of its own per task', { min: 0 }),
      sharedPercent: integer('--shared-percent <p>', "shared-classes: task 0's share of the first half of the classes", { min: 1 }),
      maxSamples: limit('--max-samples <n|all>', 'training samples per task at most (seeded, the same on every node)', { min: 1, default: 6000 }),
      maxTestSamples: limit('--max-test-samples <n|all>', 'test samples at most (a seeded subset, the same on every node)', { min: 1, defaultLabel: 'all' }),
      // As the node's own: the simulation passes it through.
      testSplit: TRAINER_OPTIONS.partition.options.testSplit,
    },
  },
  training: {
    heading: 'Training:',
    options: {
      model: text('--model <name>', 'model of every node (mlp, vanilla-cnn, or a variant)', { default: 'mlp' }),
      models: list('--models <m1,m2,...>', 'one model per trainer node (mixed architectures)'),
      referenceModel: text('--reference-model <name>', "the reference node's model (default: the first trainer's)"),
      epochs: integer('--epochs <n>', 'training epochs per node', { min: 1, default: 3 }),
      batchSize: integer('--batch-size <n>', 'training batch size', { min: 1, default: 128 }),
      backend: choice('--backend <name>', 'tfjs backend of the nodes and the probe', BACKENDS, { default: 'auto' }),
    },
  },
  upload: {
    heading: 'Upload:',
    options: {
      encoding: choice('--encoding <name>', 'upload encoding of the nodes', ENCODING_NAMES, { default: 'float32' }),
    },
  },
  anchors: {
    heading: 'Anchors:',
    options: {
      anchors: integer('--anchors <n>', 'anchor count (the relative width)', { min: 1, default: 256 }),
      anchorStrategy: choice('--anchor-strategy <name>', 'how anchors are picked from the pool', ANCHOR_STRATEGIES, { default: 'random' }),
    },
  },
  probe: {
    heading: "The paper's probe:",
    options: {
      probe: toggle('--no-probe', "skip the paper's probe (accuracy columns stay empty)"),
      probeEpochs: integer('--probe-epochs <n>', 'probe epochs at most (the paper: 100)', { min: 1, default: 25 }),
      probePatience: integer('--probe-patience <n>', 'probe early-stopping patience', { min: 1, default: 10 }),
      probeMaxTrain: limit('--probe-max-train <n|all>', 'probe training rows at most (seeded sample)', { min: 1, default: 4000 }),
    },
  },
});

/** The settings as `rlsa simulate` resolves them (option keys, by group). */
export type SimulationSettings = OptionValues<typeof SIMULATION_OPTIONS>;

/** Settings by option key (a preset's run): below the flags, above the defaults. */
export type SimulationLayer = OptionLayer<typeof SIMULATION_OPTIONS>;

/** One simulated run's settings, by group, in the simulation's words. */
export interface SimulationRun {
  readonly data: SimulationSettings['data'];
  /** The partition of the data into `nodes` tasks, the same for every node. */
  readonly partition: SimulationSettings['partition'];
  readonly training: {
    /** Model of each trainer (one entry: all trainers). */
    readonly models: readonly string[];
    /** Model of the reference node (default: the first trainer's). */
    readonly referenceModel?: string | undefined;
    readonly epochs: number;
    readonly batchSize: number;
    readonly backend: SimulationSettings['training']['backend'];
  };
  readonly upload: SimulationSettings['upload'];
  readonly anchors: { readonly count: number; readonly strategy: AnchorStrategy };
  readonly probe: {
    readonly enabled: boolean;
    readonly maxEpochs: number;
    readonly patience: number;
    /** Probe training rows at most; null: all. */
    readonly maxTrainRows: number | null;
    /** Worker threads training probes at once (default: min(2, cores)). */
    readonly threads?: number;
  };
}

/**
 * A run from resolved settings: `--models` (one per trainer) over `--model`, and then as many
 * nodes as models unless `--nodes` was given too (`nodesGiven`).
 */
export function simulationRun(settings: SimulationSettings, nodesGiven: boolean): SimulationRun {
  const { model, models, referenceModel, ...training } = settings.training;
  const perNode = models.length > 0;
  return {
    data: settings.data,
    partition: { ...settings.partition, nodes: perNode && !nodesGiven ? models.length : settings.partition.nodes },
    training: { ...training, models: perNode ? models : [model], referenceModel },
    upload: settings.upload,
    anchors: { count: settings.anchors.anchors, strategy: settings.anchors.anchorStrategy },
    probe: { enabled: settings.probe.probe, maxEpochs: settings.probe.probeEpochs, patience: settings.probe.probePatience, maxTrainRows: settings.probe.probeMaxTrain ?? null },
  };
}

/** The main job's settings: every default. */
export const DEFAULTS: SimulationRun = simulationRun(defaultValues(SIMULATION_OPTIONS), false);

/** A partial run (a study's swept value): each group's fields over the base's. */
export type RunChanges = { readonly [G in keyof SimulationRun]?: Partial<SimulationRun[G]> };

/** `base` with `changes` applied group by group. */
export function withChanges<R extends SimulationRun>(base: R, changes: RunChanges): R {
  return {
    ...base,
    data: { ...base.data, ...changes.data },
    partition: { ...base.partition, ...changes.partition },
    training: { ...base.training, ...changes.training },
    upload: { ...base.upload, ...changes.upload },
    anchors: { ...base.anchors, ...changes.anchors },
    probe: { ...base.probe, ...changes.probe },
  };
}
