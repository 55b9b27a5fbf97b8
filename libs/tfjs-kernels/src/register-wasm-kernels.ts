import * as tf from '@tensorflow/tfjs-core';
import { TfjsKernelsError } from './errors.ts';
import { batchMatMulConfig } from './kernels/BatchMatMul.ts';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.ts';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.ts';
import { castConfig } from './kernels/Cast.ts';
import { identityConfig } from './kernels/Identity.ts';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.ts';
import { multiplyConfig } from './kernels/Multiply.ts';
import { siluGradConfig } from './kernels/SiluGrad.ts';
import { sumConfig } from './kernels/Sum.ts';
import { originalKernels } from './wasm-kernel-utils.ts';

/** The project's wasm kernels, in registration order. */
export const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  sumConfig,
  identityConfig,
  castConfig,
  multiplyConfig,
  siluGradConfig,
];

/** Names of the project's wasm kernels. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = WASM_TRAINING_KERNELS.map((k) => k.kernelName);

/** `all`, `none`, or the names of the kernels to register. */
export type KernelSelection = 'all' | 'none' | readonly string[];

const REGISTERED = Symbol.for('@rlsa/tfjs-kernels/registered-wasm-kernels');
type GlobalWithRegistered = typeof globalThis & { [REGISTERED]?: Set<string> };

function registered(): Set<string> {
  const g = globalThis as GlobalWithRegistered;
  g[REGISTERED] ??= new Set();
  return g[REGISTERED];
}

/**
 * Registers the project's training kernels for the wasm backend, replacing the stock ones
 * (kept in `originalKernels()` so the new kernels can call them and `restoreStockWasmKernels`
 * can put them back). Idempotent. Call after importing `@tensorflow/tfjs-backend-wasm` (which
 * registers the stock kernels) and preferably before `tf.setBackend('wasm')`; when wasm is already
 * the active backend, the replaced kernels' setup runs here.
 *
 * @returns the names of the project's kernels now registered.
 */
export function registerWasmTrainingKernels(selection: KernelSelection = 'all'): string[] {
  const wanted =
    selection === 'all' ? WASM_TRAINING_KERNEL_NAMES : selection === 'none' ? [] : selection;
  for (const name of wanted) {
    if (!WASM_TRAINING_KERNEL_NAMES.includes(name)) {
      throw new TfjsKernelsError('invalid_argument', `unknown project kernel '${name}' (known: ${WASM_TRAINING_KERNEL_NAMES.join(', ')})`);
    }
  }
  const ours = registered();
  const originals = originalKernels();
  for (const config of WASM_TRAINING_KERNELS) {
    const name = config.kernelName;
    if (!wanted.includes(name) || ours.has(name)) continue;
    const stock = tf.getKernel(name, 'wasm');
    if (stock !== undefined) {
      originals.set(name, stock);
      tf.unregisterKernel(name, 'wasm');
    }
    const replacement: tf.KernelConfig = { ...config };
    // The engine sets up only registered kernels: run the stock kernel's setup with ours, since
    // ours may delegate to it.
    if (stock?.setupFunc !== undefined) replacement.setupFunc = stock.setupFunc;
    if (stock?.disposeFunc !== undefined) replacement.disposeFunc = stock.disposeFunc;
    tf.registerKernel(replacement);
    ours.add(name);
    const engine = tf.engine();
    if (engine.backendName === 'wasm' && replacement.setupFunc !== undefined) {
      replacement.setupFunc(engine.backend);
    }
  }
  return WASM_TRAINING_KERNEL_NAMES.filter((n) => ours.has(n));
}

/** Puts the stock wasm kernels back (for benchmarks that compare before and after). */
export function restoreStockWasmKernels(): void {
  const ours = registered();
  const originals = originalKernels();
  for (const name of [...ours]) {
    tf.unregisterKernel(name, 'wasm');
    const stock = originals.get(name);
    if (stock !== undefined) {
      tf.registerKernel(stock);
      originals.delete(name);
    }
    ours.delete(name);
  }
}
