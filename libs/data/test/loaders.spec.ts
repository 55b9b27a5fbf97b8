import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataError,
  anchorFingerprint,
  defaultCifar100Dir,
  encodeCifarRecords,
  encodeIdx,
  loadCifar10,
  loadCifar100,
  loadDataset,
  loadFashionMnist,
  parseIdx,
  rawPixels,
  TEST_ID_OFFSET,
} from '../src/index.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-data-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Pixel i of image n: a value that depends on both, so that a swapped image or pixel shows. */
function images(count: number, size: number): Uint8Array {
  return Uint8Array.from({ length: count * size }, (_, i) => (Math.floor(i / size) * 31 + (i % size) * 7) % 256);
}

function writeFashion(dir: string, gz: boolean, train = 5, test = 3): { trainImages: Uint8Array; trainLabels: Uint8Array } {
  const trainImages = images(train, 784);
  const trainLabels = Uint8Array.from({ length: train }, (_, i) => i % 10);
  const testImages = images(test, 784).map((v) => 255 - v);
  const testLabels = Uint8Array.from({ length: test }, (_, i) => (9 - i) % 10);
  const write = (name: string, bytes: Uint8Array): void => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  write('train-images-idx3-ubyte', encodeIdx([train, 28, 28], trainImages));
  write('train-labels-idx1-ubyte', encodeIdx([train], trainLabels));
  write('t10k-images-idx3-ubyte', encodeIdx([test, 28, 28], testImages));
  write('t10k-labels-idx1-ubyte', encodeIdx([test], testLabels));
  return { trainImages, trainLabels };
}

function expectDataError(fn: () => unknown, code: string, file: string | RegExp): void {
  try {
    fn();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(DataError);
    const e = error as DataError;
    expect(e.code).toBe(code);
    if (typeof file === 'string') {
      expect(e.file).toBe(file);
      expect(e.message).toContain(file);
    } else expect(e.message).toMatch(file);
    expect(e.userFacing).toBe(true);
    return;
  }
  throw new Error('expected a DataError');
}

describe('IDX', () => {
  it('reads header dimensions big-endian and the data after them', () => {
    // 00 00 08 02 | 00 00 00 02 | 00 00 00 03 | six bytes
    const bytes = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(bytes, 'x.idx');
    expect(idx.dims).toEqual([2, 3]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(encodeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]))).toEqual(bytes);
  });

  it('refuses a wrong magic, another data type, a truncated body and trailing bytes', () => {
    expectDataError(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 7]), 'a'), 'bad_magic', 'a');
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 7, 7, 7, 7]), 'b'), 'bad_magic', 'b');
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 5, 7]), 'c'), 'truncated', 'c');
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 7, 8]), 'd'), 'bad_format', 'd');
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 1]), 'e'), 'truncated', 'e');
    expectDataError(() => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 7]), 'f', 3), 'bad_format', 'f');
  });
});

describe('Fashion-MNIST loader', () => {
  for (const gz of [false, true]) {
    it(`reads ${gz ? 'gzipped' : 'raw'} IDX files into HWC bytes and labels`, () => {
      const dir = tempDir();
      const { trainImages, trainLabels } = writeFashion(dir, gz);
      const ds = loadFashionMnist(dir);
      expect(ds.shape).toEqual([28, 28, 1]);
      expect(ds.train.count).toBe(5);
      expect(ds.test.count).toBe(3);
      expect(ds.train.images).toEqual(trainImages);
      expect(ds.train.labels).toEqual(trainLabels);
      expect(Array.from(ds.test.labels)).toEqual([9, 8, 7]);
      expect(ds.classNames[9]).toBe('Ankle boot');
      // loadDataset with --data-dir reads the same.
      expect(loadDataset('fashion-mnist', { dataDir: dir }).train.images).toEqual(trainImages);
    });
  }

  it('names the file when an images file is truncated, a gzip stream is cut or the magic is wrong', () => {
    const dir = tempDir();
    writeFashion(dir, false);
    const file = join(dir, 'train-images-idx3-ubyte');
    writeFileSync(file, encodeIdx([5, 28, 28], images(5, 784)).subarray(0, 1000));
    expectDataError(() => loadFashionMnist(dir), 'truncated', file);

    const gzDir = tempDir();
    writeFashion(gzDir, true);
    const gzFile = join(gzDir, 't10k-labels-idx1-ubyte.gz');
    writeFileSync(gzFile, gzipSync(encodeIdx([3], Uint8Array.from([1, 2, 3]))).subarray(0, 15));
    expectDataError(() => loadFashionMnist(gzDir), 'truncated', gzFile);

    const magicDir = tempDir();
    writeFashion(magicDir, false);
    const labels = join(magicDir, 'train-labels-idx1-ubyte');
    writeFileSync(labels, Uint8Array.from([0x1f, 0x00, 8, 1, 0, 0, 0, 5, 0, 1, 2, 3, 4]));
    expectDataError(() => loadFashionMnist(magicDir), 'bad_magic', labels);
  });

  it('refuses labels that do not match the images, and a missing directory', () => {
    const dir = tempDir();
    writeFashion(dir, false);
    const labels = join(dir, 'train-labels-idx1-ubyte');
    writeFileSync(labels, encodeIdx([4], Uint8Array.from([0, 1, 2, 3])));
    expectDataError(() => loadFashionMnist(dir), 'bad_format', labels);
    writeFileSync(labels, encodeIdx([5], Uint8Array.from([0, 1, 2, 3, 10])));
    expectDataError(() => loadFashionMnist(dir), 'bad_format', labels);
    expectDataError(() => loadFashionMnist(join(dir, 'nope')), 'not_found', join(dir, 'nope'));
  });
});

