import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Makes the threaded build of `@tensorflow/tfjs-backend-wasm` (XNNPACK + pthreads) start under
 * Node, where tfjs disables it (tfjs issue 3830). Call before the wasm backend is initialised;
 * call the returned function once it is (it undoes the temporary `os.cpus` change).
 *
 * Three obstacles, three narrow work-arounds:
 * 1. tfjs reports no multithread support when `IS_NODE`: the flag `WASM_HAS_MULTITHREAD_SUPPORT`
 *    is set to true.
 * 2. The pthread workers are created from a `blob:` URL, which Node's `worker_threads` refuse:
 *    the worker script shipped in the package is written to a temporary `.cjs` file and
 *    `URL.createObjectURL` returns that path for the worker blob (recognised by its type and
 *    exact size, nothing else is touched). Inside the worker, the same override points the
 *    main-script blob at the package's `tfjs-backend-wasm-threaded-simd.js`.
 * 3. The wasm side caps its pool at `os.cpus().length / 2` (it assumes two hyper-threads per
 *    core), i.e. one thread on a 2-core machine: `os.cpus` reports `2 × threads` entries while
 *    the backend initialises.
 *
 * Workers are unreferenced afterwards (see `unrefWasmWorkers`) so they never keep a finished
 * process alive.
 */
export async function prepareWasmThreads(threads: number): Promise<() => void> {
  // Importing the backend registers its flags (and its factory, which initTfjsBackend imports anyway).
  await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const { wasmWorkerContents } = require(path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const mainScript = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  // tfjs escapes newlines the same way before making its blob; the blob's size identifies it.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  const workerSize = Buffer.byteLength(workerSource);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rlsa-tfjs-wasm-'));
  const workerPath = path.join(dir, 'worker.cjs');
  writeFileSync(
    workerPath,
    `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n${workerSource}`,
  );
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob) =>
    blob instanceof Blob && blob.type === 'application/javascript' && blob.size === workerSize ? workerPath : createObjectURL(blob);

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const cpus = os.cpus;
  const first = cpus.call(os)[0];
  if (first !== undefined) os.cpus = () => Array.from({ length: 2 * threads }, () => first);
  return () => {
    os.cpus = cpus;
  };
}

/** Lets the process exit while the wasm backend's pthread workers are idle. */
export function unrefWasmWorkers(): void {
  const backend = tf.findBackend('wasm') as unknown;
  const pthread = (backend as { wasm?: { PThread?: { unusedWorkers?: unknown[]; runningWorkers?: unknown[] } } } | null)?.wasm?.PThread;
  for (const worker of [...(pthread?.unusedWorkers ?? []), ...(pthread?.runningWorkers ?? [])]) {
    (worker as { unref?: () => void }).unref?.();
  }
}
