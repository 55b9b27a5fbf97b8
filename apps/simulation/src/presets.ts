import type { SimulateOptions } from './simulate.ts';

/** The settings a user chooses (flags); the rest of SimulateOptions is wiring. */
export type SimulateSettings = Omit<SimulateOptions, 'out' | 'cliEntry' | 'logger' | 'progress' | 'signal' | 'preset' | 'paperResultsDir'>;

/**
 * The main job's defaults: shared classes on Fashion-MNIST with 2 nodes, sized to finish within
 * 3 minutes on a 2-core machine with CKA(merged, reference) ≥ 0.7 (measured numbers in the README).
 * The MLP trains fast on the wasm backend; a per-task sample cap bounds training time while every
 * test sample is still embedded and evaluated; the probe is capped too (its settings otherwise the paper's).
 */
export const DEFAULTS: SimulateSettings = {
  scenario: 'shared-classes',
  dataset: 'fashion-mnist',
  dataDir: undefined,
  nodes: 2,
  models: ['mlp'],
  referenceModel: undefined,
  epochs: 3,
  batchSize: 128,
  maxSamples: 6000,
  maxTestSamples: undefined,
  anchors: 256,
  anchorStrategy: 'random',
  shared: undefined,
  novel: undefined,
  sharedPercent: undefined,
  testSplit: 'classes',
  seed: 42,
  backend: 'auto',
  encoding: 'float32',
  probe: { enabled: true, maxEpochs: 25, patience: 10, maxTrainRows: 4000 },
};

/** A named set of runs; each run's settings override the defaults, flags given by the user override both. */
export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly runs: readonly (Partial<SimulateSettings> & { readonly label: string })[];
  /** Where the paper's numbers apply. */
  readonly paper: boolean;
}

const PAPER_COMMON: Partial<SimulateSettings> = {
  dataset: 'cifar100',
  models: ['vanilla-cnn'],
  nodes: 2,
  epochs: 20,
  maxSamples: undefined,
  maxTestSamples: undefined,
  anchors: 256,
  anchorStrategy: 'random',
  probe: { enabled: true, maxEpochs: 100, patience: 10, maxTrainRows: null },
};

export const PRESETS: Readonly<Record<string, Preset>> = {
  'paper-cifar100': {
    name: 'paper-cifar100',
    description:
      "the paper's three experiments on CIFAR-100 with the VanillaCNN: shared samples (S = 80, N = 10), shared classes (80/20), disjoint (two class halves); the paper's numbers beside ours",
    paper: true,
    runs: [
      { ...PAPER_COMMON, label: 'shared-samples', scenario: 'shared-samples', shared: 80, novel: 10 },
      // The paper's code cuts the test split 80/20 like the training split (each test sample in one task).
      { ...PAPER_COMMON, label: 'shared-classes', scenario: 'shared-classes', sharedPercent: 80, testSplit: 'partition' },
      { ...PAPER_COMMON, label: 'disjoint', scenario: 'disjoint' },
    ],
  },
  'main-job': {
    name: 'main-job',
    description: 'the README main job: shared classes on Fashion-MNIST, 2 nodes (the defaults)',
    paper: false,
    runs: [{ label: 'shared-classes' }],
  },
};

export type StudyKind = 'anchors' | 'nodes' | 'architectures' | 'seeds';
export const STUDY_KINDS: readonly StudyKind[] = ['anchors', 'nodes', 'architectures', 'seeds'];
