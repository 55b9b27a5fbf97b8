import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, setUpBackends } from './testing/compare-backends.ts';
import { lossAndGrads, vanillaLossAndGrads } from './testing/training-steps.ts';
import { useFusedSiluGradients } from '../src/fused-silu.ts';
import { WASM_TRAINING_KERNEL_NAMES } from '../src/register-wasm-kernels.ts';

describe('a whole training step on wasm', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('runs with the project kernels registered', () => {
    for (const name of WASM_TRAINING_KERNEL_NAMES) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('gives the loss and every parameter gradient of the cpu backend', async () => {
    const expected = await runOn('cpu', lossAndGrads);
    const actual = await runOn('wasm', lossAndGrads);
    expect(actual).toHaveLength(9);
    // A real loss of 5 classes near chance, not a degenerate 0.
    expect(expected[0]![0]).toBeGreaterThan(0.5);
    for (let i = 0; i < expected.length; i++) {
      expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
    }
    // The gradients are not all zero (the comparison would then be vacuous).
    expect(Math.max(...Array.from(expected[1]!, Math.abs))).toBeGreaterThan(1e-3);
  });

  it('gives the loss and gradients of the cpu backend on VanillaCNN-like shapes, with the fused SiLU gradient', async () => {
    const expected = await runOn('cpu', vanillaLossAndGrads);
    const restore = useFusedSiluGradients();
    expect(restore).toBeTypeOf('function');
    try {
      await tf.setBackend('wasm');
      const kernels = (await tf.profile(() => tf.dispose(vanillaLossAndGrads()))).kernels.map((k) => k.name);
      expect(kernels).toContain('RlsaSiluGrad');
      const actual = await runOn('wasm', vanillaLossAndGrads);
      expect(actual).toHaveLength(9);
      for (let i = 0; i < expected.length; i++) {
        expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
      }
      expect(Math.max(...Array.from(expected[1]!, Math.abs))).toBeGreaterThan(1e-3);
    } finally {
      restore?.();
    }
  });
});
