import * as tf from '@tensorflow/tfjs-core';
import { SILU_GRAD } from './kernels/SiluGrad.ts';

interface SwishActivation {
  apply(x: tf.Tensor, alpha?: number): tf.Tensor;
}

const INSTALLED = Symbol.for('@rlsa/tfjs-kernels/fused-silu');
type GlobalWithOriginal = typeof globalThis & { [INSTALLED]?: SwishActivation['apply'] };

/** tfjs-layers' `swish` activation class, from tfjs-core's serialization registry (where tfjs-layers registers it). */
function swishPrototype(): SwishActivation | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['swish'] as unknown as [{ prototype: unknown }, unknown] | undefined;
  const prototype = entry?.[0]?.prototype as Partial<SwishActivation> | undefined;
  return typeof prototype?.apply === 'function' ? (prototype as SwishActivation) : undefined;
}

/**
 * x·sigmoid(x) whose gradient is one kernel (`RlsaSiluGrad`) reading the saved sigmoid, instead of
 * the tape's six elementwise kernels. Forward values are tfjs-layers' own (the same two kernels).
 */
const fusedSilu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(x);
  const value = tf.mul(x, s);
  save([x, s]);
  return {
    value,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [savedX, savedS] = saved as [tf.Tensor, tf.Tensor];
      return tf.engine().runKernel(SILU_GRAD, { dy: dy as tf.Tensor, s: savedS, x: savedX }) as tf.Tensor;
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * Makes tfjs-layers' `swish` activation (SiLU, α = 1) compute its gradient in one kernel on
 * backends where the project registered `RlsaSiluGrad` (wasm); elsewhere, for other α and for
 * non-float32 inputs it runs tfjs-layers' own code. Same values, same gradients (to float32
 * rounding): the VanillaCNN's SiLU gradient chain was about 7 % of a wasm training step.
 *
 * Idempotent; returns a function that puts tfjs-layers' method back, or undefined when tfjs-layers'
 * swish is not registered in this process (tfjs-layers not loaded), in which case nothing changes.
 */
export function useFusedSiluGradients(): (() => void) | undefined {
  const g = globalThis as GlobalWithOriginal;
  const prototype = swishPrototype();
  if (prototype === undefined) return undefined;
  if (g[INSTALLED] === undefined) {
    const original = prototype.apply;
    g[INSTALLED] = original;
    prototype.apply = function (this: SwishActivation, x: tf.Tensor, alpha = 1): tf.Tensor {
      const fused = alpha === 1 && x.dtype === 'float32' && tf.getKernel(SILU_GRAD, tf.getBackend()) !== undefined;
      return fused ? fusedSilu(x) : original.call(this, x, alpha);
    };
  }
  return () => {
    const original = g[INSTALLED];
    const current = swishPrototype();
    if (original !== undefined && current !== undefined) {
      current.apply = original;
      delete g[INSTALLED];
    }
  };
}
