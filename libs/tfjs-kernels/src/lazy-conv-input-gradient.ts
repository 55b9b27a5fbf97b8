import * as tf from '@tensorflow/tfjs-core';

type FusedConv2d = typeof tf.fused.conv2d;
type FusedConv2dArgs = Parameters<FusedConv2d>[0];

const INSTALLED = Symbol.for('@rlsa/tfjs-kernels/lazy-conv-input-gradient');
type GlobalWithOriginal = typeof globalThis & { [INSTALLED]?: FusedConv2d };

/** tfjs's `fused` namespace object (a plain, writable object in the Node bundle that tfjs-layers shares). */
function fusedOps(): { conv2d: FusedConv2d } {
  return tf.fused as unknown as { conv2d: FusedConv2d };
}

function gradientDepth(): number {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth;
}

/**
 * While gradients are recorded, runs `tf.fused.conv2d` with a linear activation as `conv2d` then
 * `add(bias)` (tfjs's own formula for the unfused case), so the input gradient is computed only if
 * something needs it.
 *
 * Why: the fused op's gradient (a customGrad) computes the input gradient eagerly, also for the
 * first layer, whose input is the data. On the VanillaCNN that is a wasted Conv2DBackpropInput of
 * [128, 32, 32, 3] per step, about 15 % of a wasm training step. tfjs-layers' conv layers call
 * `tf.fused.conv2d` with a linear activation when the activation (here SiLU) is applied apart.
 * Forward values and gradients are the same as the fused op's (conv, then bias added: the same sums).
 *
 * Idempotent; returns a function that puts the fused op back, or undefined when tfjs's `fused`
 * namespace cannot be changed (a frozen ES module namespace, e.g. under a bundler), in which case
 * nothing changes.
 */
export function useLazyConvInputGradients(): (() => void) | undefined {
  const g = globalThis as GlobalWithOriginal;
  const ops = fusedOps();
  const descriptor = Object.getOwnPropertyDescriptor(ops, 'conv2d');
  if (Object.isFrozen(ops) || descriptor === undefined || !(descriptor.writable ?? descriptor.set !== undefined)) return undefined;
  if (g[INSTALLED] === undefined) {
    const original = ops.conv2d;
    g[INSTALLED] = original;
    ops.conv2d = ((args: FusedConv2dArgs) => {
      const linear = (args.activation ?? 'linear') === 'linear';
      const nhwc = (args.dataFormat ?? 'NHWC') === 'NHWC';
      if (gradientDepth() === 0 || !linear || !nhwc) return original(args);
      const y = tf.conv2d(
        args.x as tf.Tensor4D,
        args.filter as tf.Tensor4D,
        args.strides,
        args.pad,
        'NHWC',
        args.dilations ?? [1, 1],
        args.dimRoundingMode,
      );
      return args.bias != null ? tf.add(y, args.bias) : y;
    }) as FusedConv2d;
  }
  return () => {
    const original = g[INSTALLED];
    if (original !== undefined) {
      ops.conv2d = original;
      delete g[INSTALLED];
    }
  };
}
