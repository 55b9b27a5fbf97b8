import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFusedSiluGradients } from '../src/fused-silu.ts';
import { SILU_GRAD, siluGradValues } from '../src/kernels/SiluGrad.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from './testing/compare-backends.ts';

/** The loss and gradients of a conv layer with tfjs-layers' swish, then max-pooling (the VanillaCNN's block). */
function step(): tf.Tensor[] {
  const layer = tfl.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'swish', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) });
  const x = seededTensor([2, 9, 9, 3], 51) as tf.Tensor4D;
  const u = seededTensor([2, 3, 3, 8], 52);
  layer.build(x.shape);
  const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.maxPool(layer.apply(x) as tf.Tensor4D, 2, 2, 'valid'), u)) as tf.Scalar, weights);
  const out = [value, ...weights.map((w) => grads[w.name]!)];
  tf.dispose(weights);
  return out;
}

describe('useFusedSiluGradients (tfjs-layers swish with a one-kernel gradient on wasm)', () => {
  let restore: (() => void) | undefined;
  beforeAll(async () => {
    await setUpBackends();
    restore = useFusedSiluGradients();
  });
  afterAll(() => restore?.());

  it('patches the registered swish class (tfjs-layers is loaded)', () => {
    expect(restore).toBeTypeOf('function');
    expect(useFusedSiluGradients()).toBeTypeOf('function');
  });

  it('computes SiLU gradients with the same values as tfjs-layers on the cpu backend', async () => {
    const expected = await runOn('cpu', step);
    const actual = await runOn('wasm', step);
    expect(actual).toHaveLength(3);
    for (let i = 0; i < expected.length; i++) {
      expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
    }
    expect(Math.max(...Array.from(expected[1]!, Math.abs))).toBeGreaterThan(1e-3);
  });

  it('runs RlsaSiluGrad on wasm instead of the elementwise chain, and leaves forward values alone', async () => {
    await tf.setBackend('wasm');
    const info = await tf.profile(() => {
      tf.dispose(step());
    });
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain(SILU_GRAD);
    expect(names).not.toContain('Sub');
    const forward = () => tfl.layers.activation({ activation: 'swish' }).apply(seededTensor([5, 7], 53)) as tf.Tensor;
    const [wasm] = await runOn('wasm', forward);
    const [cpu] = await runOn('cpu', forward);
    expect(maxScaledError(wasm!, cpu!)).toBeLessThan(1e-6);
  });

  it('has the SiLU derivative: s·(1 + x·(1 − s))', () => {
    // d/dx x·σ(x) at x = 0 is 1/2; at x = 2: σ(2)(1 + 2(1 − σ(2)))
    const xs = Float32Array.from([0, 2, -3]);
    const s = Float32Array.from(xs, (v) => 1 / (1 + Math.exp(-v)));
    const dx = new Float32Array(3);
    siluGradValues(Float32Array.from([1, 1, 2]), s, xs, dx);
    const sigma2 = 1 / (1 + Math.exp(-2));
    const sigmaM3 = 1 / (1 + Math.exp(3));
    expect(dx[0]).toBeCloseTo(0.5, 6);
    expect(dx[1]).toBeCloseTo(sigma2 * (1 + 2 * (1 - sigma2)), 6);
    expect(dx[2]).toBeCloseTo(2 * sigmaM3 * (1 - 3 * (1 - sigmaM3)), 6);
  });

  it('puts tfjs-layers’ method back', async () => {
    restore?.();
    restore = undefined;
    await tf.setBackend('wasm');
    const info = await tf.profile(() => {
      tf.dispose(step());
    });
    expect(info.kernels.map((k) => k.name)).not.toContain(SILU_GRAD);
    restore = useFusedSiluGradients();
  });
});
