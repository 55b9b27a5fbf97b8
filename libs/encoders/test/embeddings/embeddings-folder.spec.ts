import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy, type NpyArray } from '@rlsa/npy';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddings, parseEncoderSpec } from '../../src/index.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'embeddings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;

const embeddings = (rows: number, width = 3): NpyArray & { data: Float32Array } => ({
  dtype: 'float32',
  shape: [rows, width],
  data: Float32Array.from({ length: rows * width }, (_, i) => i / 8),
});
const ids = (...values: bigint[]): NpyArray => ({ dtype: 'uint64', shape: [values.length], data: BigUint64Array.from(values) });

function folderWith(files: Record<string, NpyArray>): string {
  const dir = path.join(scratch, `e${folders++}`);
  mkdirSync(dir);
  for (const [name, array] of Object.entries(files)) writeNpy(path.join(dir, name), array);
  return dir;
}

const good = () => ({ 'embeddings.npy': embeddings(4), 'ids.npy': ids(5n, 6n, 7n, 2n ** 64n - 1n), 'anchor_embeddings.npy': embeddings(2) });

describe('embeddings:DIR', () => {
  it('passes the rows through with their ids and labels, and the anchor embeddings in the run order', async () => {
    const dir = folderWith({ ...good(), 'labels.npy': { dtype: 'int64', shape: [4], data: BigInt64Array.of(0n, 1n, -1n, 1n) } });
    const { source, encoder } = openEmbeddings(parseEncoderSpec(`embeddings:${dir}`), { holdoutFraction: 0 });
    expect(encoder.width).toBe(3);
    expect(Array.from(source.train.ids)).toEqual([5n, 6n, 7n, 2n ** 64n - 1n]);
    expect(Array.from(source.train.labels)).toEqual([0, 1, -1, 1]);
    const rows: number[] = [];
    for await (const batch of source.train.batches(3)) rows.push(...(await encoder.embed(batch)));
    expect(Float32Array.from(rows)).toEqual(embeddings(4).data);
    expect(await encoder.embedAnchors({ count: 2, batch: () => Promise.reject(new Error('unused')) })).toEqual(embeddings(2).data);
    expect(encoder.card.details).toMatchObject({ runtime: 'none', file: path.basename(dir) });
    expect(encoder.card.architecture).not.toContain(scratch);
  });

  it('loads no ML runtime, nor the image library (a child process whose module hooks refuse them)', () => {
    const dir = folderWith(good());
    const run = (model: string) => spawnSync(process.execPath, [path.join(HERE, 'embed-without-runtimes.mjs'), model, '2'], { encoding: 'utf8', timeout: 60_000 });
    const ok = run(`embeddings:${dir}`);
    expect(ok.stderr).toBe('');
    const expectedSum = Array.from(embeddings(4).data).reduce((a, b) => a + b, 0);
    expect(JSON.parse(ok.stdout)).toEqual({ sum: expectedSum, anchors: Array.from(embeddings(2).data) });
    // The hooks do refuse a runtime when one is asked for: the check above could fail.
    const onnx = run(`onnx:${path.join(HERE, '..', 'fixtures', 'tiny-mlp.onnx')}`);
    expect(onnx.status).not.toBe(0);
    expect(onnx.stderr).toContain('blocked import of onnxruntime-node');
  });
});

describe('embeddings:DIR refuses bad input, naming the file', () => {
  it('embeddings.npy and ids.npy of different lengths', () => {
    const dir = folderWith({ ...good(), 'ids.npy': ids(1n, 2n, 3n) });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${dir}`))).toThrow(
      expect.objectContaining({ code: 'bad_format', file: path.join(dir, 'ids.npy'), message: expect.stringContaining('embeddings.npy has 4 rows') }),
    );
  });

  it('anchor embeddings of the wrong width (at open) and of the wrong count (for the run)', async () => {
    const wide = folderWith({ ...good(), 'anchor_embeddings.npy': embeddings(2, 4) });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${wide}`))).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(wide, 'anchor_embeddings.npy') }));
    const dir = folderWith(good());
    const { encoder } = openEmbeddings(parseEncoderSpec(`embeddings:${dir}`));
    await expect(encoder.embedAnchors({ count: 3, batch: () => Promise.reject(new Error('unused')) })).rejects.toMatchObject({
      code: 'bad_format',
      file: path.join(dir, 'anchor_embeddings.npy'),
    });
  });

  it('NaN or Inf in the embeddings or in the anchor embeddings', () => {
    const nan = embeddings(4);
    nan.data[7] = NaN;
    const dir = folderWith({ ...good(), 'embeddings.npy': nan });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${dir}`))).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(dir, 'embeddings.npy') }));
    const inf = embeddings(2);
    inf.data[1] = -Infinity;
    const anchors = folderWith({ ...good(), 'anchor_embeddings.npy': inf });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${anchors}`))).toThrow(
      expect.objectContaining({ code: 'bad_format', file: path.join(anchors, 'anchor_embeddings.npy'), message: expect.stringContaining('row 0') }),
    );
  });

  it('a missing ids.npy or anchor_embeddings.npy, an embeddings array that is not 2-D, two rows with one id', () => {
    const noIds = folderWith({ 'embeddings.npy': embeddings(2), 'anchor_embeddings.npy': embeddings(1) });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${noIds}`))).toThrow(expect.objectContaining({ code: 'not_found', file: path.join(noIds, 'ids.npy') }));
    const noAnchors = folderWith({ 'embeddings.npy': embeddings(2), 'ids.npy': ids(1n, 2n) });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${noAnchors}`))).toThrow(expect.objectContaining({ code: 'not_found', file: path.join(noAnchors, 'anchor_embeddings.npy') }));
    const images = folderWith({ ...good(), 'embeddings.npy': { dtype: 'float32', shape: [4, 1, 3], data: embeddings(4).data } });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${images}`))).toThrow(expect.objectContaining({ code: 'bad_format', file: path.join(images, 'embeddings.npy') }));
    const twice = folderWith({ ...good(), 'ids.npy': ids(1n, 2n, 1n, 3n) });
    expect(() => openEmbeddings(parseEncoderSpec(`embeddings:${twice}`))).toThrow(expect.objectContaining({ code: 'id_conflict' }));
  });
});
