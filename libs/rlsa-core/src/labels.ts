import { RlsaError } from './errors.ts';

/** Checks that labels are non-negative integers, one per row; returns them as an Int32Array copy. */
export function checkLabels(labels: ArrayLike<number>, rows: number, name: string): Int32Array {
  if (labels.length !== rows) throw new RlsaError('shape_mismatch', `${name} has ${labels.length} entries for ${rows} rows`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new RlsaError('invalid_argument', `${name}[${i}] = ${v} is not a non-negative integer class`);
    out[i] = v;
  }
  return out;
}

/** Row indices per class: a map from class to ascending indices, with the classes ascending. */
export function indicesByClass(labels: Int32Array): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  return new Map([...byClass.entries()].sort((a, b) => a[0] - b[0]));
}
