import type { SimulationLayer } from './options.ts';

export { DEFAULTS, type SimulationRun } from './options.ts';
export { PAPER_RESULTS_DIR } from './paper-results.ts';

/** A named set of runs; each run's settings override the defaults, flags given by the user override both. */
export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly runs: readonly (SimulationLayer & { readonly label: string })[];
  /** Where the paper's numbers apply. */
  readonly paper: boolean;
}

const PAPER_COMMON: SimulationLayer = {
  dataset: 'cifar100',
  model: 'vanilla-cnn',
  nodes: 2,
  epochs: 20,
  maxSamples: undefined,
  maxTestSamples: undefined,
  anchors: 256,
  anchorStrategy: 'random',
  probe: true,
  probeEpochs: 100,
  probePatience: 10,
  probeMaxTrain: undefined,
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

/** The sweeps `rlsa study` runs. */
export const STUDY_KINDS = ['anchors', 'nodes', 'architectures', 'seeds'] as const;
export type StudyKind = (typeof STUDY_KINDS)[number];
