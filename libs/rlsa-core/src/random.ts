import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { RlsaError } from './errors.ts';

/** A seeded generator (xoroshiro128+ from pure-rand); the same seed gives the same stream everywhere. */
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

/** Fisher–Yates shuffle of `values` in place (the callers own the array). Advances `rng`. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, rng: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffleInPlace(out, rng);
}
