import * as tf from '@tensorflow/tfjs-core';
import { SILU_GRAD } from './kernels/SiluGrad.ts';

interface SwishActivation {
  apply(x: tf.Tensor, alpha?: number): tf.Tensor;
}

/**
 * The kernel that computes SiLU and its sigmoid in one pass, outputs [x·s, s] (a project kernel,
 * registered with the native kernels); where it is absent, the forward is tfjs's two kernels.
 */
export const SILU = 'RlsaSilu';

const INSTALLED = Symbol.for('@rlsa/tfjs-kernels/fused-silu');
type GlobalWithOriginal = typeof globalThis & { [INSTALLED]?: SwishActivation['apply'] };

/** tfjs-layers' `swish` activation class, from tfjs-core's serialization registry (where tfjs-layers registers it). */
function swishPrototype(): SwishActivation | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['swish'] as unknown as [{ prototype: unknown }, unknown] | undefined;
  const prototype = entry?.[0]?.prototype as Partial<SwishActivation> | undefined;
  return typeof prototype?.apply === 'function' ? (prototype as SwishActivation) : undefined;
}

/** [x·s, s] with s = sigmoid(x): one kernel where the backend has `RlsaSilu`, else tfjs-layers' own two. */
function siluAndSigmoid(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (tf.getKernel(SILU, tf.getBackend()) !== undefined) return tf.engine().runKernel(SILU, { x }) as unknown as [tf.Tensor, tf.Tensor];
  const s = tf.sigmoid(x);
  return [tf.mul(x, s), s];
}

/**
 * x·sigmoid(x) whose gradient is one kernel (`RlsaSiluGrad`) reading the saved sigmoid, instead of
 * the tape's six elementwise kernels.
 */
const fusedSilu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const [value, s] = siluAndSigmoid(x);
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
