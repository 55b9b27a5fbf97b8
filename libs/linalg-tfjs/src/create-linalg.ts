import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { currentTfjsBackend, initTfjsBackend, type TfjsBackendInfo } from '@rlsa/tfjs-kernels';
import { TfjsLinalg, type TfjsLinalgOptions } from './tfjs-linalg.ts';
import { prepareWasmThreads, unrefWasmWorkers } from './wasm-threads.ts';

export interface CreateTfjsLinalgOptions extends TfjsLinalgOptions {
  /**
   * Threads of the wasm backend when this call is the one that initialises it (default: the
   * number of CPUs, at most 4). Ignored when the process already chose its backend.
   */
  readonly threads?: number;
}

export interface TfjsLinalgInfo {
  /** The tfjs backend the products run on (`wasm`, or whatever the process chose before). */
  readonly backend: string;
  /** Threads of that backend (0 when unknown). */
  readonly threads: number;
  /** Whether this call initialised the backend (false: it reused the process's choice). */
  readonly initialised: boolean;
}

/**
 * A `Linalg` backed by tfjs, with the backend of this process: if `initTfjsBackend` (from
 * @rlsa/tfjs-kernels) already chose one, it is reused (one backend per process); otherwise the
 * wasm backend is initialised here, multi-threaded (see `prepareWasmThreads`), falling back to
 * one thread if the workers cannot start.
 */
export async function createTfjsLinalg(options: CreateTfjsLinalgOptions = {}): Promise<{ linalg: TfjsLinalg; info: TfjsLinalgInfo }> {
  const existing = await currentTfjsBackend();
  let chosen: TfjsBackendInfo;
  let initialised = false;
  if (existing !== undefined) {
    chosen = existing;
  } else {
    const threads = options.threads ?? Math.min(4, Math.max(1, os.availableParallelism()));
    chosen = await initWasm(threads);
    initialised = true;
  }
  const threads = chosen.tfjsBackend === 'wasm' ? actualWasmThreads() : chosen.threads;
  return {
    linalg: new TfjsLinalg(options),
    info: { backend: chosen.tfjsBackend, threads, initialised },
  };
}

async function initWasm(threads: number): Promise<TfjsBackendInfo> {
  if (threads <= 1) return initTfjsBackend('wasm');
  const restore = await prepareWasmThreads(threads);
  try {
    const info = await initTfjsBackend('wasm');
    unrefWasmWorkers();
    return info;
  } catch {
    // The threaded build could not start here: the single-threaded SIMD build still can.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return initTfjsBackend('wasm');
  } finally {
    restore();
  }
}

function actualWasmThreads(): number {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null;
  return backend?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}
