import { FAST_LINALG_MIN_WORK, jsLinalg, linearCka, randomFloat, seededRng } from '@rlsa/core';
import type { Linalg } from '@rlsa/core';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import { sampleIdWords } from '@rlsa/wire';
import { describe, expect, it } from 'vitest';
import { evaluateAgainstReference } from '../../src/query/evaluate.ts';
import type { SpaceData } from '../../src/query/node-space.ts';

/**
 * Evaluate's products go to the fast `Linalg` only past the core's FAST_LINALG_MIN_WORK (the rule of
 * `rlsa cka`), so small runs answer exactly as the core's loops and large ones within float32
 * products' rounding of them.
 */
const native = nativeLinalgStatus();

/** A space of `rows` samples (ids 0..rows-1) × `width`, values from a seeded generator: a shared signal plus noise. */
function space(rows: number, width: number, seed: number, signal: Float32Array): SpaceData {
  const rng = seededRng(seed);
  const values = new Float32Array(rows * width);
  for (let i = 0; i < values.length; i += 1) values[i] = (signal[i] as number) + 0.5 * (randomFloat(rng) - 0.5);
  return { sampleIds: BigUint64Array.from({ length: rows }, (_, i) => BigInt(i)), values, cols: width, labels: new Int32Array(rows).fill(-1) };
}

/** The merged space as Evaluate reads it: by id words, into a row. */
function mergedOf(s: SpaceData): Parameters<typeof evaluateAgainstReference>[1] {
  const words = sampleIdWords(s.sampleIds);
  return {
    read: (low: number, high: number, out: Float32Array, offset: number) => {
      for (let k = 0; k < s.sampleIds.length; k += 1) {
        if (words[2 * k] === low && words[2 * k + 1] === high) {
          out.set(s.values.subarray(k * s.cols, (k + 1) * s.cols), offset);
          return k;
        }
      }
      return undefined;
    },
  } as unknown as Parameters<typeof evaluateAgainstReference>[1];
}

/** A `Linalg` that counts the products it was asked for (delegating to `inner`). */
function counting(inner: Linalg): { linalg: Linalg; calls: () => number } {
  let calls = 0;
  const linalg = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { linalg, calls: () => calls };
}

function cases(rows: number, width: number): { reference: SpaceData; trainer: SpaceData; merged: SpaceData } {
  const rng = seededRng(7);
  const signal = Float32Array.from({ length: rows * width }, () => randomFloat(rng) - 0.5);
  return { reference: space(rows, width, 1, signal), trainer: space(rows, width, 2, signal), merged: space(rows, width, 3, signal) };
}

describe('evaluateAgainstReference with a fast Linalg', () => {
  it('keeps pairs under FAST_LINALG_MIN_WORK on the core loops: the same numbers as linearCka', () => {
    const { reference, trainer, merged } = cases(200, 32);
    expect(200 * (2 * 32) ** 2).toBeLessThan(FAST_LINALG_MIN_WORK);
    const spy = counting(jsLinalg);
    const scores = evaluateAgainstReference(reference, mergedOf(merged), [{ nodeId: 't', space: trainer }], spy.linalg);
    expect(spy.calls()).toBe(0);
    const x = { rows: 200, cols: 32, data: trainer.values };
    const y = { rows: 200, cols: 32, data: reference.values };
    expect(scores[1]).toEqual({ subject: 't', n: 200, linearBiased: linearCka(x, y), linearDebiased: linearCka(x, y, { debiased: true }) });
  });

  it.skipIf(!native.available)(`sends larger pairs to the native kernels, within float32 rounding of the core's float64 loops${native.available ? '' : ` (skipped: ${'reason' in native ? native.reason : ''})`}`, () => {
    const rows = 1_000;
    const width = 256;
    expect(rows * (2 * width) ** 2).toBeGreaterThanOrEqual(FAST_LINALG_MIN_WORK);
    const { reference, trainer, merged } = cases(rows, width);
    const spy = counting(new NativeLinalg({ threads: 1 }));
    const scores = evaluateAgainstReference(reference, mergedOf(merged), [{ nodeId: 't', space: trainer }], spy.linalg);
    expect(spy.calls()).toBeGreaterThan(0);
    // float32 products with float64 block sums: relative error of order sqrt(block) · 2⁻²⁴ ≈ 1e-6; 1e-5 leaves room.
    const FLOAT32_PRODUCT_RTOL = 1e-5;
    for (const [score, space_] of [[scores[0], merged], [scores[1], trainer]] as const) {
      const x = { rows, cols: width, data: space_.values };
      const y = { rows, cols: width, data: reference.values };
      const biased = linearCka(x, y);
      const debiased = linearCka(x, y, { debiased: true });
      expect(score?.n).toBe(rows);
      expect(Math.abs((score?.linearBiased as number) - biased)).toBeLessThan(FLOAT32_PRODUCT_RTOL * Math.abs(biased));
      expect(Math.abs((score?.linearDebiased as number) - debiased)).toBeLessThan(FLOAT32_PRODUCT_RTOL * Math.abs(debiased));
    }
  });
});
