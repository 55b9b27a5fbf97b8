import { createRequire } from 'node:module';
import os from 'node:os';
import { jsLinalg, RlsaError, type Linalg, type Matrix } from '@rlsa/core';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { gemmModel, type GemmTranspose } from './gemm-model.ts';

export interface OnnxLinalgOptions {
  /** Threads of ONNX Runtime's intra-op pool (MLAS GEMM). Default: the number of CPUs. */
  readonly threads?: number;
  /**
   * Rows summed in float32 inside one product of `matmulAtB` before the float64 accumulation.
   * Default 8192 (relative rounding error of a float32 sum of n terms grows like √n·2⁻²⁴).
   */
  readonly reduceRows?: number;
  /** Products smaller than this many multiply-adds go to the pure-JS `jsLinalg` (no call overhead). Default 2²¹. */
  readonly minWork?: number;
}

/** The native session of onnxruntime-node's binding: `run` is synchronous there. */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, { data: unknown; dims: readonly number[] }>;
  dispose(): void;
}

interface OrtModules {
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly newSession: () => NativeSession;
  readonly version: string;
}

let modules: OrtModules | null = null;

/**
 * Loads onnxruntime-node (its native binding ships in the npm package for linux/darwin/win x64
 * and arm64). Throws `RlsaError('failed_precondition')` when it cannot load here.
 *
 * Why the binding and not `InferenceSession`: the public `session.run` is async only because it
 * defers the binding's synchronous `run` with `setImmediate`; the core's `Linalg` is synchronous,
 * so this calls the binding directly (the same three calls the public wrapper makes:
 * `initOrt`, `loadModel`, `run`). The package version is pinned for that reason.
 */
function loadOrt(): OrtModules {
  if (modules !== null) return modules;
  try {
    const require = createRequire(import.meta.url);
    const ort = require('onnxruntime-node') as { Tensor: OrtModules['Tensor']; env: { versions: { node?: string } } };
    const b = require('onnxruntime-node/dist/binding.js') as {
      initOrt: () => void;
      binding: { InferenceSession: new () => NativeSession };
    };
    b.initOrt();
    modules = { Tensor: ort.Tensor, newSession: () => new b.binding.InferenceSession(), version: ort.env.versions.node ?? 'unknown' };
    return modules;
  } catch (error) {
    throw new RlsaError('failed_precondition', `onnxruntime-node cannot load here: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A `Linalg` on ONNX Runtime's CPU execution provider: each product is one `Gemm` node of a
 * tiny in-memory model (see `gemmModel`), run by MLAS (AVX2/AVX-512 kernels, multithreaded).
 * The transposed operand is read in place by MLAS, so neither product copies its inputs
 * (float32 row blocks are passed as views; float64 inputs are rounded to float32).
 * - `matmulABt`: one `Gemm(transB=1)` call, C (float32) comes back as is.
 * - `matmulAtB`: each block of `reduceRows` rows gives a float32 `Gemm(transA=1)` product Aᵢᵀ·Bᵢ
 *   that is added into a float64 accumulator.
 * Products below `minWork` multiply-adds go to `jsLinalg`.
 */
export class OnnxLinalg implements Linalg {
  readonly threads: number;
  readonly ortVersion: string;
  private readonly reduceRows: number;
  private readonly minWork: number;
  private readonly ort: OrtModules;
  private readonly abt: NativeSession;
  private readonly atb: NativeSession;

  constructor(options: OnnxLinalgOptions = {}) {
    this.threads = positiveInteger(options.threads ?? Math.max(1, os.availableParallelism()), 'threads');
    this.reduceRows = positiveInteger(options.reduceRows ?? 8192, 'reduceRows');
    this.minWork = options.minWork ?? 2 ** 21;
    this.ort = loadOrt();
    this.ortVersion = this.ort.version;
    this.abt = this.session('transB');
    this.atb = this.session('transA');
  }

  /** C (m×n, Float32) = A (m×k) · Bᵀ (B is n×k). */
  matmulABt(a: Matrix, b: Matrix): Matrix {
    if (a.cols !== b.cols) throw new RlsaError('shape_mismatch', `matmulABt: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const n = b.rows;
    const k = a.cols;
    if (m * n * k < this.minWork || k === 0) return jsLinalg.matmulABt(a, b);
    const data = this.gemm(this.abt, asFloat32(a.data), [m, k], asFloat32(b.data), [n, k], m * n);
    return { rows: m, cols: n, data };
  }

  /** C (k×n, Float64) = Aᵀ (A is m×k) · B (m×n), float32 within blocks of `reduceRows` rows, float64 across. */
  matmulAtB(a: Matrix, b: Matrix): Matrix {
    if (a.rows !== b.rows) throw new RlsaError('shape_mismatch', `matmulAtB: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const k = a.cols;
    const n = b.cols;
    if (m * n * k < this.minWork || k === 0 || n === 0) return jsLinalg.matmulAtB(a, b);
    const same = a.data === b.data && a.cols === b.cols;
    const acc = new Float64Array(k * n);
    for (let r0 = 0; r0 < m; r0 += this.reduceRows) {
      const rb = Math.min(this.reduceRows, m - r0);
      const ab = asFloat32(a.data.subarray(r0 * k, (r0 + rb) * k));
      const bb = same ? ab : asFloat32(b.data.subarray(r0 * n, (r0 + rb) * n));
      const block = this.gemm(this.atb, ab, [rb, k], bb, [rb, n], k * n);
      for (let i = 0; i < block.length; i++) acc[i]! += block[i]!;
    }
    return { rows: k, cols: n, data: acc };
  }

  /** Frees the two native sessions; the instance is unusable afterwards. */
  dispose(): void {
    this.abt.dispose();
    this.atb.dispose();
  }

  private session(transpose: GemmTranspose): NativeSession {
    const model = gemmModel(transpose);
    const session = this.ort.newSession();
    session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return session;
  }

  private gemm(session: NativeSession, a: Float32Array, aDims: [number, number], b: Float32Array, bDims: [number, number], size: number): Float32Array {
    const out = session.run({ A: new this.ort.Tensor('float32', a, aDims), B: new this.ort.Tensor('float32', b, bDims) }, { Y: null }, {})['Y'];
    if (!(out?.data instanceof Float32Array) || out.data.length !== size) {
      throw new RlsaError('failed_precondition', `onnxruntime Gemm returned ${String(out?.dims)}, expected ${size} float32 values`);
    }
    return out.data;
  }
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RlsaError('invalid_argument', `${name} must be a positive integer, got ${v}`);
  return v;
}

function asFloat32(data: Float32Array | Float64Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
