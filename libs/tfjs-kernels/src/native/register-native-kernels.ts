import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeTrainingKernels } from '@rlsa/linalg-native';
import type { WasmKernelArgs } from '../wasm-kernel-utils.ts';
import { nativeConv2D, nativeFusedConv2D } from './conv2d.ts';
import { nativeConv2DBackpropFilter } from './conv2d-backprop-filter.ts';
import { nativeConv2DBackpropInput } from './conv2d-backprop-input.ts';
import { nativeBatchMatMul, nativeFusedMatMul } from './mat-mul.ts';
import { nativeMaxPool, nativeMaxPoolGrad } from './max-pool.ts';
import { nativeSilu, nativeSiluGrad } from './silu.ts';
import { nativeSum } from './sum.ts';
import type { NativeKernel } from './native-kernel.ts';

/** The kernels the native addon computes on the wasm backend, in registration order. */
export const NATIVE_KERNELS: readonly NativeKernel[] = [
  nativeFusedConv2D,
  nativeConv2D,
  nativeConv2DBackpropInput,
  nativeConv2DBackpropFilter,
  nativeBatchMatMul,
  nativeFusedMatMul,
  nativeSilu,
  nativeSiluGrad,
  nativeMaxPool,
  nativeMaxPoolGrad,
  nativeSum,
];

/** Names of the native kernels. */
export const NATIVE_KERNEL_NAMES: readonly string[] = NATIVE_KERNELS.map((k) => k.kernelName);

/** The kernels each native kernel replaced (the project's wasm kernel or the stock one), by name. */
const REPLACED = Symbol.for('@rlsa/tfjs-kernels/replaced-by-native');
type GlobalWithReplaced = typeof globalThis & { [REPLACED]?: Map<string, tf.KernelConfig | undefined> };

function replaced(): Map<string, tf.KernelConfig | undefined> {
  const g = globalThis as GlobalWithReplaced;
  g[REPLACED] ??= new Map();
  return g[REPLACED];
}

/**
 * The kernel config of one native kernel: runs it, and for a case it does not cover, the kernel it
 * replaced (which keeps its own setup: the engine sets up only registered kernels, so the
 * replaced kernel's setup and dispose functions run with the native one).
 */
function nativeConfig(kernel: NativeKernel, native: NativeTrainingKernels, previous: tf.KernelConfig | undefined): tf.KernelConfig {
  const kernelFunc = (args: WasmKernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const out = kernel.run(native, args.backend as BackendWasm, args);
    if (out !== undefined) return out;
    if (previous === undefined) throw new Error(`no wasm kernel covers this ${kernel.kernelName}`);
    return previous.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  };
  const config: tf.KernelConfig = { kernelName: kernel.kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
  if (previous?.setupFunc !== undefined) config.setupFunc = previous.setupFunc;
  if (previous?.disposeFunc !== undefined) config.disposeFunc = previous.disposeFunc;
  return config;
}

/**
 * Registers the native kernels for the wasm backend on top of whatever is registered (the
 * project's wasm kernels, else the stock ones), which each falls back to for the cases it does not
 * cover. Idempotent: a second call keeps the first call's kernels (and their threads). Call after
 * `registerWasmTrainingKernels` and preferably before `tf.setBackend('wasm')`.
 *
 * @returns the names of the native kernels now registered.
 */
export function registerNativeTrainingKernels(native: NativeTrainingKernels): string[] {
  const done = replaced();
  for (const kernel of NATIVE_KERNELS) {
    const name = kernel.kernelName;
    if (done.has(name)) continue;
    const previous = tf.getKernel(name, 'wasm');
    if (previous !== undefined) tf.unregisterKernel(name, 'wasm');
    const config = nativeConfig(kernel, native, previous);
    tf.registerKernel(config);
    done.set(name, previous);
    const engine = tf.engine();
    if (engine.backendName === 'wasm' && config.setupFunc !== undefined) config.setupFunc(engine.backend);
  }
  return NATIVE_KERNEL_NAMES.filter((n) => done.has(n));
}

/** Puts back the kernels the native ones replaced (specs and benchmarks compare both). */
export function restoreReplacedByNative(): void {
  const done = replaced();
  for (const [name, previous] of done) {
    tf.unregisterKernel(name, 'wasm');
    if (previous !== undefined) tf.registerKernel(previous);
    done.delete(name);
  }
}
