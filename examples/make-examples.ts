/**
 * Writes the offline examples of docs/join-a-run.md: three parties with different data and
 * models who share some images by content (not by index), and the run's anchor set.
 *
 *   npx tsx examples/make-examples.ts [--out examples/data] [--seed 7]
 *
 * Layout written under --out (see examples/README.md):
 *   anchors/                     the run's anchor set: 16 PNG files (an `images` anchor set)
 *   party-a-images/              imagefolder: train/<class>/*.png and test/<class>/*.png
 *   party-b-npy/                 npy: x.npy (N×32×32×3 uint8), y.npy, ids.npy (the PNG files' content ids)
 *   party-c-embeddings/          embeddings: embeddings.npy (N×16), ids.npy, labels.npy,
 *                                anchor_embeddings.npy (16×16, in the anchor set's order)
 *   manifest.json                who holds which image, and the ids the parties share
 *
 * Every image is a synthetic 32×32 RGB picture (@rlsa/data's `syntheticDataset`, 4 classes)
 * saved as PNG. Party B holds pixels in an array, so it gives the PNG files' content ids in
 * ids.npy (the first 8 bytes of each file's SHA-256, big-endian); party C's embeddings are a
 * seeded random projection of the pixels (tanh of 16 dot products), standing in for a model run
 * elsewhere. Deterministic for a seed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRng, randomFloat } from '@rlsa/core';
import { syntheticDataset, type ImageDataset } from '@rlsa/data';
import { writeNpy } from '@rlsa/npy';
import { contentId, formatSampleId, readAnchorSet, anchorSetFingerprint } from '@rlsa/sources';
import sharp from 'sharp';

/** Images in the pool the three parties draw from, and which slice each holds (overlapping). */
const POOL = 120;
const ANCHORS = 16;
const EMBEDDING_WIDTH = 16;
const SIZE = 32;
export const PARTY_SLICES = { a: [0, 70], b: [40, 110], c: [60, 120] } as const;

export interface ExamplesManifest {
  readonly anchorFingerprint: string;
  /** Each pool image's content id (hex) and class. */
  readonly pool: readonly { id: string; label: number }[];
  readonly parties: Record<keyof typeof PARTY_SLICES, readonly [number, number]>;
}

