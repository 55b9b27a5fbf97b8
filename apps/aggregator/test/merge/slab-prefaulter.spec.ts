import { afterEach, describe, expect, it } from 'vitest';
import { nativeLinalgStatus } from '@rlsa/linalg-native';
import { MergedSums } from '../../src/merge/merged-sums.ts';
import { SlabPrefaulter } from '../../src/merge/slab-prefaulter.ts';

const prefaulters: SlabPrefaulter[] = [];
afterEach(async () => {
  for (const p of prefaulters.splice(0)) await p.stop();
});

async function readyArena(prefaulter: SlabPrefaulter, bytes: number): Promise<void> {
  for (let i = 0; i < 200 && prefaulter.readyCount(bytes) === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
}

const native = nativeLinalgStatus();
const addonPaths: [string, string | null][] = [['without the addon', null]];
if (native.available) addonPaths.push(['with huge-page advice from the addon', native.path]);

describe.each(addonPaths)('SlabPrefaulter %s', (_, addonPath) => {
  it('hands out nothing for a size it has not seen, then disjoint zero-filled slabs cut from arenas', async () => {
    // Arenas of 3 slabs of 64 KB (200 KB rounded down to whole slabs).
    const prefaulter = new SlabPrefaulter({ ahead: 2, arenaBytes: 200 * 1024, addonPath });
    prefaulters.push(prefaulter);
    expect(prefaulter.take(64 * 1024)).toBeUndefined();
    await readyArena(prefaulter, 64 * 1024);
    const first = prefaulter.take(64 * 1024)!;
    const second = prefaulter.take(64 * 1024)!;
    const third = prefaulter.take(64 * 1024)!;
    expect([first.byteLength, second.byteLength, third.byteLength]).toEqual([64 * 1024, 64 * 1024, 64 * 1024]);
    expect(first.buffer).toBe(third.buffer);
    expect(first.every((v) => v === 0) && second.every((v) => v === 0)).toBe(true);
    first.fill(1);
    expect(second.every((v) => v === 0)).toBe(true);
    // The fourth slab comes from the next arena.
    await readyArena(prefaulter, 64 * 1024);
    const fourth = prefaulter.take(64 * 1024)!;
    expect(fourth.buffer).not.toBe(first.buffer);
    expect(fourth.every((v) => v === 0)).toBe(true);
    // Other sizes are prepared separately; sizes that are not whole float64 rows never.
    expect(prefaulter.take(32 * 1024)).toBeUndefined();
    expect(prefaulter.take(12)).toBeUndefined();
  });

  it('gives MergedSums the same sums as its own allocation, across slab and arena boundaries', async () => {
    const width = 8;
    const slabBytes = 1024 * width * 8;
    const prefaulter = new SlabPrefaulter({ ahead: 2, arenaBytes: 2 * slabBytes, addonPath });
    prefaulters.push(prefaulter);
    const plain = new MergedSums(width);
    let used = 0;
    const prepared = new MergedSums(width, {
      take: (bytes) => {
        const slab = prefaulter.take(bytes);
        if (slab !== undefined) used += 1;
        return slab;
      },
      stop: async () => undefined,
    });
    const values = Float32Array.from({ length: 3 * width }, (_, i) => (i % 7) - 3.25);
    // Slab by slab, waiting for prepared arenas in between, so that later slabs come from the worker.
    for (let start = 0; start < 5000; start += 1024) {
      for (let round = 0; round < 2; round += 1) {
        for (let id = start; id < Math.min(5000, start + 1024); id += 1) {
          plain.add(id, 0, values, id % 3, id % 5);
          prepared.add(id, 0, values, id % 3, id % 5);
        }
      }
      await readyArena(prefaulter, slabBytes);
    }
    // The first slab is MergedSums' own (nothing prepared yet); the other four come from two arenas.
    expect(used).toBe(4);
    const a = new Float32Array(width);
    const b = new Float32Array(width);
    for (const id of [0, 1023, 1024, 2047, 2048, 3071, 3072, 4095, 4096, 4999]) {
      expect(prepared.readMean(id, 0, b, 0)).toEqual(plain.readMean(id, 0, a, 0));
      expect(b).toEqual(a);
    }
    expect(prepared.sampleCount).toBe(5000);
  });
});

describe.skipIf(!native.available)(`MergedSums with the native row accumulator${native.available ? '' : ' (skipped: the addon is unavailable)'}`, () => {
  it('gives bit-identical sums, counts and labels to the JavaScript loop (width 7: not a multiple of the unrolling)', () => {
    const width = 7;
    const js = new MergedSums(width, undefined, { native: false });
    const c = new MergedSums(width);
    // Values with every float32 exponent range in play, so that a rounding difference would show.
    const values = Float32Array.from({ length: 5 * width }, (_, i) => Math.fround(Math.sin(i * 1.7) * 10 ** ((i % 9) - 4)));
    for (let round = 0; round < 3; round += 1) {
      for (let id = 0; id < 2500; id += 1) {
        js.add(id, id % 3, values, (id + round) % 5, round === 1 ? id % 4 : -1);
        c.add(id, id % 3, values, (id + round) % 5, round === 1 ? id % 4 : -1);
      }
    }
    const sumsOf = (m: MergedSums) => {
      const out: number[] = [];
      m.forEachSum((low, high, sum, count, label) => out.push(low, high, count, label, ...sum));
      return out;
    };
    expect(sumsOf(c)).toEqual(sumsOf(js));
    expect(sumsOf(c).length).toBe(2500 * (4 + width));
  });
});
