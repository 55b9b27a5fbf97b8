import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The stock wasm kernels this package replaced, kept so that its kernels can still call them. */
const ORIGINALS = Symbol.for('@rlsa/tfjs-kernels/original-wasm-kernels');
type GlobalWithOriginals = typeof globalThis & { [ORIGINALS]?: Map<string, tf.KernelConfig> };

export function originalKernels(): Map<string, tf.KernelConfig> {
  const g = globalThis as GlobalWithOriginals;
  g[ORIGINALS] ??= new Map();
  return g[ORIGINALS];
}

/**
 * Runs a wasm kernel by name inside another kernel, without the engine (no tape, no profiling
 * of the inner call): the stock kernel when this package overrode it, else the registered one.
 * The caller owns the result and disposes it with `backend.disposeData(result.dataId)` unless it
 * returns it.
 */
export function runWasmKernel(
  name: string,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = originalKernels().get(name) ?? tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/** A float32 view of a tensor in the wasm heap. Take views only after the last allocation: growing the heap detaches them. */
export function heapF32(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Frees intermediate results of inner kernel calls. */
export function disposeAll(backend: BackendWasm, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** A tensor info with the same data and another shape (a free reshape: wasm tensors are dense and row-major). */
export function reshaped(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** The arguments the engine passes to a kernel function. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}
