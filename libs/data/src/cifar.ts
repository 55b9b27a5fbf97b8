import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset, ImageSplit } from './dataset.ts';
import { DataError } from './errors.ts';
import { isDirectory, isFile, readFileOrThrow } from './read-file.ts';

/** Pixel bytes of one CIFAR image: 1,024 red, 1,024 green, 1,024 blue, each plane row-major 32×32. */
export const CIFAR_IMAGE_BYTES = 3072;
const PLANE = 1024;

/**
 * Default CIFAR-100 directory: `RLSA_CIFAR100_DIR` when set, else the Debian-style
 * `/usr/share/datasets/cifar-100-binary` (nothing outside the machine's own data-set folders:
 * a copy elsewhere is named with `--data-dir` or the variable).
 */
export function defaultCifar100Dir(): string {
  return process.env['RLSA_CIFAR100_DIR'] ?? '/usr/share/datasets/cifar-100-binary';
}

/** Default CIFAR-10 directory (the name the official archive extracts to). */
export const CIFAR10_DEFAULT_DIR = '/usr/share/datasets/cifar-10-batches-bin';

/** Copies a record's CHW planes into HWC order at `out[offset..]`. */
function planesToHwc(record: Uint8Array, pixelStart: number, out: Uint8Array, offset: number): void {
  for (let p = 0; p < PLANE; p++) {
    const o = offset + 3 * p;
    out[o] = record[pixelStart + p] as number;
    out[o + 1] = record[pixelStart + PLANE + p] as number;
    out[o + 2] = record[pixelStart + 2 * PLANE + p] as number;
  }
}

/**
 * Splits CIFAR binary records (`labelBytes` label bytes then 3,072 pixel bytes) into HWC images
 * and labels. The last label byte is the class (CIFAR-100: coarse then fine; CIFAR-10: one).
 */
function parseRecords(
  bytes: Uint8Array,
  file: string,
  labelBytes: 1 | 2,
  numClasses: number,
): { images: Uint8Array; labels: Uint8Array; coarse: Uint8Array | undefined } {
  const recordSize = labelBytes + CIFAR_IMAGE_BYTES;
  if (bytes.length === 0) throw new DataError('truncated', `${file}: empty file`, file);
  if (bytes.length % recordSize !== 0) {
    throw new DataError(
      'truncated',
      `${file}: size ${bytes.length} is not a multiple of the ${recordSize}-byte record (truncated or not a CIFAR binary file)`,
      file,
    );
  }
  const count = bytes.length / recordSize;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const coarse = labelBytes === 2 ? new Uint8Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const start = i * recordSize;
    const label = bytes[start + labelBytes - 1] as number;
    if (label >= numClasses) {
      throw new DataError('bad_format', `${file}: record ${i} has label ${label}, out of range 0..${numClasses - 1}`, file);
    }
    labels[i] = label;
    if (coarse) {
      const c = bytes[start] as number;
      if (c >= 20) throw new DataError('bad_format', `${file}: record ${i} has coarse label ${c}, out of range 0..19`, file);
      coarse[i] = c;
    }
    planesToHwc(bytes, start + labelBytes, images, i * CIFAR_IMAGE_BYTES);
  }
  return { images, labels, coarse };
}

/** One name per non-empty line; a file with another count of names is a bad_format error. */
function readNames(file: string, expected: number): string[] {
  const names = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== expected) {
    throw new DataError('bad_format', `${file}: ${names.length} label names, expected ${expected}`, file);
  }
  return names;
}

function requireDir(dir: string, what: string): void {
  if (!isDirectory(dir)) throw new DataError('not_found', `${dir}: no such directory (${what})`, dir);
}

/**
 * CIFAR-100 (Krizhevsky, 2009) in its official binary format: `train.bin` and `test.bin`, records of
 * 1 coarse-label byte, 1 fine-label byte and 3,072 pixel bytes (R, G, B planes); 100 fine classes
 * (the labels used here), 20 coarse ones. Class names from `fine_label_names.txt` when present.
 */
export function loadCifar100(dir: string = defaultCifar100Dir()): ImageDataset {
  requireDir(dir, 'CIFAR-100 binary');
  const split = (name: string): ImageSplit => {
    const file = join(dir, name);
    const { images, labels, coarse } = parseRecords(readFileOrThrow(file), file, 2, 100);
    return coarse
      ? { images, labels, count: labels.length, coarseLabels: coarse }
      : { images, labels, count: labels.length };
  };
  const namesFile = join(dir, 'fine_label_names.txt');
  const classNames = isFile(namesFile) ? readNames(namesFile, 100) : Array.from({ length: 100 }, (_, i) => `class ${i}`);
  return {
    name: 'cifar100',
    shape: [32, 32, 3],
    numClasses: 100,
    classNames,
    train: split('train.bin'),
    test: split('test.bin'),
    fileLayout: 'chw',
    source: dir,
  };
}

/**
 * CIFAR-10 in its official binary format: `data_batch_1.bin` … `data_batch_5.bin` (the training
 * set, in that order) and `test_batch.bin`, records of 1 label byte and 3,072 pixel bytes;
 * class names from `batches.meta.txt` when present.
 */
export function loadCifar10(dir: string = CIFAR10_DEFAULT_DIR): ImageDataset {
  requireDir(dir, 'CIFAR-10 binary');
  const read = (names: readonly string[]): ImageSplit => {
    const parts = names.map((name) => {
      const file = join(dir, name);
      return parseRecords(readFileOrThrow(file), file, 1, 10);
    });
    const count = parts.reduce((sum, p) => sum + p.labels.length, 0);
    const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
    const labels = new Uint8Array(count);
    let offset = 0;
    for (const part of parts) {
      images.set(part.images, offset * CIFAR_IMAGE_BYTES);
      labels.set(part.labels, offset);
      offset += part.labels.length;
    }
    return { images, labels, count };
  };
  const namesFile = join(dir, 'batches.meta.txt');
  const classNames = isFile(namesFile) ? readNames(namesFile, 10) : Array.from({ length: 10 }, (_, i) => `class ${i}`);
  return {
    name: 'cifar10',
    shape: [32, 32, 3],
    numClasses: 10,
    classNames,
    train: read([1, 2, 3, 4, 5].map((b) => `data_batch_${b}.bin`)),
    test: read(['test_batch.bin']),
    fileLayout: 'chw',
    source: dir,
  };
}

/** Encodes CIFAR binary records from HWC images (for tests and fixtures); `coarse` makes CIFAR-100 records. */
export function encodeCifarRecords(images: Uint8Array, labels: Uint8Array, coarse?: Uint8Array): Uint8Array {
  const labelBytes = coarse ? 2 : 1;
  const recordSize = labelBytes + CIFAR_IMAGE_BYTES;
  const out = new Uint8Array(labels.length * recordSize);
  for (let i = 0; i < labels.length; i++) {
    const start = i * recordSize;
    if (coarse) out[start] = coarse[i] as number;
    out[start + labelBytes - 1] = labels[i] as number;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < 3; c++) out[start + labelBytes + c * PLANE + p] = images[i * CIFAR_IMAGE_BYTES + 3 * p + c] as number;
    }
  }
  return out;
}
