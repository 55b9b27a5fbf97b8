import { describe, expect, it } from 'vitest';
import { adviseHugePages, nativeAddFloat32ToFloat64, nativeLinalgStatus } from '../src/index.ts';
import { loadAddon } from '../src/addon.ts';

const status = nativeLinalgStatus();
const why = status.available ? '' : status.reason;

describe.skipIf(!status.available)(`adviseHugePages${status.available ? '' : ` (skipped: ${why})`}`, () => {
  it('changes only the paging policy: a fresh 16 MB array stays zero and takes writes everywhere', () => {
    const view = new Float64Array(2 * 1024 * 1024);
    expect(adviseHugePages(view)).toBe(true);
    expect(view.every((v) => v === 0)).toBe(true);
    for (let i = 0; i < view.length; i += 4096) view[i] = i;
    expect(view[4096 * 7]).toBe(4096 * 7);
    // Small arrays (under 8 MB) are left alone, without error.
    expect(adviseHugePages(new Uint8Array(100))).toBe(true);
  });

  it('refuses what is not a typed array with a coded TypeError', () => {
    const addon = loadAddon().addon!;
    expect(() => addon.adviseHugePages({} as ArrayBufferView)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_RLSA_NATIVE_ARGUMENT' }));
  });
});

describe.skipIf(!status.available)(`nativeAddFloat32ToFloat64${status.available ? '' : ` (skipped: ${why})`}`, () => {
  it('adds a float32 range into a float64 range exactly, and refuses ranges outside their arrays', () => {
    const add = nativeAddFloat32ToFloat64()!;
    const sums = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5]);
    const values = Float32Array.from([1.5, 2.25, Math.fround(1 / 3), 7]);
    add(sums, 1, values, 1, 3);
    expect(Array.from(sums)).toEqual([0.1, 0.2 + 2.25, 0.3 + Math.fround(1 / 3), 0.4 + 7, 0.5]);
    expect(() => add(sums, 3, values, 0, 3)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_RLSA_NATIVE_SHAPE' }));
    expect(() => add(sums, 0, values, 2, 3)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_RLSA_NATIVE_SHAPE' }));
    expect(() => add(sums, 0, new Float64Array(4) as unknown as Float32Array, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_RLSA_NATIVE_DTYPE' }));
  });
});
