import { jumble, linearCka, nearestCentroidAccuracy, separability, takeRows, type Linalg, type Matrix } from '@rlsa/core';
import { TEST_ID_OFFSET } from '@rlsa/data';
import type { CkaResult } from './results.ts';

/** Rows of a space with their global sample ids and class labels (row i ↔ sampleIds[i] ↔ labels[i]). */
export interface LabelledSpace {
  readonly sampleIds: Uint32Array;
  readonly values: Matrix;
  readonly labels: Int32Array;
}

/** Whether a global sample id is a test sample (TEST_ID_OFFSET + test index). */
export function isTestId(id: number): boolean {
  return id >= TEST_ID_OFFSET;
}

/** The rows of `space` whose id `keep` accepts, in order. */
export function filterRows(space: LabelledSpace, keep: (id: number, label: number) => boolean): LabelledSpace {
  const indices: number[] = [];
  for (let i = 0; i < space.sampleIds.length; i++) if (keep(space.sampleIds[i]!, space.labels[i]!)) indices.push(i);
  return {
    sampleIds: Uint32Array.from(indices, (i) => space.sampleIds[i]!),
    values: takeRows(space.values, indices),
    labels: Int32Array.from(indices, (i) => space.labels[i]!),
  };
}

/** Training rows (ids below TEST_ID_OFFSET) and test rows of a space. */
export function splitTrainTest(space: LabelledSpace): { train: LabelledSpace; test: LabelledSpace } {
  return { train: filterRows(space, (id) => !isTestId(id)), test: filterRows(space, (id) => isTestId(id)) };
}

/**
 * Pairs the rows of `x` with the rows of `reference` holding the same sample id: for each row of
 * `x` (in order, repeats allowed — the naive space holds a sample once per node) whose id the
 * reference has and `keep` accepts, that row and the reference's row. Returns two matrices with the
 * same row count, ready for CKA.
 */
export function pairWithReference(x: LabelledSpace, reference: LabelledSpace, keep: (id: number, label: number) => boolean = () => true): { x: Matrix; y: Matrix; n: number } {
  const position = new Map<number, number>();
  for (let i = 0; i < reference.sampleIds.length; i++) position.set(reference.sampleIds[i]!, i);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.sampleIds.length; i++) {
    const id = x.sampleIds[i]!;
    const j = position.get(id);
    if (j !== undefined && keep(id, x.labels[i]!)) {
      xs.push(i);
      ys.push(j);
    }
  }
  return { x: takeRows(x.values, xs), y: takeRows(reference.values, ys), n: xs.length };
}

/** Linear CKA (biased and debiased) of two row-paired matrices; `linalg` does the Gram products (default pure JS). */
export function ckaOf(x: Matrix, y: Matrix, linalg?: Linalg): CkaResult {
  const options = linalg ? { linalg } : {};
  return { linear: linearCka(x, y, options), linear_debiased: linearCka(x, y, { ...options, debiased: true }), n: x.rows };
}

/** CKA between a space and the reference on their common test samples (optionally only some classes). */
export function ckaVsReference(space: LabelledSpace, reference: LabelledSpace, classes?: ReadonlySet<number>, linalg?: Linalg): CkaResult | null {
  const paired = pairWithReference(space, reference, (id, label) => isTestId(id) && (classes === undefined || classes.has(label)));
  // Debiased CKA needs at least 4 rows; fewer means nothing meaningful to report.
  if (paired.n < 4) return null;
  return ckaOf(paired.x, paired.y, linalg);
}

/**
 * The naive baseline as the paper builds it ("jumble"): the absolute embeddings of every trainer,
 * stacked as separate rows without any alignment and zero-padded to the widest embedding (core
 * `jumble`). A sample held by k trainers appears k times, once per trainer, rows of trainer 0 first.
 */
export function naiveSpace(absolute: readonly LabelledSpace[]): LabelledSpace {
  const values = jumble(absolute.map((s) => s.values));
  const sampleIds = new Uint32Array(values.rows);
  const labels = new Int32Array(values.rows);
  let r = 0;
  for (const s of absolute) {
    sampleIds.set(s.sampleIds, r);
    labels.set(s.labels, r);
    r += s.sampleIds.length;
  }
  return { sampleIds, values, labels };
}

/** How the naive baseline is compared with the reference; written into results.json and the report. */
export const NAIVE_DEFINITION =
  "the trainers' absolute embeddings stacked as separate rows (the paper's jumble: a sample held by k trainers appears k times, " +
  "zero-padded to the widest embedding); CKA pairs each stacked test row with the reference's absolute embedding of the same " +
  'sample (reference rows repeated), on the test samples; its probe trains on the stacked training rows and is tested on the stacked test rows.';

/**
 * Nearest-centroid accuracy (centroids of the training rows) and separability (of the test rows) of a
 * space. `separabilityClasses`, when given, keeps only the class pairs with at least one class in it
 * (the paper's shared-samples analysis scores pairs that involve a task-specific class).
 */
export function classMetrics(
  train: LabelledSpace,
  test: LabelledSpace,
  separabilityClasses?: readonly number[],
): { nearestCentroid: number; separability: number } {
  return {
    nearestCentroid: nearestCentroidAccuracy(train.values, train.labels, test.values, test.labels),
    separability: separability(test.values, test.labels, { subset: separabilityClasses }).score,
  };
}

/**
 * The task-embedding baseline of the disjoint scenario (the paper's end-to-end space with the task
 * given to the classifier): each row instance-normalised, then a one-hot of the sample's task
 * (the block holding its class) appended. A learned task embedding fed to the probe's first linear
 * layer is the same function class as this one-hot (the layer learns the embedding).
 */
export function withTaskOneHot(space: LabelledSpace, taskOfClass: ReadonlyMap<number, number>, tasks: number, normalize: (x: Matrix) => Matrix): LabelledSpace {
  const normalized = normalize(space.values);
  const width = normalized.cols + tasks;
  const data = new Float32Array(normalized.rows * width);
  for (let i = 0; i < normalized.rows; i++) {
    data.set(normalized.data.subarray(i * normalized.cols, (i + 1) * normalized.cols), i * width);
    const task = taskOfClass.get(space.labels[i]!);
    if (task !== undefined) data[i * width + normalized.cols + task] = 1;
  }
  return { sampleIds: space.sampleIds, labels: space.labels, values: { rows: normalized.rows, cols: width, data } };
}
