import * as tf from '@tensorflow/tfjs-core';

type FusedConv2d = typeof tf.fused.conv2d;
type FusedConv2dArgs = Parameters<FusedConv2d>[0];

const INSTALLED = Symbol.for('@rlsa/tfjs-kernels/lazy-conv-input-gradient');
type GlobalWithOriginal = typeof globalThis & { [INSTALLED]?: FusedConv2d };

/** tfjs's `fused` namespace object (a plain, writable object in the Node bundle that tfjs-layers shares). */
function fusedOps(): { conv2d: FusedConv2d } {
  return tf.fused as unknown as { conv2d: FusedConv2d };
}

const GRADIENT_REGISTERED = Symbol.for('@rlsa/tfjs-kernels/fused-conv2d-gradient');
type GlobalWithGradient = typeof globalThis & { [GRADIENT_REGISTERED]?: boolean };

/**
 * A gradient for the FusedConv2D kernel recorded on the tape by the patched op below (linear
 * activation, NHWC, no dilation, a bias of one value per output channel): each input's gradient is
 * a closure the tape calls only for inputs that lead to a variable. tfjs registers none (its op
 * takes a customGrad, which computes all three eagerly).
 */
function registerFusedConv2DGradient(): void {
  const g = globalThis as GlobalWithGradient;
  if (g[GRADIENT_REGISTERED] === true) return;
  tf.registerGradient({
    kernelName: tf.FusedConv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const d = dy as tf.Tensor4D;
      const { strides, pad, dimRoundingMode } = attrs as unknown as tf.FusedConv2DAttrs;
      return {
        x: () => tf.conv2dTranspose(d, filter, x.shape, strides, pad as 'valid' | 'same' | number, dimRoundingMode),
        filter: () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: d }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(d, [0, 1, 2]),
      };
    },
  });
  g[GRADIENT_REGISTERED] = true;
}

function gradientDepth(): number {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth;
}

/**
 * While gradients are recorded, runs `tf.fused.conv2d` with a linear activation as the FusedConv2D
 * kernel with a gradient per input that the tape calls only when needed (a float32 4-D input and
 * filter, a bias per output channel, no dilation), else as `conv2d` then `add(bias)` (tfjs's own
 * formula for the unfused case), so the input gradient is computed only if something needs it.
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
      const { x, filter, bias } = args;
      const dilations = args.dilations ?? [1, 1];
      const undilated = dilations === 1 || (Array.isArray(dilations) && dilations.every((v) => v === 1));
      if (
        undilated &&
        x instanceof tf.Tensor &&
        x.rank === 4 &&
        filter instanceof tf.Tensor &&
        filter.rank === 4 &&
        bias instanceof tf.Tensor &&
        bias.rank === 1 &&
        bias.shape[0] === filter.shape[3] &&
        x.dtype === 'float32' &&
        filter.dtype === 'float32' &&
        bias.dtype === 'float32'
      ) {
        // The fused kernel adds the bias in the same pass; the gradient registered above stays lazy.
        registerFusedConv2DGradient();
        return tf.engine().runKernel(tf.FusedConv2D, { x, filter, bias }, {
          strides: args.strides,
          pad: args.pad,
          dataFormat: 'NHWC',
          dilations: [1, 1],
          dimRoundingMode: args.dimRoundingMode,
          activation: 'linear',
          leakyreluAlpha: 0,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      }
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
