import { FAST_LINALG_MIN_WORK, jsLinalg, RlsaError, type Matrix, type Similarity } from '@rlsa/core';
import type { ChosenLinalg } from '@rlsa/linalg-tfjs';
import { readIntegers, readMatrix } from '@rlsa/npy';
import { UsageError } from '../user-error.ts';

/**
 * Shared input handling of the offline commands (relative, merge, cka, separability): every
 * problem is reported as one line that names the file at fault.
 */

/** An N×D embedding file; NaN or ±Inf anywhere is refused with its row and column. */
export function readEmbeddings(path: string): Matrix {
  return readMatrix(path, { finite: true });
}

/** Anchor row indices into a matrix of `rows` rows: a non-empty 1-D integer array, each in [0, rows). */
export function readAnchorIndices(path: string, rows: number, rowsOf: string): Int32Array | Float64Array {
  const idx = readIntegers(path, { limit: rows, what: `anchor indices (rows of ${rowsOf}, which has ${rows})` });
  if (idx.length === 0) throw new UsageError('invalid_value', `${path}: no anchor indices`);
  return idx;
}

/**
 * Cosine and angular similarity need a direction for every anchor: refuses an anchor whose row
 * is zero (after subtracting the anchor mean with `center`), naming its row in the file.
 */
export function checkAnchorNorms(anchors: Matrix, idx: ArrayLike<number>, path: string, similarity: Similarity, center: boolean): void {
  if (similarity !== 'cosine' && similarity !== 'angular') return;
  const { rows, cols, data } = anchors;
  const mean = new Float64Array(cols);
  if (center) {
    for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) mean[c]! += data[i * cols + c]! / rows;
  }
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let c = 0; c < cols; c++) sq += (data[i * cols + c]! - mean[c]!) ** 2;
    if (!(sq > 0)) {
      const after = center ? ' after centering on the anchor mean' : '';
      throw new UsageError('invalid_value', `${path}: anchor ${i} (row ${idx[i]}) has zero norm${after}; ${similarity} similarity needs a direction`);
    }
  }
}

/** Runs a core computation and prefixes a core error with the file it is about. */
export function about<T>(source: string, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof RlsaError) throw new RlsaError(error.code, `${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The fast products (the native kernels, else ONNX Runtime, else tfjs) for big jobs, pure JS for small ones;
 * RLSA_LINALG=js|native|tfjs|onnx forces one.
 * tfjs is imported only when used: it costs every other command's start-up otherwise.
 */
export async function chooseLinalg(multiplyAdds: number): Promise<ChosenLinalg> {
  const choice = process.env['RLSA_LINALG'] ?? 'auto';
  if (choice !== 'auto' && choice !== 'js' && choice !== 'native' && choice !== 'tfjs' && choice !== 'onnx') {
    throw new UsageError('invalid_value', `RLSA_LINALG must be auto, js, native, tfjs or onnx, got '${choice}'`);
  }
  // The core's threshold, checked here before importing @rlsa/linalg-tfjs (tfjs costs every command's start-up).
  if (choice === 'js' || (choice === 'auto' && multiplyAdds < FAST_LINALG_MIN_WORK)) return { linalg: jsLinalg, name: 'js', threads: 1 };
  const { linalgForWork } = await import('@rlsa/linalg-tfjs');
  return linalgForWork(multiplyAdds, choice);
}

/** Prints one JSON object on stdout (the machine-readable result of a command). */
export function printJson(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
