import { randomFloat, randomInt, seededRng } from '@rlsa/core';

/**
 * Seeded randomness for shuffles, subsampling and synthetic data, on the core's generator
 * (xoroshiro128+ from pure-rand): deterministic for a seed on every platform; not cryptographic.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

export function seededRandom(seed: number): SeededRandom {
  const rng = seededRng(Math.floor(seed));
  const next = (): number => randomFloat(rng);
  let spare: number | undefined;
  return {
    next,
    int: (n) => randomInt(rng, 0, n - 1),
    normal: () => {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  shuffleInPlace(out, seededRandom(seed));
  return out;
}

/** Fisher–Yates shuffle of `values` in place with the given generator. */
export function shuffleInPlace(values: Uint32Array, random: SeededRandom): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = values[i] as number;
    values[i] = values[j] as number;
    values[j] = tmp;
  }
}
