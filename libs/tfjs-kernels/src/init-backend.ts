import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MAX_NATIVE_THREADS, nativeLinalgStatus, nativeTrainingKernels, type NativeTrainingKernels, type SimdLevel } from '@rlsa/linalg-native';
import { TfjsKernelsError } from './errors.ts';
import { useFusedSiluGradients } from './fused-silu.ts';
import { SILU_GRAD } from './kernels/SiluGrad.ts';
import { useLazyConvInputGradients } from './lazy-conv-input-gradient.ts';
import { registerNativeTrainingKernels } from './native/register-native-kernels.ts';
import { registerWasmTrainingKernels, type KernelSelection } from './register-wasm-kernels.ts';
import { BACKENDS as BACKEND_PREFERENCES, type BackendName, type BackendPreference } from './backends.ts';

export { BACKEND_PREFERENCES, type BackendName, type BackendPreference };

export interface InitTfjsBackendOptions {
  /**
   * Threads of the native training kernels on the wasm backend (default: RLSA_NATIVE_THREADS if
   * set, else the CPUs available; at most 64), chosen once here. Without the native addon the
   * wasm backend computes on one thread: tfjs disables its threaded wasm build under Node (its
   * workers start from blob URLs, which worker_threads refuse: tfjs issue 3830) unless the caller
   * prepared it first (`prepareWasmThreads` in @rlsa/linalg-tfjs); a shortfall is recorded in
   * `threadsIgnoredReason`.
   */
  threads?: number;
  /**
   * Compute the convolutions and products of training with the native addon (@rlsa/linalg-native)
   * on the wasm backend's memory (default true). Where the addon is not built, or with false, the
   * project's wasm kernels compute them; `TfjsBackendInfo.native` says which.
   */
  native?: boolean;
  /**
   * Which of the project's wasm training kernels to register (default `all`). `none` leaves the
   * stock wasm kernels, which cannot train convolutions; a list is for benchmarks that measure
   * one kernel against the stock one.
   */
  kernels?: KernelSelection;
  /**
   * Compute a fused convolution's input gradient only when needed (default true; wasm and cpu):
   * see `useLazyConvInputGradients`. Saves the first layer's useless input gradient every step.
   */
  lazyConvInputGradients?: boolean;
  /**
   * Compute the gradient of tfjs-layers' swish (SiLU) activation in one kernel (default true; wasm):
   * see `useFusedSiluGradients`.
   */
  fusedSiluGradients?: boolean;
}

export interface TfjsBackendInfo {
  /** The backend in use, to be logged once by the caller. */
  backend: BackendName;
  /** tfjs's own name for it (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** Threads the backend computes with (1 for wasm under Node and for cpu; unknown (0) for node). */
  threads: number;
  /** The project's wasm kernels registered for this backend (empty but for wasm; the native ones are in `native`). */
  kernels: string[];
  /** Why backends earlier in the `auto` order were skipped, one entry per backend tried. */
  skipped: { backend: BackendName; reason: string }[];
  /** Whether fused convolutions compute their input gradient only when needed. */
  lazyConvInputGradients: boolean;
  /** Whether tfjs-layers' swish activation computes its gradient in one kernel (wasm only). */
  fusedSiluGradients: boolean;
  /** Set when `threads` above 1 was asked for and could not be given. */
  threadsIgnoredReason?: string;
  /**
   * The native training kernels (wasm only): their threads and SIMD level (`avx512`, `avx2`,
   * `portable`), or why they are off (not built, not wanted, not the wasm backend).
   */
  native: NativeKernelsInfo;
}

/** Whether the native training kernels run, and how. */
export type NativeKernelsInfo =
  | { readonly active: true; readonly threads: number; readonly simd: SimdLevel; readonly kernels: readonly string[] }
  | { readonly active: false; readonly reason: string };

interface ChosenBackend {
  preference: BackendPreference;
  info: Promise<TfjsBackendInfo>;
}

/** The process-wide choice; a symbol on globalThis so that two copies of this module agree. */
const CHOSEN = Symbol.for('@rlsa/tfjs-kernels/chosen-backend');
type GlobalWithChoice = typeof globalThis & { [CHOSEN]?: ChosenBackend };

/**
 * Chooses the tfjs backend for this process, once: `node` (`@tensorflow/tfjs-node`, an optional
 * dependency, dynamically imported), else `wasm` (with the binaries shipped inside
 * `@tensorflow/tfjs-backend-wasm/dist`, never downloaded, and the project's training kernels
 * registered), else `cpu`. One backend per process: loading two and mixing their tensors caused
 * hard bugs elsewhere (epfml/disco), so a second call returns the first choice, and a second call
 * that explicitly asks for a different backend throws `backend_already_chosen`.
 *
 * An explicit preference that cannot be met throws `backend_unavailable`; only `auto` falls back.
 * Warnings tfjs prints on its own (the "install tfjs-node" banner) are silenced with prod mode:
 * the caller logs one line with `backend`.
 */
