// The model architectures by name, kept free of tfjs so that the command line can list them
// for its flags without loading a tfjs backend.

/** Name of the layer whose output is the embedding (the layer before the classifier head). */
export const EMBEDDING_LAYER = 'embedding';

export interface CnnSpec {
  readonly kind: 'cnn';
  /** Filters of the two 5×5 convolutions. */
  readonly filters: readonly [number, number];
  readonly embedding: number;
}
export interface MlpSpec {
  readonly kind: 'mlp';
  /** Widths of the hidden SiLU layers before the embedding. */
  readonly hidden: readonly number[];
  readonly embedding: number;
}

/**
 * The architectures a node can train. `vanilla-cnn` is the paper's VanillaCNN; the variants change
 * its widths so that a run can mix architectures (the relative space makes their embeddings comparable).
 */
export const MODEL_SPECS = {
  'vanilla-cnn': { kind: 'cnn', filters: [32, 64], embedding: 128 },
  'vanilla-cnn-narrow': { kind: 'cnn', filters: [16, 32], embedding: 64 },
  'vanilla-cnn-wide': { kind: 'cnn', filters: [64, 128], embedding: 256 },
  mlp: { kind: 'mlp', hidden: [256], embedding: 128 },
  'mlp-narrow': { kind: 'mlp', hidden: [128], embedding: 64 },
  'mlp-wide': { kind: 'mlp', hidden: [512, 256], embedding: 256 },
} as const satisfies Record<string, CnnSpec | MlpSpec>;

export type ModelName = keyof typeof MODEL_SPECS;
export const MODEL_NAMES = Object.keys(MODEL_SPECS) as ModelName[];

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_SPECS, name);
}

/** Width of a model's embedding. */
export function embeddingWidth(name: ModelName): number {
  return MODEL_SPECS[name].embedding;
}
