import { fixed } from './markdown-table.ts';
import { at, numberAt, stringAt, type JsonSource } from './read-json.ts';

/** The number at `keys`, or null where the run skipped that part. */
export function optionalNumber(source: JsonSource, keys: readonly (string | number)[]): number | null {
  const value = at(source.value, keys);
  return typeof value === 'number' ? value : null;
}

/** A ratio as `1.23×`, or an en dash. */
export function times(value: number | null, digits = 2): string {
  return value === null ? '–' : `${fixed(value, digits)}×`;
}

/** Load averages (1, 5, 15 min) as `0.9 / 3.4 / 4.7`, or an en dash. */
export function load(values: unknown): string {
  return Array.isArray(values) ? values.map((v) => fixed(v as number, 1)).join(' / ') : '–';
}

/**
 * CPU seconds per image as CPU milliseconds (the JSON's unit is seconds; a few ms read better),
 * with no more decimals than the JSON has (`digits` of milliseconds).
 */
export function cpuMs(seconds: number | null, digits: number): string {
  return seconds === null ? '–' : fixed(seconds * 1000, digits);
}

/** `met` / `not met` for a measured value against a lower bound. */
export function met(value: number | null, target: number): string {
  return value === null ? '–' : value >= target ? 'met' : 'not met';
}

/**
 * The machine as the benchmarks record it (`machine.cpuModel`, `.cpus`, `.simd`, optional
 * `.simdBits`): `AMD EPYC, 2 CPUs, SIMD avx512 (512-bit)`. Fails naming the field when one is missing.
 */
export function machineLine(source: JsonSource): string {
  const bits = optionalNumber(source, ['machine', 'simdBits']);
  return (
    `${stringAt(source, ['machine', 'cpuModel'])}, ${numberAt(source, ['machine', 'cpus'])} CPUs, ` +
    `SIMD ${stringAt(source, ['machine', 'simd'])}${bits === null ? '' : ` (${bits}-bit)`}`
  );
}
