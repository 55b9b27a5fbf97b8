import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { seededTensor } from './compare-backends.ts';

/**
 * A whole training step of a small VanillaCNN-shaped network (conv 5×5 'valid' → SiLU → maxpool 2 →
 * conv 3×3 'same' stride 1 → SiLU → maxpool 2 → dense → dense, softmax cross-entropy), written with
 * the ops tfjs-layers uses (fused conv2d with bias, swish as x·sigmoid(x), fused matMul), so the
 * gradients run through every project kernel: the two convolution gradients, MaxPoolGrad,
 * transposed products, bias sums, identities and casts.
 */
export function lossAndGrads(): tf.Tensor[] {
  const x = seededTensor([4, 12, 12, 3], 21) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 2], 'int32'), 5);
  const params = {
    w1: tf.variable(tf.mul(seededTensor([5, 5, 3, 6], 22), 0.3), true, 'w1'),
    b1: tf.variable(tf.mul(seededTensor([6], 23), 0.1), true, 'b1'),
    w2: tf.variable(tf.mul(seededTensor([3, 3, 6, 8], 24), 0.3), true, 'w2'),
    b2: tf.variable(tf.mul(seededTensor([8], 25), 0.1), true, 'b2'),
    w3: tf.variable(tf.mul(seededTensor([2 * 2 * 8, 16], 26), 0.3), true, 'w3'),
    b3: tf.variable(tf.mul(seededTensor([16], 27), 0.1), true, 'b3'),
    w4: tf.variable(tf.mul(seededTensor([16, 5], 28), 0.3), true, 'w4'),
    b4: tf.variable(tf.mul(seededTensor([5], 29), 0.1), true, 'b4'),
  };
  const silu = (t: tf.Tensor) => tf.mul(tf.sigmoid(tf.mul(t, 1)), t);
  const { value, grads } = tf.variableGrads(() => {
    let h: tf.Tensor = tf.fused.conv2d({ x, filter: params.w1 as tf.Tensor4D, bias: params.b1, strides: 1, pad: 'valid' });
    h = tf.maxPool(silu(h) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter: params.w2 as tf.Tensor4D, bias: params.b2, strides: 1, pad: 'same' });
    h = tf.maxPool(silu(h) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.reshape(h, [4, 2 * 2 * 8]);
    h = tf.fused.matMul({ a: h as tf.Tensor2D, b: params.w3 as tf.Tensor2D, bias: params.b3 });
    const logits = tf.fused.matMul({ a: h as tf.Tensor2D, b: params.w4 as tf.Tensor2D, bias: params.b4 });
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
  const names = Object.keys(params).sort();
  const out = [value, ...names.map((n) => grads[n]!)];
  tf.dispose(Object.values(params));
  return out;
}

/**
 * The VanillaCNN's own shapes in small (two 'valid' convolutions, channels in multiples of 4), with
 * tfjs-layers' swish activation: on wasm this runs the SIMD loops (max-pool gradient, bias sums,
 * im2col, col2im, dy transposes) and, once `useFusedSiluGradients` is on, the one-kernel SiLU gradient.
 */
export function vanillaLossAndGrads(): tf.Tensor[] {
  const x = seededTensor([6, 16, 16, 3], 61) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 2, 4, 0], 'int32'), 5);
  const params = {
    w1: tf.variable(tf.mul(seededTensor([5, 5, 3, 8], 62), 0.3), true, 'v1'),
    b1: tf.variable(tf.mul(seededTensor([8], 63), 0.1), true, 'c1'),
    w2: tf.variable(tf.mul(seededTensor([3, 3, 8, 16], 64), 0.3), true, 'v2'),
    b2: tf.variable(tf.mul(seededTensor([16], 65), 0.1), true, 'c2'),
    w3: tf.variable(tf.mul(seededTensor([2 * 2 * 16, 16], 66), 0.3), true, 'v3'),
    b3: tf.variable(tf.mul(seededTensor([16], 67), 0.1), true, 'c3'),
    w4: tf.variable(tf.mul(seededTensor([16, 5], 68), 0.3), true, 'v4'),
    b4: tf.variable(tf.mul(seededTensor([5], 69), 0.1), true, 'c4'),
  };
  const swish = tfl.layers.activation({ activation: 'swish' });
  const silu = (t: tf.Tensor) => swish.apply(t) as tf.Tensor;
  const { value, grads } = tf.variableGrads(() => {
    let h: tf.Tensor = tf.fused.conv2d({ x, filter: params.w1 as tf.Tensor4D, bias: params.b1, strides: 1, pad: 'valid' });
    h = tf.maxPool(silu(h) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter: params.w2 as tf.Tensor4D, bias: params.b2, strides: 1, pad: 'valid' });
    h = tf.maxPool(silu(h) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.reshape(h, [6, 2 * 2 * 16]);
    h = tf.fused.matMul({ a: h as tf.Tensor2D, b: params.w3 as tf.Tensor2D, bias: params.b3 });
    const logits = tf.fused.matMul({ a: h as tf.Tensor2D, b: params.w4 as tf.Tensor2D, bias: params.b4 });
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
  const names = Object.keys(params).sort();
  const out = [value, ...names.map((n) => grads[params[n as keyof typeof params].name]!)];
  tf.dispose(Object.values(params));
  return out;
}
