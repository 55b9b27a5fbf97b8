import { loadAddon } from './addon.ts';

/**
 * Copies `count` float32 values from `src`'s bytes (any alignment: a view into a received message)
 * into the first 4·count bytes of `dst` (4-byte aligned) and returns the index of the first value
 * that is not finite (NaN or ±Inf), or -1: one pass over the bytes where JavaScript needs two (a
 * copy, then a check of the copy), and a memcpy where `dst` is a SharedArrayBuffer (V8 copies into
 * shared memory element by element). Values are copied bit for bit; once a non-finite one is found
 * the copy stops (the rest of `dst` is unspecified: the payload is refused anyway). Throws a
 * coded RangeError when `count` values do not fit `src` or `dst`, or `dst` is not aligned.
 */
export type CopyFiniteFloat32 = (src: ArrayBufferView, dst: ArrayBufferView, count: number) => number;

/**
 * The native copy-and-check, or null when the addon is unavailable, or was built from sources older
 * than this kernel (the sources updated without `npm ci`): callers then copy and check in JavaScript.
 */
export function nativeCopyFiniteFloat32(): CopyFiniteFloat32 | null {
  const { addon } = loadAddon();
  return addon === null || typeof addon.copyFiniteFloat32 !== 'function' ? null : addon.copyFiniteFloat32.bind(addon);
}
