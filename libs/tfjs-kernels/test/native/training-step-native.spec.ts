import { beforeAll, describe, expect, it } from 'vitest';
import { nativeLinalgStatus, nativeTrainingKernels } from '@rlsa/linalg-native';
import { useFusedSiluGradients } from '../../src/fused-silu.ts';
import { useLazyConvInputGradients } from '../../src/lazy-conv-input-gradient.ts';
import { countingKernels, FLOAT32_TOLERANCE, maxScaledError, runOn, setUpBackends } from '../testing/compare-backends.ts';
import { lossAndGrads, vanillaLossAndGrads } from '../testing/training-steps.ts';

const available = nativeLinalgStatus().available;

describe.skipIf(!available)('a whole training step on the native kernels', () => {
  const counted = available ? countingKernels(nativeTrainingKernels({ threads: 2 })!) : undefined;

  beforeAll(async () => {
    await setUpBackends('all', counted!.kernels);
  });

  for (const [name, step] of [
    ['conv valid → conv same → two dense layers', lossAndGrads],
    ["VanillaCNN-like, with tfjs-layers' swish and the fused SiLU gradient", vanillaLossAndGrads],
  ] as const) {
    it(`gives the loss and every parameter gradient of the cpu backend: ${name}`, async () => {
      const expected = await runOn('cpu', step);
      // As initTfjsBackend sets up training: the first layer's input gradient is never computed.
      const restore = [useFusedSiluGradients(), useLazyConvInputGradients()];
      try {
        counted!.calls.clear();
        const actual = await runOn('wasm', step);
        // Both convolutions forward, the second's input gradient, both filter gradients, the dense products.
        expect(counted!.calls.get('conv2d')).toBe(2);
        expect(counted!.calls.get('conv2dBackpropInput')).toBe(1);
        expect(counted!.calls.get('conv2dBackpropFilter')).toBe(2);
        expect(counted!.calls.get('matmul')).toBeGreaterThanOrEqual(6);
        expect(actual).toHaveLength(9);
        expect(expected[0]![0]).toBeGreaterThan(0.5);
        for (let i = 0; i < expected.length; i++) {
          expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
        }
        expect(Math.max(...Array.from(expected[1]!, Math.abs))).toBeGreaterThan(1e-3);
      } finally {
        for (const r of restore) r?.();
      }
    });
  }
});