export function initTfjsBackend(
  preference: BackendPreference = 'auto',
  options: InitTfjsBackendOptions = {},
): Promise<TfjsBackendInfo> {
  if (!BACKEND_PREFERENCES.includes(preference)) {
    return Promise.reject(
      new TfjsKernelsError('invalid_argument', `unknown backend '${String(preference)}' (expected one of ${BACKEND_PREFERENCES.join(', ')})`),
    );
  }
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1 && options.threads <= MAX_NATIVE_THREADS)) {
    return Promise.reject(new TfjsKernelsError('invalid_argument', `threads must be an integer in [1, ${MAX_NATIVE_THREADS}], got ${options.threads}`));
  }
  const g = globalThis as GlobalWithChoice;
  const chosen = g[CHOSEN];
  if (chosen !== undefined) {
    return chosen.info.then((info) => {
      if (preference !== 'auto' && preference !== info.backend) {
        throw new TfjsKernelsError(
          'backend_already_chosen',
          `the tfjs backend of this process is already '${info.backend}'; cannot switch to '${preference}'`,
        );
      }
      return info;
    });
  }
  const info = choose(preference, options);
  g[CHOSEN] = { preference, info };
  // A failed choice may be retried (e.g. with another preference): forget it.
  info.catch(() => {
    if (g[CHOSEN]?.info === info) delete g[CHOSEN];
  });
  return info;
}

/** The backend chosen by `initTfjsBackend`, or undefined before (or while) it runs. */
export async function currentTfjsBackend(): Promise<TfjsBackendInfo | undefined> {
  const chosen = (globalThis as GlobalWithChoice)[CHOSEN];
  return chosen === undefined ? undefined : chosen.info.catch(() => undefined);
}

async function choose(preference: BackendPreference, options: InitTfjsBackendOptions): Promise<TfjsBackendInfo> {
  const order: BackendName[] = preference === 'auto' ? ['node', 'wasm', 'cpu'] : [preference];
  const skipped: TfjsBackendInfo['skipped'] = [];
  tf.enableProdMode();
  for (const backend of order) {
    try {
      const info = await load(backend, options);
      return { ...info, skipped };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
      if (preference !== 'auto') {
        throw new TfjsKernelsError('backend_unavailable', `tfjs backend '${backend}' is unavailable: ${reason}`, { cause: error });
      }
      skipped.push({ backend, reason });
    }
  }
  throw new TfjsKernelsError('backend_unavailable', `no tfjs backend could be loaded: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

type Loaded = Omit<TfjsBackendInfo, 'skipped' | 'lazyConvInputGradients' | 'fusedSiluGradients'>;

async function load(backend: BackendName, options: InitTfjsBackendOptions): Promise<Omit<TfjsBackendInfo, 'skipped'>> {
  const loaded = await loadBackend(backend, options);
  // tfjs-node runs its own fused kernels; the lazy gradient is for the backends that pay for it.
  const lazy = backend !== 'node' && (options.lazyConvInputGradients ?? true) && useLazyConvInputGradients() !== undefined;
  // The fused SiLU gradient needs the project's wasm kernel.
  const silu = backend === 'wasm' && (options.fusedSiluGradients ?? true) && loaded.kernels.includes(SILU_GRAD) && useFusedSiluGradients() !== undefined;
  return { ...loaded, lazyConvInputGradients: lazy, fusedSiluGradients: silu };
}

async function loadBackend(backend: BackendName, options: InitTfjsBackendOptions): Promise<Loaded> {
  switch (backend) {
    case 'node': {
      // A variable specifier: the package is optional and usually absent, so it must not be
      // resolved at type-check or bundle time.
      const specifier = '@tensorflow/tfjs-node';
      await import(specifier);
      await setBackendOrThrow('tensorflow');
      return { backend, tfjsBackend: 'tensorflow', threads: 0, kernels: [], native: NOT_WASM };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(wasmDistDir());
      // Registered before setBackend so the engine runs every kernel's setup once it is ready.
      const kernels = registerWasmTrainingKernels(options.kernels ?? 'all');
      const native = nativeKernels(options);
      await setBackendOrThrow('wasm');
      const threads = native.active ? native.threads : wasm.getThreadsCount();
      const result: Loaded = { backend, tfjsBackend: 'wasm', threads, kernels, native };
      if (options.threads !== undefined && options.threads > result.threads) {
        result.threadsIgnoredReason =
          `asked for ${options.threads} threads, running ${result.threads}: tfjs disables the threaded wasm build under Node ` +
          '(tfjs issue 3830) unless it is prepared before initialisation (prepareWasmThreads in @rlsa/linalg-tfjs)';
      }
      return result;
    }
    case 'cpu': {
      await import('@tensorflow/tfjs-backend-cpu');
      await setBackendOrThrow('cpu');
      return { backend, tfjsBackend: 'cpu', threads: 1, kernels: [], native: NOT_WASM };
    }
  }
}

const NOT_WASM: NativeKernelsInfo = { active: false, reason: 'the native training kernels run on the wasm backend only' };

/** Registers the native training kernels when wanted and built; otherwise says why not. */
function nativeKernels(options: InitTfjsBackendOptions): NativeKernelsInfo {
  if (options.native === false) return { active: false, reason: 'turned off (native: false)' };
  const status = nativeLinalgStatus();
  if (!status.available) return { active: false, reason: `@rlsa/linalg-native is unavailable: ${status.reason}` };
  let native: NativeTrainingKernels | null;
  try {
    native = nativeTrainingKernels({ ...(options.threads === undefined ? {} : { threads: options.threads }) });
  } catch (error) {
    // A bad RLSA_NATIVE_THREADS or RLSA_NATIVE_SIMD: the user's to fix, not a reason to run slower.
    throw new TfjsKernelsError('invalid_argument', (error as Error).message, { cause: error });
  }
  if (native === null) return { active: false, reason: '@rlsa/linalg-native is unavailable' };
  const kernels = registerNativeTrainingKernels(native);
  return { active: true, threads: native.threads, simd: native.level, kernels };
}

async function setBackendOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

/** The folder of the wasm binaries inside the installed package (with a trailing slash, as tfjs expects). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}
