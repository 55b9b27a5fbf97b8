import { RlsaError } from './errors.ts';
import { checkLabels, indicesByClass } from './labels.ts';
import { jsLinalg, type Linalg } from './linalg.ts';
import { assertFinite, assertMatrix, type Matrix } from './matrix.ts';
import { permutation, randomFloat, randomInt, seededRng, shuffleInPlace, type Rng } from './random.ts';

/**
 * How anchors are drawn from the held-out pool:
 * - `random`: a seeded uniform sample without replacement.
 * - `stratified`: per class, a seeded uniform sample; class quotas proportional to the class
 *   sizes in the pool, by the largest-remainder method (ties to the lower class).
 * - `fps`: farthest-point sampling in Euclidean distance, from a seeded random first point;
 *   each next anchor maximises the distance to the nearest anchor chosen so far (ties to the lower index).
 * - `kmeans`: k-means++ seeding, Lloyd iterations (at most {@link KMEANS_MAX_ITERATIONS}, until
 *   assignments stop changing), then each centroid, in order, snapped to the nearest pool
 *   sample not taken yet, so the anchors are real and distinct samples.
 */
export const ANCHOR_STRATEGIES = ['random', 'stratified', 'fps', 'kmeans'] as const;
export type AnchorStrategy = (typeof ANCHOR_STRATEGIES)[number];

export interface SelectAnchorsOptions {
  /** Number of anchors, 1 ≤ count ≤ pool size. */
  readonly count: number;
  readonly strategy: AnchorStrategy;
  /** Integer seed; the same seed and inputs give the same anchors. */
  readonly seed: number;
  /** Class of each pool row (required by `stratified`). */
  readonly labels?: ArrayLike<number> | undefined;
  /** Pool size when `pool` is null (`random`, or `stratified` with labels). */
  readonly poolSize?: number | undefined;
  /** Backend for the k-means distance products; default `jsLinalg`. */
  readonly linalg?: Linalg | undefined;
}

export const KMEANS_MAX_ITERATIONS = 50;

/**
 * Picks `count` anchors from a held-out pool (P×D, or null when the strategy needs no
 * coordinates) and returns distinct indices into the pool (not sorted; deterministic for a seed).
 */
export function selectAnchors(pool: Matrix | null, options: SelectAnchorsOptions): Uint32Array {
  const { count, strategy, seed } = options;
  if (!(ANCHOR_STRATEGIES as readonly string[]).includes(strategy)) throw new RlsaError('invalid_argument', `unknown anchor strategy '${String(strategy)}' (expected ${ANCHOR_STRATEGIES.join(', ')})`);
  if (pool !== null) {
    assertMatrix(pool, 'pool');
    assertFinite(pool, 'pool');
  }
  let size = pool?.rows ?? options.poolSize ?? options.labels?.length;
  if (size === undefined) throw new RlsaError('invalid_argument', 'selectAnchors needs a pool matrix, labels or poolSize');
  if (pool !== null && options.poolSize !== undefined && options.poolSize !== pool.rows) {
    throw new RlsaError('shape_mismatch', `poolSize ${options.poolSize} but the pool has ${pool.rows} rows`);
  }
  if (!Number.isInteger(size) || size < 0) throw new RlsaError('invalid_argument', `poolSize must be a non-negative integer, got ${size}`);
  size = size | 0;
  if (!Number.isInteger(count) || count < 1 || count > size) {
    throw new RlsaError('invalid_argument', `count must be an integer in [1, ${size}] (the pool size), got ${count}`);
  }
  const rng = seededRng(seed);
  switch (strategy) {
    case 'random':
      return permutation(size, rng).slice(0, count);
    case 'stratified': {
      if (options.labels === undefined) throw new RlsaError('invalid_argument', "strategy 'stratified' needs labels");
      return stratified(checkLabels(options.labels, size, 'labels'), count, rng);
    }
    case 'fps':
      return farthestPoint(requirePool(pool, strategy), count, rng);
    case 'kmeans':
      return kmeansSnapped(requirePool(pool, strategy), count, rng, options.linalg ?? jsLinalg);
  }
}

/**
 * The anchor pool as in the paper: the first `poolSize` (default 1000) entries of a seeded
 * shuffle (default seed 0) of 0..n−1, in shuffle order. These samples are excluded from every task.
 */
export function anchorPool(n: number, options: { poolSize?: number | undefined; seed?: number | undefined } = {}): Uint32Array {
  const poolSize = options.poolSize ?? 1000;
  if (!Number.isInteger(n) || n < 0) throw new RlsaError('invalid_argument', `n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(poolSize) || poolSize < 0 || poolSize > n) {
    throw new RlsaError('invalid_argument', `poolSize must be an integer in [0, ${n}], got ${poolSize}`);
  }
  return permutation(n, seededRng(options.seed ?? 0)).slice(0, poolSize);
}

function requirePool(pool: Matrix | null, strategy: AnchorStrategy): Matrix {
  if (pool === null) throw new RlsaError('invalid_argument', `strategy '${strategy}' needs the pool's coordinates`);
  if (pool.cols === 0) throw new RlsaError('invalid_argument', 'the pool has no columns');
  return pool;
}

function stratified(labels: Int32Array, count: number, rng: Rng): Uint32Array {
  const groups = [...indicesByClass(labels).entries()];
  const total = labels.length;
  const quotas = groups.map(([, idx]) => Math.floor((count * idx.length) / total));
  let remaining = count - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = groups
    .map(([c, idx], g) => ({ g, c, frac: (count * idx.length) / total - quotas[g]! }))
    .sort((p, q) => q.frac - p.frac || p.c - q.c);
  for (const { g } of byRemainder) {
    if (remaining === 0) break;
    quotas[g]!++;
    remaining--;
  }
  const out: number[] = [];
  groups.forEach(([, idx], g) => {
    const shuffled = shuffleInPlace(Uint32Array.from(idx), rng);
    for (let t = 0; t < quotas[g]!; t++) out.push(shuffled[t]!);
  });
  return Uint32Array.from(out);
}

function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const v = a[ai + k]! - b[bi + k]!;
    s += v * v;
  }
  return s;
}

