import { sampleIds, syntheticDataset, TEST_ID_OFFSET } from '@rlsa/data';
import { describe, expect, it } from 'vitest';
import { builtinSource, openSource, parseSourceSpec } from '../src/index.ts';

describe('builtinSource', () => {
  const dataset = syntheticDataset({ trainCount: 50, testCount: 20, seed: 3, shape: [8, 8, 3] });

  it("keeps the built-in sets' 32-bit ids (train i → i, test j → 10⁶ + j) and their pixels and labels", async () => {
    const source = builtinSource(dataset, { train: [4, 9, 2], test: [0, 19] });
    expect(Array.from(source.train.ids)).toEqual(Array.from(sampleIds('train', [4, 9, 2]), (id) => BigInt(id)));
    expect(Array.from(source.test.ids)).toEqual([BigInt(TEST_ID_OFFSET), BigInt(TEST_ID_OFFSET + 19)]);
    expect(Array.from(source.train.labels)).toEqual([4, 9, 2].map((i) => dataset.train.labels[i]!));
    const size = 8 * 8 * 3;
    const batches = [];
    for await (const batch of source.train.batches(2)) batches.push(batch);
    expect(batches[1]!.values).toEqual(dataset.train.images.subarray(2 * size, 3 * size));
    expect(source.shape).toEqual({ kind: 'image', height: dataset.shape[0], width: dataset.shape[1], channels: dataset.shape[2] });
  });

  it('is what --data builtin:NAME opens; other specs are refused', async () => {
    const source = await openSource(parseSourceSpec('builtin:synthetic'), { builtin: { load: { synthetic: { trainCount: 10, testCount: 5 } } } });
    expect([source.train.count, source.test.count]).toEqual([10, 5]);
    expect(parseSourceSpec('imagefolder:/data/x:y')).toEqual({ kind: 'imagefolder', location: '/data/x:y' });
    for (const bad of ['folder:/x', 'npy:', 'imagefolder']) expect(() => parseSourceSpec(bad)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    await expect(openSource(parseSourceSpec('builtin:mnist'))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
