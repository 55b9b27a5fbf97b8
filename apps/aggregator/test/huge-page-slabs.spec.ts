import { describe, expect, it } from 'vitest';
import { adviseHugePages, nativeLinalgStatus } from '@rlsa/linalg-native';
import { HugePageSlabs } from '../src/huge-page-slabs.ts';
import { MergedSums } from '../src/merged-sums.ts';

describe('HugePageSlabs', () => {
  it('cuts whole, disjoint, zero-filled slabs from arenas and advises each arena once', () => {
    const advised: number[] = [];
    const slabs = new HugePageSlabs((view) => advised.push(view.length), 10 * 64);
    const taken = Array.from({ length: 5 }, () => slabs.take(3 * 64)!);
    // 10·64 bytes hold 3 slabs of 3·64 bytes: arenas of 72 elements, 3 slabs each.
    expect(advised).toEqual([72, 72]);
    expect(taken.map((t) => t.length)).toEqual([24, 24, 24, 24, 24]);
    expect(taken.every((t) => t.every((v) => v === 0))).toBe(true);
    taken[0]!.fill(1);
    expect(taken[1]!.every((v) => v === 0)).toBe(true);
    expect(taken[1]!.buffer).toBe(taken[0]!.buffer);
    expect(taken[3]!.buffer).not.toBe(taken[0]!.buffer);
    // A slab larger than an arena gets an arena of its own.
    expect(slabs.take(100 * 64)!.length).toBe(800);
    expect(slabs.take(12)).toBeUndefined();
  });

  it('gives MergedSums the same sums as its own allocation, across slab and arena boundaries', () => {
    const width = 8;
    const plain = new MergedSums(width);
    const arenas = new MergedSums(width, new HugePageSlabs(() => undefined, 2 * 1024 * width * 8));
    const values = Float32Array.from({ length: 3 * width }, (_, i) => (i % 7) - 3.25);
    for (let round = 0; round < 2; round += 1) {
      for (let id = 0; id < 5000; id += 1) {
        plain.add(id, values, id % 3, id % 5);
        arenas.add(id, values, id % 3, id % 5);
      }
    }
    const a = new Float32Array(width);
    const b = new Float32Array(width);
    for (const id of [0, 1023, 1024, 2047, 2048, 4095, 4096, 4999]) {
      expect(arenas.readMean(id, b, 0)).toEqual(plain.readMean(id, a, 0));
      expect(b).toEqual(a);
    }
  });

  it.skipIf(!nativeLinalgStatus().available)('the native advice leaves the memory zero and writable (skipped without the addon)', () => {
    const slabs = new HugePageSlabs(adviseHugePages);
    const slab = slabs.take(8 * 1024 * 1024)!;
    expect(slab.every((v) => v === 0)).toBe(true);
    slab[slab.length - 1] = 2.5;
    expect(slab[slab.length - 1]).toBe(2.5);
  });
});
