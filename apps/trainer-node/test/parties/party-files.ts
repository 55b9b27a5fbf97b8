import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { anchorSetSummaryOf } from '@rlsa/aggregator';
import type { AggregatorClient } from '@rlsa/client';
import { readNpy, writeNpy, type NpyArray } from '@rlsa/npy';
import { contentId, encodeAnchorSet, readAnchorSet, sha256Hex } from '@rlsa/sources';

export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** A fixture array (see fixtures/make_parties_fixtures.py). */
export function fixture(name: string): NpyArray {
  return readNpy(path.join(FIXTURES, `${name}.npy`));
}

/** The fixtures' ONNX encoder (parties (b) and (d)). */
export const PARTY_ENCODER = path.join(FIXTURES, 'party-encoder.onnx');

/** Row `i` of an N × ... uint8 array (one image, HWC). */
export function imageRow(array: NpyArray, i: number): Uint8Array {
  const size = array.shape.slice(1).reduce((a, b) => a * b, 1);
  return (array.data as Uint8Array).subarray(i * size, (i + 1) * size);
}

/**
 * Writes an H×W×3 image as a PNG file (sharp, lossless) and returns its content id (the first 8
 * bytes of the file's SHA-256, as a node computes it). `compressionLevel` changes the bytes, not the pixels.
 */
export async function writePng(file: string, pixels: Uint8Array, side: number, compressionLevel = 6): Promise<bigint> {
  mkdirSync(path.dirname(file), { recursive: true });
  const png = await sharp(Buffer.from(pixels), { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel, adaptiveFiltering: compressionLevel === 6 }).toBuffer();
  writeFileSync(file, png);
  return contentId(png);
}

/** The content id of a file as a node computes it. */
export function fileId(file: string): bigint {
  return contentId(readFileSync(file));
}

/** Writes NPY files into a folder (created). */
export function writeNpyFolder(dir: string, files: Record<string, NpyArray>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, array] of Object.entries(files)) writeNpy(path.join(dir, name), array);
  return dir;
}

/**
 * What an operator does to create a run on an anchor set of image files: reads the folder (sorted
 * file names are the anchor order), uploads its canonical encoding and creates the run on its
 * fingerprint. Returns the fingerprint.
 */
export async function createAnchorSetRun(admin: AggregatorClient, runId: string, dir: string, extra: { allowAbsolute?: boolean } = {}): Promise<string> {
  const set = await readAnchorSet(dir);
  const encoded = encodeAnchorSet(set);
  const fingerprint = sha256Hex(encoded);
  const summary = anchorSetSummaryOf(set, encoded.byteLength);
  await admin.uploadAnchorSet({ fingerprint, summary, bytes: encoded, chunkBytes: 4096 });
  await admin.createRun({ runId, anchors: { kind: 'anchor-set', fingerprint, summary }, similarity: 'cosine', ...extra });
  return fingerprint;
}
