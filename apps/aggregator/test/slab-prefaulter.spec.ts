import { afterEach, describe, expect, it } from 'vitest';
import { MergedSums } from '../src/merged-sums.ts';
import { SlabPrefaulter } from '../src/slab-prefaulter.ts';

const prefaulters: SlabPrefaulter[] = [];
afterEach(async () => {
  for (const p of prefaulters.splice(0)) await p.stop();
});

async function readySlab(prefaulter: SlabPrefaulter, bytes: number): Promise<void> {
  for (let i = 0; i < 200 && prefaulter.readyCount(bytes) === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
}

describe('SlabPrefaulter', () => {
  it('hands out nothing for a size it has not seen, then zero-filled buffers of exactly that size', async () => {
    const prefaulter = new SlabPrefaulter(2);
    prefaulters.push(prefaulter);
    expect(prefaulter.take(64 * 1024)).toBeUndefined();
    await readySlab(prefaulter, 64 * 1024);
    const buffer = prefaulter.take(64 * 1024);
    expect(buffer?.byteLength).toBe(64 * 1024);
    expect((buffer as Float64Array).every((v) => v === 0)).toBe(true);
    // Other sizes are prepared separately.
    expect(prefaulter.take(32 * 1024)).toBeUndefined();
  });

  it('gives MergedSums the same sums as its own allocation, across slab boundaries', async () => {
    const width = 8;
    const prefaulter = new SlabPrefaulter(2);
    prefaulters.push(prefaulter);
    const plain = new MergedSums(width);
    let used = 0;
    const prepared = new MergedSums(width, {
      take: (bytes) => {
        const buffer = prefaulter.take(bytes);
        if (buffer !== undefined) used += 1;
        return buffer;
      },
      stop: async () => undefined,
    });
    const values = Float32Array.from({ length: 3 * width }, (_, i) => (i % 7) - 3.25);
    // Slab by slab, waiting for prepared slabs in between, so that later slabs come from the worker.
    for (let start = 0; start < 3000; start += 1024) {
      for (let round = 0; round < 2; round += 1) {
        for (let id = start; id < Math.min(3000, start + 1024); id += 1) {
          plain.add(id, values, id % 3, id % 5);
          prepared.add(id, values, id % 3, id % 5);
        }
      }
      await readySlab(prefaulter, 1024 * width * 8);
    }
    expect(used).toBe(2);
    const a = new Float32Array(width);
    const b = new Float32Array(width);
    for (const id of [0, 1023, 1024, 2047, 2048, 2999]) {
      expect(prepared.readMean(id, b, 0)).toEqual(plain.readMean(id, a, 0));
      expect(b).toEqual(a);
    }
    expect(prepared.sampleCount).toBe(3000);
  });
});