/** Writes the examples under `out` (emptied first) and returns their manifest. */
export async function makeExamples(out: string, seed = 7): Promise<ExamplesManifest> {
  rmSync(out, { recursive: true, force: true });
  const data = syntheticDataset({ numClasses: 4, shape: [SIZE, SIZE, 3], trainCount: POOL, testCount: ANCHORS, seed });
  const pool = await Promise.all(Array.from({ length: POOL }, (_, i) => png(pixelsOf(data, 'train', i))));
  const ids = pool.map((bytes) => contentId(bytes));
  const labels = Int32Array.from(data.train.labels);
  const anchorPixels = Array.from({ length: ANCHORS }, (_, i) => pixelsOf(data, 'test', i));
  for (let i = 0; i < ANCHORS; i++) write(out, `anchors/anchor-${String(i).padStart(2, '0')}.png`, await png(anchorPixels[i]!));
  writePartyA(out, data, pool);
  writePartyB(out, data, ids, labels);
  writePartyC(out, data, ids, labels, anchorPixels, seed);
  const manifest: ExamplesManifest = {
    anchorFingerprint: anchorSetFingerprint(await readAnchorSet(path.join(out, 'anchors'))),
    pool: ids.map((id, i) => ({ id: formatSampleId(id), label: labels[i]! })),
    parties: { a: [...PARTY_SLICES.a], b: [...PARTY_SLICES.b], c: [...PARTY_SLICES.c] },
  };
  writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

/** Party A: the PNG files in ImageFolder layout; every fifth image of its slice is in test/. */
function writePartyA(out: string, data: ImageDataset, pool: readonly Uint8Array[]): void {
  const [from, to] = PARTY_SLICES.a;
  for (let i = from; i < to; i++) {
    const part = (i - from) % 5 === 4 ? 'test' : 'train';
    const className = data.classNames[data.train.labels[i]!]!.replace(' ', '-');
    write(out, `party-a-images/${part}/${className}/img-${String(i).padStart(3, '0')}.png`, pool[i]!);
  }
}

/** Party B: the same pictures as pixels in x.npy, named by the files' content ids in ids.npy. */
function writePartyB(out: string, data: ImageDataset, ids: readonly bigint[], labels: Int32Array): void {
  const [from, to] = PARTY_SLICES.b;
  const size = SIZE * SIZE * 3;
  const dir = path.join(out, 'party-b-npy');
  mkdirSync(dir, { recursive: true });
  writeNpy(path.join(dir, 'x.npy'), { dtype: 'uint8', shape: [to - from, SIZE, SIZE, 3], data: data.train.images.slice(from * size, to * size) });
  writeNpy(path.join(dir, 'y.npy'), { dtype: 'int64', shape: [to - from], data: BigInt64Array.from(labels.subarray(from, to), (l) => BigInt(l)) });
  writeNpy(path.join(dir, 'ids.npy'), { dtype: 'uint64', shape: [to - from], data: BigUint64Array.from(ids.slice(from, to)) });
}

/** Party C: embeddings computed elsewhere (here: a seeded projection), with ids, labels and the anchors' embeddings. */
function writePartyC(out: string, data: ImageDataset, ids: readonly bigint[], labels: Int32Array, anchorPixels: readonly Uint8Array[], seed: number): void {
  const [from, to] = PARTY_SLICES.c;
  const size = SIZE * SIZE * 3;
  const rng = seededRng(seed + 1);
  const projection = Float64Array.from({ length: EMBEDDING_WIDTH * size }, () => (randomFloat(rng) - 0.5) / Math.sqrt(size));
  const embed = (pixels: Uint8Array): number[] =>
    Array.from({ length: EMBEDDING_WIDTH }, (_, k) => {
      let dot = 0;
      for (let p = 0; p < size; p++) dot += projection[k * size + p]! * (pixels[p]! / 255);
      return Math.tanh(dot);
    });
  const rows = Array.from({ length: to - from }, (_, r) => embed(pixelsOf(data, 'train', from + r)));
  const dir = path.join(out, 'party-c-embeddings');
  mkdirSync(dir, { recursive: true });
  writeNpy(path.join(dir, 'embeddings.npy'), { dtype: 'float32', shape: [to - from, EMBEDDING_WIDTH], data: Float32Array.from(rows.flat()) });
  writeNpy(path.join(dir, 'ids.npy'), { dtype: 'uint64', shape: [to - from], data: BigUint64Array.from(ids.slice(from, to)) });
  writeNpy(path.join(dir, 'labels.npy'), { dtype: 'int64', shape: [to - from], data: BigInt64Array.from(labels.subarray(from, to), (l) => BigInt(l)) });
  // The anchor set lists its files in sorted name order (anchor-00.png, anchor-01.png, ...): the same order here.
  writeNpy(path.join(dir, 'anchor_embeddings.npy'), { dtype: 'float32', shape: [ANCHORS, EMBEDDING_WIDTH], data: Float32Array.from(anchorPixels.flatMap(embed)) });
}

function pixelsOf(data: ImageDataset, split: 'train' | 'test', index: number): Uint8Array {
  const size = SIZE * SIZE * 3;
  return data[split].images.subarray(index * size, (index + 1) * size);
}

async function png(pixels: Uint8Array): Promise<Uint8Array> {
  return sharp(Buffer.from(pixels), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
}

function write(out: string, relative: string, bytes: Uint8Array): void {
  const file = path.join(out, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(path.dirname(fileURLToPath(import.meta.url)), 'data') }, seed: { type: 'string', default: '7' } } });
  const manifest = await makeExamples(values.out!, Number(values.seed));
  process.stdout.write(`examples written to ${values.out} (anchor fingerprint ${manifest.anchorFingerprint})\n`);
}
