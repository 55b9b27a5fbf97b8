import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Seeded pixels (a linear congruential generator: tests need variety, not quality). */
export function seededPixels(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Encodes H×W×C bytes as a PNG (lossless: decoding gives the same bytes back) or a JPEG. */
export async function encodeImage(pixels: Uint8Array, height: number, width: number, channels: 1 | 3, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const image = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
}

/** Writes `bytes` at `root/relative`, making folders. */
export function writeAt(root: string, relative: string, bytes: Uint8Array): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** Writes a PNG of seeded pixels at `root/relative` and returns its pixels. */
export async function writePng(root: string, relative: string, height: number, width: number, seed: number, channels: 1 | 3 = 3): Promise<Uint8Array> {
  const pixels = seededPixels(height * width * channels, seed);
  writeAt(root, relative, await encodeImage(pixels, height, width, channels));
  return pixels;
}
