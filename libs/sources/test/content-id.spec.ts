import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { contentId, filenameId, formatSampleId, openImageFolder, openNpyFolder } from '../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
/** Written by Python (fixtures/make_fixtures.py): ids from hashlib, pixels from PIL. */
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as {
  files: Record<string, { id: string }>;
  npy_rows: Record<string, string[]>;
  filename_ids: Record<string, string>;
};
const scratch = mkdtempSync(path.join(tmpdir(), 'content-ids-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('content ids', () => {
  it.each(Object.keys(manifest.files))("%s: the first 8 bytes of the file's SHA-256, as Python's hashlib gives them", (file) => {
    expect(contentId(readFileSync(path.join(FIXTURES, file)))).toBe(BigInt(manifest.files[file]!.id));
  });

  it('differ for the same pixels re-encoded (other bytes), and print as the first 16 hex digits of the digest', () => {
    const a = contentId(readFileSync(path.join(FIXTURES, 'images/rgb.png')));
    const b = contentId(readFileSync(path.join(FIXTURES, 'images/rgb-reencoded.png')));
    expect(a).not.toBe(b);
    expect(formatSampleId(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(formatSampleId(5n)).toBe('0000000000000005');
  });

  it('are the same for the same image on two nodes (two folders, two independent scans) and differ for a re-encoded copy', async () => {
    for (const node of ['node-a', 'node-b']) {
      mkdirSync(path.join(scratch, node, 'cls'), { recursive: true });
      copyFileSync(path.join(FIXTURES, 'images/rgb.png'), path.join(scratch, node, 'cls', node === 'node-a' ? 'mine.png' : 'theirs.png'));
    }
    copyFileSync(path.join(FIXTURES, 'images/rgb-reencoded.png'), path.join(scratch, 'node-b', 'cls', 'zz-reencoded.png'));
    const a = await openImageFolder(path.join(scratch, 'node-a'), { holdoutFraction: 0 });
    const b = await openImageFolder(path.join(scratch, 'node-b'), { holdoutFraction: 0 });
    expect(a.train.ids).toEqual(BigUint64Array.of(BigInt(manifest.files['images/rgb.png']!.id)));
    expect(Array.from(b.train.ids).sort()).toEqual(
      [BigInt(manifest.files['images/rgb.png']!.id), BigInt(manifest.files['images/rgb-reencoded.png']!.id)].sort(),
    );
  });

  it.each(Object.keys(manifest.npy_rows))("%s: each row's id is the SHA-256 of its canonical bytes, as Python computes it", (file) => {
    const dir = path.join(scratch, `npy-${path.basename(file, '.npy')}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(FIXTURES, file), path.join(dir, 'x.npy'));
    const source = openNpyFolder(dir, { holdoutFraction: 0 });
    expect(Array.from(source.train.ids)).toEqual(manifest.npy_rows[file]!.map((id) => BigInt(id)));
    source.close();
  });

  it('give a big-endian file the ids of the same values little-endian (canonical bytes are little-endian)', () => {
    expect(manifest.npy_rows['npy/features-float32-big-endian.npy']).toEqual(manifest.npy_rows['npy/features-float32.npy']);
  });

  it.each(Object.keys(manifest.filename_ids))('--ids filename: %s as Python computes it (number, or hash of the relative path)', (relative) => {
    expect(filenameId(relative)).toBe(BigInt(manifest.filename_ids[relative]!));
  });

  it('refuses a numeric file name beyond 64 bits, naming the file', () => {
    expect(() => filenameId('cls/18446744073709551616.png')).toThrow(expect.objectContaining({ code: 'invalid_argument', file: 'cls/18446744073709551616.png' }));
    expect(filenameId('cls/18446744073709551615.png')).toBe(2n ** 64n - 1n);
  });
});