describe('CIFAR loaders', () => {
  it('reads CIFAR-100 records (coarse, fine, RGB planes) into HWC images and fine labels', () => {
    const dir = tempDir();
    const train = images(4, 3072);
    const fine = Uint8Array.from([0, 99, 42, 7]);
    const coarse = Uint8Array.from([0, 19, 5, 3]);
    const records = encodeCifarRecords(train, fine, coarse);
    // The first record by hand: coarse, fine, then the red plane = HWC channel 0.
    expect(records[0]).toBe(0);
    expect(records[1]).toBe(0);
    expect(records[2]).toBe(train[0]);
    expect(records[3]).toBe(train[3]);
    expect(records[2 + 1024]).toBe(train[1]);
    writeFileSync(join(dir, 'train.bin'), records);
    writeFileSync(join(dir, 'test.bin'), encodeCifarRecords(images(2, 3072), Uint8Array.from([1, 2]), Uint8Array.from([1, 1])));
    writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `c${i}`).join('\n') + '\n');
    const ds = loadCifar100(dir);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.train.images).toEqual(train);
    expect(ds.train.labels).toEqual(fine);
    expect(ds.train.coarseLabels).toEqual(coarse);
    expect(ds.classNames[99]).toBe('c99');
    // The fingerprint hashes the bytes in file order: rawPixels gives back the record's planes.
    expect(rawPixels(ds, 1)).toEqual(records.subarray(3074 + 2, 2 * 3074));
  });

  it('refuses a CIFAR-100 file cut mid-record, a label out of range and a wrong count of names', () => {
    const dir = tempDir();
    const good = encodeCifarRecords(images(3, 3072), Uint8Array.from([1, 2, 3]), Uint8Array.from([0, 0, 0]));
    writeFileSync(join(dir, 'train.bin'), good.subarray(0, good.length - 100));
    writeFileSync(join(dir, 'test.bin'), good);
    expectDataError(() => loadCifar100(dir), 'truncated', join(dir, 'train.bin'));
    writeFileSync(join(dir, 'train.bin'), encodeCifarRecords(images(1, 3072), Uint8Array.from([100]), Uint8Array.from([0])));
    expectDataError(() => loadCifar100(dir), 'bad_format', join(dir, 'train.bin'));
    writeFileSync(join(dir, 'train.bin'), good);
    writeFileSync(join(dir, 'fine_label_names.txt'), 'a\nb\n');
    expectDataError(() => loadCifar100(dir), 'bad_format', join(dir, 'fine_label_names.txt'));
  });

  it('reads CIFAR-10 batches 1..5 in order and the test batch', () => {
    const dir = tempDir();
    const all = images(10, 3072);
    const labels = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let b = 0; b < 5; b++) {
      writeFileSync(join(dir, `data_batch_${b + 1}.bin`), encodeCifarRecords(all.subarray(b * 2 * 3072, (b + 1) * 2 * 3072), labels.subarray(b * 2, b * 2 + 2)));
    }
    writeFileSync(join(dir, 'test_batch.bin'), encodeCifarRecords(images(1, 3072), Uint8Array.from([3])));
    writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
    const ds = loadCifar10(dir);
    expect(ds.train.count).toBe(10);
    expect(ds.train.images).toEqual(all);
    expect(ds.train.labels).toEqual(labels);
    expect(ds.test.labels).toEqual(Uint8Array.from([3]));
    expect(ds.classNames[9]).toBe('truck');
    writeFileSync(join(dir, 'data_batch_3.bin'), Uint8Array.from([1, 2, 3]));
    expectDataError(() => loadCifar10(dir), 'truncated', join(dir, 'data_batch_3.bin'));
  });

  // The default directory, else this workspace's verified copy beside the repository (tests only).
  const workspaceCopy = join(import.meta.dirname, '../../../../shared/datasets/cifar-100-binary');
  const cifarDir = existsSync(join(defaultCifar100Dir(), 'train.bin')) ? defaultCifar100Dir() : workspaceCopy;
  it.skipIf(!existsSync(join(cifarDir, 'train.bin')))(`reads the real CIFAR-100 (${cifarDir}; skipped when absent)`, () => {
    const ds = loadCifar100(cifarDir);
    expect(ds.train.count).toBe(50_000);
    expect(ds.test.count).toBe(10_000);
    // Every fine class has 500 training and 100 test images (the data set's README).
    const counts = new Array<number>(100).fill(0);
    for (const l of ds.train.labels) counts[l]!++;
    expect(new Set(counts)).toEqual(new Set([500]));
    expect(ds.classNames[0]).toBe('apple');
    expect(ds.test.images.length).toBe(10_000 * 3072);
    expect(TEST_ID_OFFSET).toBe(1_000_000);
    expect(anchorFingerprint(ds, [0, TEST_ID_OFFSET])).toMatch(/^[0-9a-f]{64}$/);
  });
});
