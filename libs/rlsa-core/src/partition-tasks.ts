import { RlsaError } from './errors.ts';
import { checkLabels } from './labels.ts';
import { permutation, seededRng, shuffleInPlace } from './random.ts';

/** How the classes and samples of a dataset are split between K tasks (one per party). */
export const SCENARIOS = ['shared-samples', 'shared-classes', 'disjoint'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface TaskPartition {
  readonly taskId: number;
  /** Classes assigned to the task, ascending. */
  readonly classes: readonly number[];
  /** Indices into `labels`, ascending. */
  readonly sampleIndices: Uint32Array;
}

export interface PartitionOptions {
  readonly scenario: Scenario;
  /** K, the number of tasks (2 for shared-classes). */
  readonly tasks: number;
  /** C: labels are in [0, C). */
  readonly numClasses: number;
  readonly seed: number;
  /** Indices never assigned to any task (the anchor pool). */
  readonly excluded?: ArrayLike<number> | undefined;
  /** shared-samples: S classes whose samples every task gets (required). */
  readonly shared?: number | undefined;
  /** shared-samples: N novel classes per task; default ⌊(C − S)/K⌋. */
  readonly novel?: number | undefined;
  /** shared-classes: p, default 80. */
  readonly sharedPercent?: number | undefined;
}

/**
 * Seeded, deterministic split of the samples (labels[i] = class of sample i, in [0, C)) into K
 * tasks; `excluded` indices (the anchor pool) are never assigned.
 * - `shared-samples`: the classes are shuffled (seeded); the first S are shared and every task
 *   gets all their (non-excluded) samples, the very same ones; the next K·N are cut into K
 *   blocks of N novel classes, one per task. Needs S + K·N ≤ C.
 * - `shared-classes` (K = 2): for each class c < ⌊C/2⌋ its samples are shuffled and task 0
 *   takes round(p% · n_c) of them, for each class c ≥ ⌊C/2⌋ it takes round((100 − p)% · n_c);
 *   task 1 takes the rest. Both tasks list all C classes. The two tasks are disjoint.
 * - `disjoint`: the classes are shuffled (seeded) and cut into K blocks whose sizes differ by at
 *   most one (the first C mod K blocks are larger); each task gets all samples of its block.
 */
export function partitionTasks(labels: ArrayLike<number>, options: PartitionOptions): TaskPartition[] {
  const { scenario, tasks: k, numClasses: c, seed } = options;
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new RlsaError('invalid_argument', `unknown scenario '${String(scenario)}' (expected ${SCENARIOS.join(', ')})`);
  if (!Number.isInteger(k) || k < 1) throw new RlsaError('invalid_argument', `tasks must be a positive integer, got ${k}`);
  if (!Number.isInteger(c) || c < 1) throw new RlsaError('invalid_argument', `numClasses must be a positive integer, got ${c}`);
  const y = checkLabels(labels, labels.length, 'labels');
  for (let i = 0; i < y.length; i++) {
    if (y[i]! >= c) throw new RlsaError('invalid_argument', `labels[${i}] = ${y[i]} is outside [0, ${c})`);
  }
  const excluded = new Uint8Array(y.length);
  if (options.excluded) {
    for (let t = 0; t < options.excluded.length; t++) {
      const i = options.excluded[t]!;
      if (!Number.isInteger(i) || i < 0 || i >= y.length) throw new RlsaError('invalid_argument', `excluded index ${i} is outside [0, ${y.length})`);
      excluded[i] = 1;
    }
  }
  // Candidate samples per class, ascending.
  const byClass: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < y.length; i++) if (!excluded[i]) byClass[y[i]!]!.push(i);
  const rng = seededRng(seed);

  const tasksOf = (classLists: number[][]): TaskPartition[] =>
    classLists.map((classes, taskId) => {
      const sorted = [...classes].sort((a, b) => a - b);
      const samples = sorted.flatMap((cls) => byClass[cls]!);
      return { taskId, classes: sorted, sampleIndices: Uint32Array.from(samples).sort() };
    });

  switch (scenario) {
    case 'shared-samples': {
      const s = options.shared;
      if (s === undefined || !Number.isInteger(s) || s < 0) throw new RlsaError('invalid_argument', `shared-samples needs 'shared' (a non-negative integer), got ${s}`);
      const n = options.novel ?? Math.floor((c - s) / k);
      if (!Number.isInteger(n) || n < 0) throw new RlsaError('invalid_argument', `novel must be a non-negative integer, got ${n}`);
      if (s + k * n > c) throw new RlsaError('invalid_argument', `shared + tasks × novel = ${s} + ${k}×${n} exceeds the ${c} classes`);
      const order = Array.from(permutation(c, rng));
      const sharedClasses = order.slice(0, s);
      return tasksOf(Array.from({ length: k }, (_, t) => [...sharedClasses, ...order.slice(s + t * n, s + (t + 1) * n)]));
    }
    case 'shared-classes': {
      if (k !== 2) throw new RlsaError('invalid_argument', `shared-classes splits between exactly 2 tasks, got ${k}`);
      const p = options.sharedPercent ?? 80;
      if (!Number.isFinite(p) || p < 0 || p > 100) throw new RlsaError('invalid_argument', `sharedPercent must be in [0, 100], got ${p}`);
      const half = Math.floor(c / 2);
      const first: number[] = [];
      const second: number[] = [];
      for (let cls = 0; cls < c; cls++) {
        const shuffled = shuffleInPlace(Uint32Array.from(byClass[cls]!), rng);
        const share = cls < half ? p : 100 - p;
        const take = Math.round((share * shuffled.length) / 100);
        for (let t = 0; t < shuffled.length; t++) (t < take ? first : second).push(shuffled[t]!);
      }
      const all = Array.from({ length: c }, (_, i) => i);
      return [
        { taskId: 0, classes: all, sampleIndices: Uint32Array.from(first).sort() },
        { taskId: 1, classes: [...all], sampleIndices: Uint32Array.from(second).sort() },
      ];
    }
    case 'disjoint': {
      if (k > c) throw new RlsaError('invalid_argument', `cannot cut ${c} classes into ${k} non-empty blocks`);
      const order = Array.from(permutation(c, rng));
      const base = Math.floor(c / k);
      const extra = c % k;
      const blocks: number[][] = [];
      let start = 0;
      for (let t = 0; t < k; t++) {
        const size = base + (t < extra ? 1 : 0);
        blocks.push(order.slice(start, start + size));
        start += size;
      }
      return tasksOf(blocks);
    }
  }
}
