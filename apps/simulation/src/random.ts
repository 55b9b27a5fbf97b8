import { randomFloat, seededRng } from '@rlsa/core';

/**
 * Uniform floats in [0, 1) from the core's seeded generator (xoroshiro128+ from pure-rand), for the
 * simulation's own sampling: probe weight initialisation, shuffles and plot subsamples.
 */
export function seededUniform(seed: number): () => number {
  const rng = seededRng(Math.floor(seed) | 0);
  return () => randomFloat(rng);
}

/** Fisher–Yates shuffle of `array` in place with the given random source. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(array: T, random: () => number): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = array[i]!;
    array[i] = array[j]!;
    array[j] = tmp;
  }
  return array;
}
