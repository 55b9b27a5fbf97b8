import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers the gradient functions (tfjs-core's Node bundle does not): the specs take gradients.
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { wasmDistDir } from '../../src/init-backend.ts';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import { registerNativeTrainingKernels } from '../../src/native/register-native-kernels.ts';
import { registerWasmTrainingKernels, type KernelSelection } from '../../src/register-wasm-kernels.ts';

/**
 * Float32 tolerance of the kernel specs, as in tfjs's own specs (1e-3 for float32), applied
 * relative to max(1, |expected|) because gradients summed over a batch are large.
 */
export const FLOAT32_TOLERANCE = 1e-3;

let wasmReady = false;

/**
 * Loads both backends in this (test) process: the cpu backend as the reference and the wasm
 * backend with the project's kernels (and the native ones on top, when given). Only specs do this;
 * a real process picks one backend.
 */
export async function setUpBackends(kernels: KernelSelection = 'all', native?: NativeTrainingKernels): Promise<void> {
  if (!wasmReady) {
    setWasmPaths(wasmDistDir());
    registerWasmTrainingKernels(kernels);
    if (native !== undefined) registerNativeTrainingKernels(native);
    wasmReady = true;
  }
  tf.enableProdMode();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
}

/** Runs `f` on the named backend and returns its result as plain arrays. */
export async function runOn<T extends tf.Tensor | tf.Tensor[]>(
  backend: 'cpu' | 'wasm',
  f: () => T,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const arrays = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(list);
  return arrays;
}

/** max over i of |a[i] - b[i]| / max(1, |b[i]|); Infinity on length mismatch or NaN. */
export function maxScaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const b = expected[i] as number;
    const e = Math.abs(a - b) / Math.max(1, Math.abs(b));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** Deterministic values in [-1, 1) for inputs (a small LCG: specs must not depend on a global seed). */
export function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A tensor of the given shape filled by `seededValues`. */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Native kernels that count their calls by name (to prove which path a spec ran). */
export function countingKernels(native: NativeTrainingKernels): { kernels: NativeTrainingKernels; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const kernels = new Proxy(native, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kernels, calls };
}
