import { describe, expect, it } from 'vitest';
import { adviseHugePages, nativeLinalgStatus } from '../src/index.ts';
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
