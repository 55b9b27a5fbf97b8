import { loadAddon } from './addon.ts';

/**
 * sums[sumsOffset + i] += values[valuesOffset + i] for i < count, in C: float32 rows added into
 * float64 sums, each term converted exactly, so the results equal JavaScript's
 * `sums[k] += values[j]` bit for bit. Throws a coded RangeError when a range lies outside its array.
 */
export type AddFloat32ToFloat64 = (sums: Float64Array, sumsOffset: number, values: Float32Array, valuesOffset: number, count: number) => void;

/** The native row accumulator, or null when the addon is unavailable. */
export function nativeAddFloat32ToFloat64(): AddFloat32ToFloat64 | null {
  const { addon } = loadAddon();
  return addon === null ? null : addon.addFloat32ToFloat64.bind(addon);
}
