import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeNpy, type NpyArray } from '@rlsa/npy';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_LABEL, openNpyFolder, type DataSource, type SampleBatch } from '../../src/index.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'npy-folder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;

function folderWith(files: Record<string, NpyArray>): string {
  const dir = path.join(scratch, `f${folders++}`);
  mkdirSync(dir);
  for (const [name, array] of Object.entries(files)) writeNpy(path.join(dir, name), array);
  return dir;
}

async function all(source: DataSource, part: 'train' | 'test'): Promise<SampleBatch[]> {
  const out: SampleBatch[] = [];
  for await (const batch of source[part].batches(2)) out.push(batch);
  return out;
}

const images = (n: number): NpyArray => ({ dtype: 'uint8', shape: [n, 2, 2, 3], data: Uint8Array.from({ length: n * 12 }, (_, i) => (i * 7) % 256) });
const features = (n: number, f = 3): NpyArray => ({ dtype: 'float32', shape: [n, f], data: Float32Array.from({ length: n * f }, (_, i) => i / 4 - 1) });

describe('openNpyFolder', () => {
  it('reads x.npy images as bytes with y.npy labels and ids.npy ids, in row order', async () => {
    const dir = folderWith({
      'x.npy': images(5),
      'y.npy': { dtype: 'int64', shape: [5], data: BigInt64Array.of(1n, 0n, -1n, 2n, 1n) },
      'ids.npy': { dtype: 'uint64', shape: [5], data: BigUint64Array.of(10n, 2n ** 63n, 30n, 40n, 50n) },
    });
    const source = openNpyFolder(dir, { holdoutFraction: 0 });
    expect(source.shape).toEqual({ kind: 'image', height: 2, width: 2, channels: 3 });
    expect(source.classNames).toEqual(['0', '1', '2']);
    expect(Array.from(source.train.ids)).toEqual([10n, 2n ** 63n, 30n, 40n, 50n]);
    expect(Array.from(source.train.labels)).toEqual([1, 0, NO_LABEL, 2, 1]);
    const batches = await all(source, 'train');
    expect(batches.map((b) => b.count)).toEqual([2, 2, 1]);
    expect(Uint8Array.from(batches.flatMap((b) => Array.from(b.values)))).toEqual(images(5).data);
    source.close();
  });

  it('reads features (float64 on disk → float32), unlabelled when y.npy is missing, and x_test.npy as the test part', async () => {
    const dir = folderWith({
      'x.npy': { dtype: 'float64', shape: [3, 2], data: Float64Array.of(0.5, 1, 1.5, 2, 2.5, 3) },
      'x_test.npy': { dtype: 'float32', shape: [2, 2], data: Float32Array.of(9, 8, 7, 6) },
      'y_test.npy': { dtype: 'int32', shape: [2], data: Int32Array.of(0, 1) },
    });
    const source = openNpyFolder(dir);
    expect(source.shape).toEqual({ kind: 'features', width: 2 });
    expect(source.testOrigin).toBe('source');
    expect(Array.from(source.train.labels)).toEqual([NO_LABEL, NO_LABEL, NO_LABEL]);
    const [train] = await all(source, 'train');
    expect(train!.values).toEqual(Float32Array.of(0.5, 1, 1.5, 2));
    const [test] = await all(source, 'test');
    expect(test!.values).toEqual(Float32Array.of(9, 8, 7, 6));
    expect(Array.from(test!.labels)).toEqual([0, 1]);
    source.close();
  });

  it('holds out a seeded fraction of the rows and reads the chosen rows exactly', async () => {
    const dir = folderWith({ 'x.npy': features(10) });
    const source = openNpyFolder(dir, { holdoutFraction: 0.3, seed: 3 });
    expect([source.train.count, source.test.count]).toEqual([7, 3]);
    const whole = features(10).data as Float32Array;
    for (const part of ['train', 'test'] as const) {
      const rows = Array.from(source[part].ids, (id) => Array.from(openNpyFolder(dir, { holdoutFraction: 0 }).train.ids).indexOf(id));
      const values = (await all(source, part)).flatMap((b) => Array.from(b.values));
      expect(values).toEqual(rows.flatMap((r) => Array.from(whole.subarray(r * 3, r * 3 + 3))));
    }
  });
});