function farthestPoint(pool: Matrix, count: number, rng: Rng): Uint32Array {
  const { rows: p, cols: d } = pool;
  // One float64 copy keeps the distance loop monomorphic (and fast).
  const data = Float64Array.from(pool.data);
  const out = new Uint32Array(count);
  const nearest = new Float64Array(p).fill(Infinity);
  let current = randomInt(rng, 0, p - 1);
  for (let t = 0; t < count; t++) {
    out[t] = current;
    let best = -1;
    let bestDist = -1;
    for (let i = 0; i < p; i++) {
      const dist = Math.min(nearest[i]!, squaredDistance(data, i * d, data, current * d, d));
      nearest[i] = dist;
      if (dist > bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    // Once every point coincides with an anchor, fall back to the lowest unused index so anchors stay distinct.
    if (bestDist <= 0 && t + 1 < count) {
      const used = new Set(out.subarray(0, t + 1));
      best = 0;
      while (used.has(best)) best++;
    }
    current = best;
  }
  return out;
}

function kmeansSnapped(pool: Matrix, count: number, rng: Rng, linalg: Linalg): Uint32Array {
  const { rows: p, cols: d } = pool;
  const data = Float64Array.from(pool.data);
  // k-means++ seeding: the next centre is a pool point drawn with probability ∝ D(x)².
  const centres = new Float64Array(count * d);
  const nearest = new Float64Array(p).fill(Infinity);
  let pick = randomInt(rng, 0, p - 1);
  for (let c = 0; c < count; c++) {
    for (let k = 0; k < d; k++) centres[c * d + k] = data[pick * d + k]!;
    let total = 0;
    for (let i = 0; i < p; i++) {
      nearest[i] = Math.min(nearest[i]!, squaredDistance(data, i * d, centres, c * d, d));
      total += nearest[i]!;
    }
    if (c + 1 === count) break;
    if (total > 0) {
      let target = randomFloat(rng) * total;
      pick = p - 1;
      for (let i = 0; i < p; i++) {
        target -= nearest[i]!;
        if (target < 0 && nearest[i]! > 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = randomInt(rng, 0, p - 1);
    }
  }
  // Lloyd iterations; an empty cluster keeps its centre. Distances through one P×count product.
  const assign = new Int32Array(p).fill(-1);
  const sums = new Float64Array(count * d);
  const sizes = new Uint32Array(count);
  const poolSq = rowSquaredNorms(data, p, d);
  const centreMatrix: Matrix = { rows: count, cols: d, data: centres };
  for (let iter = 0; iter < KMEANS_MAX_ITERATIONS; iter++) {
    const dist = squaredDistances(pool, poolSq, centreMatrix, linalg);
    let changed = false;
    for (let i = 0; i < p; i++) {
      let best = 0;
      let bestDist = Infinity;
      for (let c = 0; c < count; c++) {
        const v = dist[i * count + c]!;
        if (v < bestDist) {
          bestDist = v;
          best = c;
        }
      }
      if (assign[i] !== best) {
        assign[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < p; i++) {
      const c = assign[i]!;
      sizes[c]!++;
      for (let k = 0; k < d; k++) sums[c * d + k]! += data[i * d + k]!;
    }
    for (let c = 0; c < count; c++) {
      if (sizes[c] === 0) continue;
      for (let k = 0; k < d; k++) centres[c * d + k] = sums[c * d + k]! / sizes[c]!;
    }
  }
  // Snap each centroid, in order, to the nearest pool sample not taken yet.
  const dist = squaredDistances(pool, poolSq, centreMatrix, linalg);
  const taken = new Uint8Array(p);
  const out = new Uint32Array(count);
  for (let c = 0; c < count; c++) {
    let best = -1;
    let bestDist = Infinity;
    for (let i = 0; i < p; i++) {
      if (taken[i]) continue;
      const v = dist[i * count + c]!;
      if (v < bestDist) {
        bestDist = v;
        best = i;
      }
    }
    taken[best] = 1;
    out[c] = best;
  }
  return out;
}

function rowSquaredNorms(data: Float32Array | Float64Array, rows: number, d: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += data[i * d + k]! * data[i * d + k]!;
    out[i] = sq;
  }
  return out;
}

/** ‖xᵢ − c_j‖² (P×count) = ‖xᵢ‖² + ‖c_j‖² − 2⟨xᵢ, c_j⟩, clamped at 0. */
function squaredDistances(pool: Matrix, poolSq: Float64Array, centres: Matrix, linalg: Linalg): Float64Array {
  const count = centres.rows;
  const centreSq = rowSquaredNorms(centres.data, count, centres.cols);
  const dots = linalg.matmulABt(pool, centres).data;
  const out = new Float64Array(pool.rows * count);
  for (let i = 0; i < pool.rows; i++) {
    for (let c = 0; c < count; c++) {
      const v = poolSq[i]! + centreSq[c]! - 2 * dots[i * count + c]!;
      out[i * count + c] = v > 0 ? v : 0;
    }
  }
  return out;
}
