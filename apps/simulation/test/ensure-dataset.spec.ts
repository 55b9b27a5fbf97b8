import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureFashionMnist } from '../src/ensure-dataset.ts';

describe('ensureFashionMnist', () => {
  it('accepts a directory holding the IDX files, gzipped or not, without installing anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmnist-'));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), '');
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), '');
    const messages: string[] = [];
    expect(() => ensureFashionMnist(dir, (m) => messages.push(m))).not.toThrow();
    expect(messages).toEqual([]);
  });

  it('never installs into a --data-dir: a missing one is a one-line user error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmnist-empty-'));
    let error: unknown;
    try {
      ensureFashionMnist(dir, () => undefined);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'dataset_missing', userFacing: true });
    expect((error as Error).message).toBe(`Fashion-MNIST IDX files not found in ${dir} (expected train-images-idx3-ubyte[.gz] and the others)`);
  });
});