describe('openNpyFolder refuses bad input, naming the file', () => {
  it('ids.npy and x.npy of different lengths (naming both)', () => {
    const dir = folderWith({ 'x.npy': features(3), 'ids.npy': { dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, 2n) } });
    expect(() => openNpyFolder(dir)).toThrow(
      expect.objectContaining({ code: 'bad_format', file: path.join(dir, 'ids.npy'), message: expect.stringContaining(path.join(dir, 'x.npy')) }),
    );
  });

  it('y.npy of another length, negative ids, labels below −1', () => {
    const dir = folderWith({ 'x.npy': features(2), 'y.npy': { dtype: 'int32', shape: [3], data: Int32Array.of(0, 1, 2) } });
    expect(() => openNpyFolder(dir)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(dir, 'y.npy') }));
    const negative = folderWith({ 'x.npy': features(2), 'ids.npy': { dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, -2n) } });
    expect(() => openNpyFolder(negative)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(negative, 'ids.npy') }));
    const labels = folderWith({ 'x.npy': features(2), 'y.npy': { dtype: 'int32', shape: [2], data: Int32Array.of(0, -2) } });
    expect(() => openNpyFolder(labels)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(labels, 'y.npy') }));
  });

  it('NaN or Inf in x.npy, naming the row', () => {
    const data = Float32Array.of(1, 2, 3, 4, Infinity, 6);
    const dir = folderWith({ 'x.npy': { dtype: 'float32', shape: [3, 2], data } });
    expect(() => openNpyFolder(dir)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(dir, 'x.npy'), message: expect.stringContaining('row 2') }));
  });

  it('a missing x.npy, a truncated one, a dtype or rank it does not read, a test part of another shape', () => {
    expect(() => openNpyFolder(path.join(scratch, 'none'))).toThrow(expect.objectContaining({ code: 'not_found' }));
    const ints = folderWith({ 'x.npy': { dtype: 'int32', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4) } });
    expect(() => openNpyFolder(ints)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(ints, 'x.npy') }));
    const flat = folderWith({ 'x.npy': { dtype: 'float32', shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
    expect(() => openNpyFolder(flat)).toThrow(expect.objectContaining({ code: 'bad_format' }));
    const other = folderWith({ 'x.npy': features(2, 3), 'x_test.npy': features(2, 4) });
    expect(() => openNpyFolder(other)).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(other, 'x_test.npy') }));
  });

  it('two different rows with one id in ids.npy, naming both rows', () => {
    const dir = folderWith({ 'x.npy': features(3), 'ids.npy': { dtype: 'uint64', shape: [3], data: BigUint64Array.of(7n, 8n, 7n) } });
    expect(() => openNpyFolder(dir)).toThrow(expect.objectContaining({ code: 'id_conflict', message: expect.stringContaining('x.npy[0] and x.npy[2]') }));
  });

  it('requires ids.npy where asked (an embeddings folder)', () => {
    const dir = folderWith({ 'x.npy': features(2) });
    expect(() => openNpyFolder(dir, { ids: 'file' })).toThrow(expect.objectContaining({ code: 'not_found', file: path.join(dir, 'ids.npy') }));
  });

  it("ids 'content' ignores ids.npy (rows named by their canonical bytes); 'filename' is refused", () => {
    const x = features(3);
    const given = folderWith({ 'x.npy': x, 'ids.npy': { dtype: 'uint64', shape: [3], data: BigUint64Array.of(7n, 8n, 9n) } });
    const plain = folderWith({ 'x.npy': x });
    const byContent = openNpyFolder(given, { ids: 'content', holdoutFraction: 0 });
    const byFile = openNpyFolder(given, { ids: 'file', holdoutFraction: 0 });
    // The same rows without an ids file: their content ids, which 'content' must give despite ids.npy.
    expect(Array.from(byContent.train.ids)).toEqual(Array.from(openNpyFolder(plain, { holdoutFraction: 0 }).train.ids));
    expect(Array.from(byFile.train.ids)).toEqual([7n, 8n, 9n]);
    expect(() => openNpyFolder(given, { ids: 'filename' })).toThrow(expect.objectContaining({ code: 'invalid_argument', file: given }));
  });
});
