import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { contentId, openImageFolder, parseResizeRule, type DataSource, type SampleBatch } from '../../src/index.ts';
import { encodeImage, seededPixels, writeAt, writePng } from '../helpers/image-files.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { files: Record<string, { rgb: number[] }> };
const scratch = mkdtempSync(path.join(tmpdir(), 'image-folder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const folder = (): string => path.join(scratch, `f${folders++}`);

async function collect(source: DataSource, part: 'train' | 'test', batchSize = 3): Promise<SampleBatch[]> {
  const out: SampleBatch[] = [];
  for await (const batch of source[part].batches(batchSize)) out.push(batch);
  return out;
}

describe('openImageFolder', () => {
  it('reads one subfolder per class (sorted names → labels), decodes PNG pixels exactly and ids each file by content', async () => {
    const dir = folder();
    const pixels = new Map<string, Uint8Array>();
    for (const [relative, seed] of [['zebra/a.png', 1], ['ant/b.png', 2], ['ant/sub/c.PNG', 3], ['ant/notes.txt', 0]] as const) {
      if (relative.endsWith('.txt')) writeFileSync(path.join(dir, relative), 'ignored');
      else pixels.set(relative, await writePng(dir, relative, 4, 5, seed));
    }
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    expect(source.classNames).toEqual(['ant', 'zebra']);
    expect(source.shape).toEqual({ kind: 'image', height: 4, width: 5, channels: 3 });
    const order = ['ant/b.png', 'ant/sub/c.PNG', 'zebra/a.png'];
    expect(Array.from(source.train.labels)).toEqual([0, 0, 1]);
    expect(Array.from(source.train.ids)).toEqual(order.map((f) => contentId(readFileSync(path.join(dir, f)))));
    const [batch] = await collect(source, 'train', 8);
    expect(batch!.values).toEqual(Uint8Array.from(order.flatMap((f) => Array.from(pixels.get(f)!))));
    expect(source.test.count).toBe(0);
  });

  it("decodes the fixtures' PNG and JPEG to PIL's pixels (fixtures/make_fixtures.py)", async () => {
    const dir = folder();
    for (const file of ['rgb.png', 'rgb.jpg', 'grey.png']) {
      mkdirSync(path.join(dir, 'cls'), { recursive: true });
      copyFileSync(path.join(FIXTURES, 'images', file), path.join(dir, 'cls', file));
    }
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    const [batch] = await collect(source, 'train', 8);
    const size = 6 * 8 * 3;
    // Sorted: grey.png, rgb.jpg, rgb.png. Grey expands to three equal channels, as PIL's convert('RGB').
    expect(Array.from(batch!.values.subarray(0, size))).toEqual(manifest.files['images/grey.png']!.rgb);
    expect(Array.from(batch!.values.subarray(2 * size, 3 * size))).toEqual(manifest.files['images/rgb.png']!.rgb);
    // Both decode with libjpeg-turbo; allow one step of rounding between their IDCT builds.
    const jpeg = batch!.values.subarray(size, 2 * size);
    const pil = manifest.files['images/rgb.jpg']!.rgb;
    expect(Math.max(...Array.from(jpeg, (v, i) => Math.abs(v - pil[i]!)))).toBeLessThanOrEqual(1);
  });

  it('uses DIR/train and DIR/test when present, with the training class names for both', async () => {
    const dir = folder();
    await writePng(dir, 'train/a/1.png', 3, 3, 1);
    await writePng(dir, 'train/b/2.png', 3, 3, 2);
    await writePng(dir, 'test/b/3.png', 3, 3, 3);
    const source = await openImageFolder(dir);
    expect(source.testOrigin).toBe('source');
    expect([source.train.count, source.test.count]).toEqual([2, 1]);
    expect(Array.from(source.test.labels)).toEqual([1]);
  });

  it('holds out a seeded fraction when there is no test part: disjoint, complete, the same for the same seed', async () => {
    const dir = folder();
    for (let i = 0; i < 20; i++) await writePng(dir, `c${i % 2}/${String(i).padStart(2, '0')}.png`, 2, 2, 100 + i);
    const a = await openImageFolder(dir, { holdoutFraction: 0.25, seed: 7 });
    const b = await openImageFolder(dir, { holdoutFraction: 0.25, seed: 7 });
    const c = await openImageFolder(dir, { holdoutFraction: 0.25, seed: 8 });
    expect([a.train.count, a.test.count]).toEqual([15, 5]);
    expect(a.testOrigin).toBe('holdout');
    expect(new Set([...a.train.ids, ...a.test.ids]).size).toBe(20);
    expect(b.test.ids).toEqual(a.test.ids);
    expect(c.test.ids).not.toEqual(a.test.ids);
  });

  it('resizes with a stated rule; mixed sizes without one are refused, naming both files', async () => {
    const dir = folder();
    await writePng(dir, 'a/big.png', 20, 10, 1);
    await writePng(dir, 'a/small.png', 4, 4, 2, 1);
    await expect(openImageFolder(dir)).rejects.toMatchObject({ code: 'bad_format', message: expect.stringMatching(/a\/big\.png is 20×10 but a\/small\.png is 4×4/) });
    const source = await openImageFolder(dir, { resize: parseResizeRule('8x6', 'fill'), holdoutFraction: 0 });
    const [batch] = await collect(source, 'train');
    expect(batch!.shape).toEqual({ kind: 'image', height: 8, width: 6, channels: 3 });
    expect(batch!.values.length).toBe(2 * 8 * 6 * 3);
    const grey = await openImageFolder(dir, { resize: parseResizeRule('2x2', 'cover'), channels: 1, holdoutFraction: 0 });
    expect((await collect(grey, 'train'))[0]!.values.length).toBe(2 * 2 * 2);
  });

  it('drops a second copy of the same image (same id, same content) and lists it', async () => {
    const dir = folder();
    const png = await encodeImage(seededPixels(12, 5), 2, 2, 3);
    writeAt(dir, 'a/one.png', png);
    writeAt(dir, 'b/copy.png', png);
    await writePng(dir, 'b/other.png', 2, 2, 6);
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    expect(source.train.count).toBe(2);
    expect(source.duplicates).toEqual([{ id: contentId(png), kept: 'a/one.png', dropped: 'b/copy.png' }]);
  });

  it('reads in bounded batches, in order, with the last one short', async () => {
    const dir = folder();
    for (let i = 0; i < 7; i++) await writePng(dir, `c/${i}.png`, 2, 2, 30 + i);
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    for (const prefetch of [0, 1, 3]) {
      const counts: number[] = [];
      const ids: bigint[] = [];
      for await (const batch of source.train.batches(3, { prefetch })) {
        counts.push(batch.count);
        ids.push(...batch.ids);
      }
      expect(counts).toEqual([3, 3, 1]);
      expect(ids).toEqual(Array.from(source.train.ids));
    }
  });
});

describe('openImageFolder refuses bad input, naming the file', () => {
  it('a truncated image (at its batch: its header is intact) and a file that is not an image (at open)', async () => {
    const dir = folder();
    const png = await encodeImage(seededPixels(64 * 64 * 3, 9), 64, 64, 3);
    await writePng(dir, 'a/good.png', 64, 64, 1);
    const truncated = writeAt(dir, 'a/truncated.png', png.subarray(0, Math.floor(png.length / 2)));
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    await expect(collect(source, 'train')).rejects.toMatchObject({ code: 'bad_format', file: truncated, message: expect.stringContaining(truncated) });
    const garbage = writeAt(dir, 'a/garbage.jpg', new TextEncoder().encode('not an image'));
    await expect(openImageFolder(dir)).rejects.toMatchObject({ code: 'bad_format', file: garbage });
  });

  it('a class folder with no image', async () => {
    const dir = folder();
    await writePng(dir, 'a/1.png', 2, 2, 1);
    mkdirSync(path.join(dir, 'empty'));
    writeFileSync(path.join(dir, 'empty', 'readme.txt'), 'no images here');
    await expect(openImageFolder(dir)).rejects.toMatchObject({ code: 'bad_format', file: path.join(dir, 'empty') });
  });

  it('a missing folder, an image outside any class folder, a test class unknown to training', async () => {
    await expect(openImageFolder(path.join(scratch, 'nowhere'))).rejects.toMatchObject({ code: 'not_found', file: path.join(scratch, 'nowhere') });
    const stray = folder();
    await writePng(stray, 'a/1.png', 2, 2, 1);
    await writePng(stray, 'loose.png', 2, 2, 2);
    await expect(openImageFolder(stray)).rejects.toMatchObject({ code: 'bad_format', file: path.join(stray, 'loose.png') });
    const split = folder();
    await writePng(split, 'train/a/1.png', 2, 2, 1);
    await writePng(split, 'test/b/2.png', 2, 2, 2);
    await expect(openImageFolder(split)).rejects.toMatchObject({ code: 'bad_format', file: path.join(split, 'test', 'b') });
  });

  it('two different contents with one user-given id (--ids filename), naming both files', async () => {
    const dir = folder();
    await writePng(dir, 'cat/12.png', 2, 2, 1);
    await writePng(dir, 'dog/12.png', 2, 2, 2);
    await expect(openImageFolder(dir, { ids: 'filename' })).rejects.toMatchObject({
      code: 'id_conflict',
      message: expect.stringMatching(/cat\/12\.png and dog\/12\.png have different contents but one id 000000000000000c/),
    });
    const ok = await openImageFolder(dir, { ids: 'content', holdoutFraction: 0 });
    expect(ok.train.count).toBe(2);
    // An image folder has no ids file.
    await expect(openImageFolder(dir, { ids: 'file' })).rejects.toMatchObject({ code: 'invalid_argument', file: dir });
  });

  it('a file that changed between the scan and its batch', async () => {
    const dir = folder();
    const file = path.join(dir, 'a', '1.png');
    await writePng(dir, 'a/1.png', 2, 2, 1);
    const source = await openImageFolder(dir, { holdoutFraction: 0 });
    await writePng(dir, 'a/1.png', 2, 2, 2);
    await expect(collect(source, 'train')).rejects.toMatchObject({ code: 'bad_format', file });
  });
});
