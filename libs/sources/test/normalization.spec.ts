import { channelStats as dataChannelStats, syntheticDataset } from '@rlsa/data';
import { describe, expect, it } from 'vitest';
import { builtinSource, channelStats, normalizeBatch, rowPart, type SampleShape } from '../src/index.ts';

/** Float64 statistics the plain two-pass way (the reference the streaming ones must equal). */
function twoPass(values: ArrayLike<number>, channels: number, scale: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const xs = Array.from({ length: values.length / channels }, (_, r) => values[r * channels + c]! * scale);
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean.push(mu);
    std.push(Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length));
  }
  return { mean, std };
}

function memoryPart(shape: SampleShape, values: Uint8Array | Float32Array, rows: number) {
  const size = values.length / rows;
  return rowPart(
    { shape, read: (r) => Promise.resolve(values.slice(r[0]! * size, (r[r.length - 1]! + 1) * size)) },
    Uint32Array.from({ length: rows }, (_, i) => i),
    new BigUint64Array(rows),
    new Int32Array(rows),
  );
}

describe('channelStats', () => {
  it("equals the built-in data sets' statistics on a built-in source (same definition, other code)", async () => {
    const dataset = syntheticDataset({ trainCount: 300, testCount: 10, seed: 5, shape: [8, 8, 3] });
    const source = builtinSource(dataset);
    const stats = await channelStats(source.train, source.shape, 64);
    const reference = dataChannelStats(dataset);
    for (let c = 0; c < 3; c++) {
      expect(stats.mean[c]).toBeCloseTo(reference.mean[c]!, 12);
      expect(stats.std[c]).toBeCloseTo(reference.std[c]!, 12);
    }
  });

  it('on bytes (histograms) and floats (merged batches) equals the two-pass float64 statistics to 1e-12', async () => {
    const rows = 1000;
    const bytes = Uint8Array.from({ length: rows * 3 }, (_, i) => (i * 37 + (i % 7) * 11) % 256);
    const floats = Float32Array.from({ length: rows * 4 }, (_, i) => 1e4 + Math.sin(i) * (1 + (i % 4)));
    const byteStats = await channelStats(memoryPart({ kind: 'image', height: 1, width: 1, channels: 3 }, bytes, rows), { kind: 'image', height: 1, width: 1, channels: 3 }, 97);
    const floatStats = await channelStats(memoryPart({ kind: 'features', width: 4 }, floats, rows), { kind: 'features', width: 4 }, 97);
    const byteReference = twoPass(bytes, 3, 1 / 255);
    const floatReference = twoPass(floats, 4, 1);
    for (const [stats, reference] of [[byteStats, byteReference], [floatStats, floatReference]] as const) {
      stats.mean.forEach((m, c) => expect(Math.abs(m - reference.mean[c]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(reference.mean[c]!))));
      stats.std.forEach((s, c) => expect(Math.abs(s - reference.std[c]!)).toBeLessThan(1e-9 * reference.std[c]!));
    }
  });

  it('leaves a constant channel unscaled (std 1)', async () => {
    const stats = await channelStats(memoryPart({ kind: 'features', width: 1 }, new Float32Array(5).fill(3), 5), { kind: 'features', width: 1 });
    expect(stats).toEqual({ mean: [3], std: [1] });
  });
});

describe('normalizeBatch', () => {
  it('computes (x/255 − mean_c)/std_c for bytes and (x − mean_c)/std_c for floats, channels last', () => {
    const shape: SampleShape = { kind: 'image', height: 1, width: 2, channels: 2 };
    const batch = { shape, count: 1, values: Uint8Array.of(0, 255, 51, 102), ids: new BigUint64Array(1), labels: new Int32Array(1) };
    const out = normalizeBatch(batch, { mean: [0.5, 0.25], std: [0.5, 0.25] });
    const expected = [(0 - 0.5) / 0.5, (1 - 0.25) / 0.25, (0.2 - 0.5) / 0.5, (0.4 - 0.25) / 0.25];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    const floats = { ...batch, values: Float32Array.of(1, 2, 3, 4) };
    expect(Array.from(normalizeBatch(floats, { mean: [1, 1], std: [2, 4] }))).toEqual([0, 0.25, 1, 0.75]);
    expect(Array.from(normalizeBatch(batch, undefined))).toEqual([0, 1, 0.2, 0.4].map((v) => Math.fround(v)));
    expect(() => normalizeBatch(batch, { mean: [0], std: [1] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
