import { describe, expect, it } from 'vitest';
import { permutation, randomFloat, randomInt, seededRng, shuffleInPlace } from '../src/random.ts';
import { rlsaError } from './helpers.ts';

describe('seeded randomness (pure-rand xoroshiro128+)', () => {
  it('a permutation holds every index once and depends only on the seed', () => {
    const p = permutation(1000, seededRng(42));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(permutation(1000, seededRng(42))).toEqual(p);
    expect(permutation(1000, seededRng(43))).not.toEqual(p);
  });

  it('shuffles are roughly uniform: each value lands in position 0 about equally often', () => {
    const counts = [0, 0, 0, 0];
    const rng = seededRng(7);
    for (let t = 0; t < 4000; t++) counts[shuffleInPlace([0, 1, 2, 3], rng)[0]!]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150); // > 5 standard deviations
  });

  it('draws integers in the closed range and floats in [0, 1)', () => {
    const rng = seededRng(1);
    for (let t = 0; t < 1000; t++) {
      const i = randomInt(rng, -2, 3);
      expect(Number.isInteger(i) && i >= -2 && i <= 3).toBe(true);
      const f = randomFloat(rng);
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it('refuses a non-integer seed', () => {
    expect(rlsaError(() => seededRng(0.5)).code).toBe('invalid_argument');
  });
});
