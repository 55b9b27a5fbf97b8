import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { RlsaError } from './errors.ts';

/**
 * The project's one random source: a seeded generator (xoroshiro128+ from pure-rand); the same seed
 * gives the same stream everywhere. Every seeded draw (partitions, anchors, subsampling, synthetic
 * data, weight initialisation, batch order, probes, plot subsamples) advances one of these.
 */
export type Rng = RandomGenerator;

/** Makes the core's seeded generator. Seeds are integers (the low 32 bits are used by pure-rand). */
export function seededRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RlsaError('invalid_argument', `seed must be an integer, got ${seed}`);
  return xoroshiro128plus(seed | 0);
}

/** Uniform integer in [from, to] (both included). Advances `rng`. */
export function randomInt(rng: Rng, from: number, to: number): number {
  return uniformInt(rng, from, to);
}

/** Uniform float in [0, 1). Advances `rng`. */
export function randomFloat(rng: Rng): number {
  return uniformFloat64(rng);
}

/**
 * Standard normal draws from `rng` by the Box–Muller transform: each pair of uniforms u, v gives
 * r·cos(2πv) (returned) and r·sin(2πv) (kept for the next call), with r = √(−2 ln(1 − u)).
 */
export function normalSampler(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniformFloat64(rng);
    const v = uniformFloat64(rng);
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** How a Fisher–Yates step draws its index: an integer uniform in [0, n). Advances `rng`. */
export type IndexDraw = (rng: Rng, n: number) => number;

/** pure-rand's exact uniform integer (rejection sampling, one 32-bit draw for small n): the default. */
export const uniformIndex: IndexDraw = (rng, n) => uniformInt(rng, 0, n - 1);

/**
 * ⌊u·n⌋ with u a float64 uniform in [0, 1) (two 32-bit draws; bias below n·2⁻⁵³). The simulation's
 * probes and plot subsamples draw this way: kept so that their seeded results do not move.
 */
export const floatScaledIndex: IndexDraw = (rng, n) => Math.floor(uniformFloat64(rng) * n);

/** Fisher–Yates shuffle of `values` in place (the callers own the array). Advances `rng`. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, rng: Rng, draw: IndexDraw = uniformIndex): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = draw(rng, i + 1);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}

/** A seeded permutation of 0..n-1 (`shuffleInPlace` of the identity). */
export function permutation(n: number, rng: Rng, draw: IndexDraw = uniformIndex): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffleInPlace(out, rng, draw);
}
