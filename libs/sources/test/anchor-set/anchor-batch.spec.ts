import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDataset } from '@rlsa/data';
import { describe, expect, it } from 'vitest';
import { anchorBatch, contentId, parseResizeRule, readAnchorSet } from '../../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { files: Record<string, { rgb: number[] }> };

describe('anchorBatch', () => {
  it("decodes an images set to the node's shape, in anchor order, with content ids and the set's labels", async () => {
    const set = await readAnchorSet(path.join(FIXTURES, 'anchors/images'));
    const batch = await anchorBatch(set, { shape: { kind: 'image', height: 6, width: 8, channels: 3 } });
    // Sorted names: a-class/one.png (rgb.png), a-class/three.png (grey.png), b-class/two.jpg (rgb.jpg).
    expect(Array.from(batch.values.subarray(0, 144))).toEqual(manifest.files['images/rgb.png']!.rgb);
    expect(Array.from(batch.values.subarray(144, 288))).toEqual(manifest.files['images/grey.png']!.rgb);
    expect(Array.from(batch.labels)).toEqual([0, 0, 1]);
    expect(batch.ids[0]).toBe(contentId(readFileSync(path.join(FIXTURES, 'images/rgb.png'))));
    const resized = await anchorBatch(set, { shape: { kind: 'image', height: 3, width: 3, channels: 1 }, resize: parseResizeRule('3x3') });
    expect(resized.values.length).toBe(3 * 9);
  });

  it("refuses an images set whose size is not the node's without a resize rule, naming the anchor", async () => {
    const set = await readAnchorSet(path.join(FIXTURES, 'anchors/images'));
    await expect(anchorBatch(set, { shape: { kind: 'image', height: 4, width: 4, channels: 3 }, source: 'run r1' })).rejects.toMatchObject({
      code: 'bad_format',
      message: expect.stringContaining('run r1: a-class/one.png'),
    });
  });

  it("passes an array set through when its shape is the node's, and refuses another shape", async () => {
    const set = await readAnchorSet(path.join(FIXTURES, 'anchors/array'));
    const batch = await anchorBatch(set, { shape: { kind: 'image', height: 2, width: 2, channels: 1 } });
    expect(batch.values).toBeInstanceOf(Float32Array);
    expect(Array.from(batch.labels)).toEqual([2, -1, 0]);
    await expect(anchorBatch(set, { shape: { kind: 'features', width: 4 } })).rejects.toMatchObject({ code: 'bad_format' });
  });

  it('reads a builtin set from the loaded data set, with its ids and labels', async () => {
    const dataset = syntheticDataset({ trainCount: 20, testCount: 2, shape: [4, 4, 3] });
    const batch = await anchorBatch({ kind: 'builtin', dataset: 'synthetic', ids: Uint32Array.of(3, 7) }, { shape: { kind: 'image', height: 4, width: 4, channels: 3 }, dataset });
    expect(batch.values.subarray(48, 96)).toEqual(dataset.train.images.subarray(7 * 48, 8 * 48));
    expect(Array.from(batch.ids)).toEqual([3n, 7n]);
    expect(Array.from(batch.labels)).toEqual([dataset.train.labels[3], dataset.train.labels[7]]);
  });
});
