import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NpyError, openNpy, readNpy } from '../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { files: Record<string, { shape: number[] }> };
const scratch = mkdtempSync(path.join(tmpdir(), 'npy-rows-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('openNpy', () => {
  const withRows = Object.entries(manifest.files).filter(([, entry]) => entry.shape.length >= 1);

  it.each(withRows.map(([name]) => name))('%s: every row range equals the same slice of the whole-file read', (name) => {
    const file = path.join(FIXTURES, name);
    const whole = readNpy(file);
    const reader = openNpy(file);
    try {
      expect(reader.shape).toEqual(whole.shape);
      const rowElements = reader.rowShape.reduce((a, b) => a * b, 1);
      for (let start = 0; start <= reader.rows; start++) {
        for (let count = 0; start + count <= reader.rows; count++) {
          const rows = reader.readRows(start, count);
          expect(rows.constructor).toBe(whole.data.constructor);
          expect(Array.from(rows as ArrayLike<number | bigint>)).toEqual(
            Array.from(whole.data.subarray(start * rowElements, (start + count) * rowElements) as ArrayLike<number | bigint>),
          );
        }
      }
    } finally {
      reader.close();
    }
  });

  it('gives a big-endian file the little-endian bytes of the same values (the canonical row bytes)', () => {
    const big = openNpy(path.join(FIXTURES, 'float32-big-endian.npy'));
    const little = openNpy(path.join(FIXTURES, 'float32.npy'));
    expect(Array.from(big.readRawRows(0, 3))).toEqual(Array.from(little.readRawRows(0, 3)));
    expect(Array.from(new Float32Array(little.readRawRows(1, 1).buffer))).toEqual([-0.25, 0, 0.25, 0.5]);
    big.close();
    little.close();
  });

  it('refuses a truncated file at open, naming it, and rows outside the array', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'float32.npy'));
    const truncated = path.join(scratch, 'truncated.npy');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 3));
    expect(() => openNpy(truncated)).toThrow(expect.objectContaining({ code: 'size_mismatch', source: truncated }));
    const reader = openNpy(path.join(FIXTURES, 'float32.npy'));
    expect(() => reader.readRows(2, 2)).toThrow(NpyError);
    reader.close();
    expect(() => openNpy(path.join(scratch, 'missing.npy'))).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});
