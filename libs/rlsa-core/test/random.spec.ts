import { describe, expect, it } from 'vitest';
import { floatScaledIndex, normalSampler, permutation, randomFloat, randomInt, seededRng, shuffleInPlace } from '../src/random.ts';
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

  // Regression values printed by the three implementations this module replaced (commit 2d419df):
  // @rlsa/data's seededPermutation / shuffleInPlace / seededRandom().normal and the simulation's
  // seededUniform + shuffleInPlace. The same seeds must give the same partitions, subsamples,
  // batch orders and probe results as before.
  it("gives the data library's former permutations and shuffles for the same seed", () => {
    expect(Array.from(permutation(12, seededRng(42)))).toEqual([0, 8, 9, 3, 7, 6, 4, 2, 11, 10, 5, 1]);
    const rng = seededRng(7);
    const values = Uint32Array.from({ length: 10 }, (_, i) => i * 3);
    shuffleInPlace(shuffleInPlace(values, rng), rng);
    expect(Array.from(values)).toEqual([24, 18, 15, 27, 3, 21, 6, 9, 0, 12]);
  });

  it("gives the simulation's former float-scaled shuffle, leaving the stream where it did", () => {
    const rng = seededRng(42);
    expect(Array.from(permutation(12, rng, floatScaledIndex))).toEqual([1, 8, 2, 3, 6, 7, 4, 10, 5, 0, 9, 11]);
    expect(randomFloat(rng)).toBe(0.17137202042423139);
  });

  it('draws standard normals in Box–Muller pairs as the synthetic data set did', () => {
    const normal = normalSampler(seededRng(3));
    expect([normal(), normal(), normal()]).toEqual([5.356925692041599, -2.2165406341841285, -0.09013112852852466]);
    // The pair shares one radius: cos² + sin² = 1.
    const pair = normalSampler(seededRng(11));
    const [a, b] = [pair(), pair()];
    const u = 1 - randomFloat(seededRng(11));
    expect(a * a + b * b).toBeCloseTo(-2 * Math.log(u), 12);
  });

  it('refuses a non-integer seed', () => {
    expect(rlsaError(() => seededRng(0.5)).code).toBe('invalid_argument');
  });
});
