import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLazyConvInputGradients } from '../src/lazy-conv-input-gradient.ts';
import { FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from './testing/compare-backends.ts';

/** One step of a conv layer on data (not a variable): the loss and the filter and bias gradients. */
function step(): tf.Tensor[] {
  const x = seededTensor([2, 9, 9, 3], 41) as tf.Tensor4D;
  const w = tf.variable(seededTensor([3, 3, 3, 4], 42), true, 'w');
  const b = tf.variable(seededTensor([4], 43), true, 'b');
  const { value, grads } = tf.variableGrads(() => {
    const y = tf.fused.conv2d({ x, filter: w as tf.Tensor4D, bias: b, strides: 2, pad: 'same' });
    return tf.sum(tf.square(tf.mul(tf.sigmoid(y), y))) as tf.Scalar;
  });
  const out = [value, grads['w']!, grads['b']!];
  tf.dispose([w, b]);
  return out;
}

async function kernelNames(): Promise<string[]> {
  await tf.setBackend('wasm');
  const info = await tf.profile(() => {
    tf.dispose(step());
  });
  return info.kernels.map((k) => k.name);
}

describe('useLazyConvInputGradients', () => {
  beforeAll(async () => {
    await setUpBackends();
  });

  it('skips the input gradient of a convolution on data, with the same loss and gradients', async () => {
    const fused = await runOn('wasm', step);
    expect(await kernelNames()).toContain('Conv2DBackpropInput');
    const restore = useLazyConvInputGradients();
    expect(restore).toBeTypeOf('function');
    try {
      expect(useLazyConvInputGradients).not.toThrow();
      const lazy = await runOn('wasm', step);
      const cpu = await runOn('cpu', step);
      const names = await kernelNames();
      expect(names).not.toContain('Conv2DBackpropInput');
      expect(names).toContain('Conv2DBackpropFilter');
      // The bias is added inside the fused kernel.
      expect(names).toContain('FusedConv2D');
      for (let i = 0; i < 3; i++) {
        expect(maxScaledError(lazy[i]!, fused[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
        expect(maxScaledError(lazy[i]!, cpu[i]!), `output ${i} vs cpu`).toBeLessThan(FLOAT32_TOLERANCE);
      }
    } finally {
      restore?.();
    }
    expect(await kernelNames()).toContain('Conv2DBackpropInput');
  });

  it('takes the input gradient when something needs it (an input that is a variable), and the unfused path without a bias', async () => {
    const grads = () => {
      const x = tf.variable(seededTensor([2, 7, 7, 4], 46), true, 'lx');
      const w = tf.variable(seededTensor([3, 3, 4, 8], 47), true, 'lw');
      const b = tf.variable(seededTensor([8], 48), true, 'lb');
      const { value, grads: g } = tf.variableGrads(() => {
        const withBias = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'valid' });
        const withoutBias = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same' });
        return tf.add(tf.sum(tf.square(withBias)), tf.sum(tf.sin(withoutBias))) as tf.Scalar;
      });
      const out = [value, g['lx']!, g['lw']!, g['lb']!];
      tf.dispose([x, w, b]);
      return out;
    };
    const expected = await runOn('cpu', grads);
    const restore = useLazyConvInputGradients();
    try {
      const actual = await runOn('wasm', grads);
      for (let i = 0; i < expected.length; i++) {
        expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
      }
    } finally {
      restore?.();
    }
  });

  it('leaves inference on the fused kernel', async () => {
    const restore = useLazyConvInputGradients();
    try {
      await tf.setBackend('wasm');
      const info = await tf.profile(() => {
        tf.tidy(() => tf.fused.conv2d({ x: seededTensor([1, 5, 5, 2], 44) as tf.Tensor4D, filter: seededTensor([3, 3, 2, 2], 45) as tf.Tensor4D, bias: tf.zeros([2]), strides: 1, pad: 'same' }));
      });
      expect(info.kernels.map((k) => k.name)).toContain('FusedConv2D');
    } finally {
      restore?.();
    }
  });
});
