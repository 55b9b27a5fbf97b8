import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeNpy,
  encodeNpy,
  halfToNumber,
  numberToHalf,
  NpyError,
  readIntegers,
  readMatrix,
  readNpy,
  toIntegers,
  toMatrix,
  writeNpy,
  type NpyArray,
  type NpyDtype,
} from '../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface FixtureEntry {
  dtype: string;
  shape: number[];
  values: (number | boolean | string)[];
  note: string;
}

/** Written by NumPy (fixtures/make_fixtures.py); values as NumPy's tolist() gave them. */
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { numpy: string; files: Record<string, FixtureEntry> };

function expectedNumber(v: number | boolean | string): number {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  return Number(v);
}

const work = mkdtempSync(path.join(tmpdir(), 'rlsa-npy-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An NpyError with this code, whose message names `source`. */
function expectNpyError(fn: () => unknown, code: string, source?: string): NpyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NpyError);
    const e = error as NpyError;
    expect(e.code).toBe(code);
    expect(e.userFacing).toBe(true);
    if (source !== undefined) expect(e.message.startsWith(`${source}: `)).toBe(true);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error(`expected an NpyError ${code}`);
}

describe('decodeNpy on files written by NumPy', () => {
  for (const [name, entry] of Object.entries(manifest.files)) {
    it(`reads ${name} (${entry.dtype} ${JSON.stringify(entry.shape)}${entry.note ? ', ' + entry.note : ''})`, () => {
      const array = readNpy(path.join(FIXTURES, name));
      expect(array.dtype).toBe(entry.dtype);
      expect(array.shape).toEqual(entry.shape);
      expect(array.data.length).toBe(entry.values.length);
      const got = Array.from(array.data as ArrayLike<number | bigint>, (v) => Number(v));
      const want = entry.values.map(expectedNumber);
      // Exact: every fixture value is representable in its dtype (Object.is keeps -0 apart from 0).
      for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i]) || got[i] === want[i]).toBe(true);
    });
  }

  it('gives the natural typed array per dtype (BigInt for 64-bit integers, Float32Array for float16)', () => {
    const kinds: Record<string, string> = {
      'float32.npy': 'Float32Array',
      'float64.npy': 'Float64Array',
      'int32.npy': 'Int32Array',
      'int64.npy': 'BigInt64Array',
      'uint8.npy': 'Uint8Array',
      'bool.npy': 'Uint8Array',
      'uint64.npy': 'BigUint64Array',
      'float16.npy': 'Float32Array',
    };
    for (const [file, kind] of Object.entries(kinds)) expect(readNpy(path.join(FIXTURES, file)).data.constructor.name).toBe(kind);
  });

  it('refuses a Fortran-ordered 2-D array, naming the file and the fix', () => {
    const file = path.join(FIXTURES, 'float32-fortran.npy');
    const e = expectNpyError(() => readNpy(file), 'fortran_order', file);
    expect(e.message).toContain('np.ascontiguousarray');
  });
});

describe('encodeNpy', () => {
  // Little-endian format-1.0 fixtures must come out byte for byte as NumPy wrote them.
  const sameBytes = Object.keys(manifest.files).filter((f) => !f.includes('big-endian') && !f.includes('v2') && !f.includes('v3'));
  for (const name of sameBytes) {
    it(`re-encodes ${name} byte for byte as NumPy wrote it`, () => {
      const bytes = readFileSync(path.join(FIXTURES, name));
      expect(Buffer.from(encodeNpy(decodeNpy(bytes, name))).equals(bytes)).toBe(true);
    });
  }

  it('aligns the data to 64 bytes and switches to format 2.0 when the header outgrows 65,535 bytes', () => {
    const small = encodeNpy({ dtype: 'float64', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
    expect(small[6]).toBe(1);
    expect((small.length - 32) % 64).toBe(0);
    const shape = Array.from({ length: 30_000 }, () => 1);
    const big = encodeNpy({ dtype: 'float32', shape, data: new Float32Array([7]) });
    expect(big[6]).toBe(2);
    expect((big.length - 4) % 64).toBe(0);
    const back = decodeNpy(big);
    expect(back.shape.length).toBe(30_000);
    expect(Array.from(back.data as Float32Array)).toEqual([7]);
  });

  it('round-trips random arrays of every writable dtype (property)', () => {
    const dtypes: NpyDtype[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'bool', 'float16'];
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
        fc.integer(),
        (dtype, shape, seed) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = makeData(dtype, n, seed);
          const array: NpyArray = { dtype, shape, data };
          const back = decodeNpy(encodeNpy(array));
          expect(back.dtype).toBe(dtype);
          expect(back.shape).toEqual(shape);
          expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data as ArrayLike<number>));
        },
      ),
      { numRuns: 200 },
    );
    const big: NpyArray = { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 62n), 0n, 2n ** 62n + 5n]) };
    expect(Array.from(decodeNpy(encodeNpy(big)).data as BigInt64Array)).toEqual([-(2n ** 62n), 0n, 2n ** 62n + 5n]);
  });

  it('refuses data that does not match the dtype or the shape', () => {
    expectNpyError(() => encodeNpy({ dtype: 'float64', shape: [2], data: new Float32Array(2) }), 'invalid_argument');
    expectNpyError(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), 'invalid_argument');
  });
});

function makeData(dtype: NpyDtype, n: number, seed: number): NpyArray['data'] {
  const values = Array.from({ length: n }, (_, i) => ((seed + i * 2654435761) % 1000) - 500);
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values, (v) => v / 8);
    case 'float64':
      return Float64Array.from(values, (v) => v / 3);
    case 'float16':
      return Float32Array.from(values, (v) => v / 4); // multiples of 1/4 below 125: exact in half
    case 'int8':
      return Int8Array.from(values, (v) => v % 128);
    case 'uint8':
      return Uint8Array.from(values, (v) => Math.abs(v) % 256);
    case 'bool':
      return Uint8Array.from(values, (v) => (v > 0 ? 1 : 0));
    case 'int16':
      return Int16Array.from(values);
    case 'uint16':
      return Uint16Array.from(values, (v) => Math.abs(v));
    case 'int32':
      return Int32Array.from(values, (v) => v * 100_000);
    case 'uint32':
      return Uint32Array.from(values, (v) => Math.abs(v) * 1_000_000);
    default:
      throw new Error(dtype);
  }
}

describe('malformed input', () => {
  const good = readFileSync(path.join(FIXTURES, 'float32.npy'));
  const headerOf = (bytes: Uint8Array) => Buffer.from(bytes.subarray(10, 10 + bytes[8]! + 256 * bytes[9]!)).toString('latin1');
  /** An NPY file with `header` as its dict (padded) and `dataBytes` of data. */
  function withHeader(header: string, dataBytes: number): Buffer {
    const padded = header.padEnd(118 - 1, ' ') + '\n';
    const out = Buffer.alloc(10 + padded.length + dataBytes);
    Buffer.from(good.subarray(0, 8)).copy(out);
    out.writeUInt16LE(padded.length, 8);
    out.write(padded, 10, 'latin1');
    return out;
  }

  it('refuses bytes without the magic string, an empty file and a text file', () => {
    expectNpyError(() => decodeNpy(new Uint8Array(0), 'x.npy'), 'not_npy', 'x.npy');
    expectNpyError(() => decodeNpy(Buffer.from('{"rows": 3}\n'), 'x.npy'), 'not_npy', 'x.npy');
    expectNpyError(() => decodeNpy(Buffer.from('PK\x03\x04 a zip archive, as np.savez writes'), 'x.npz'), 'not_npy');
  });

  it('refuses unknown format versions', () => {
    const v4 = Buffer.from(good);
    v4[6] = 4;
    expect(expectNpyError(() => decodeNpy(v4, 'v4.npy'), 'unsupported_version').message).toContain('4.0');
    const v11 = Buffer.from(good);
    v11[7] = 1;
    expectNpyError(() => decodeNpy(v11, 'v11.npy'), 'unsupported_version');
  });

  it('refuses truncated and over-long data, and a file cut inside its header', () => {
    expect(expectNpyError(() => decodeNpy(good.subarray(0, good.length - 4), 't.npy'), 'size_mismatch', 't.npy').message).toContain('truncated');
    expectNpyError(() => decodeNpy(Buffer.concat([good, Buffer.alloc(4)]), 't.npy'), 'size_mismatch');
    expectNpyError(() => decodeNpy(good.subarray(0, 40), 't.npy'), 'size_mismatch');
    expectNpyError(() => decodeNpy(good.subarray(0, 9), 't.npy'), 'size_mismatch');
  });

  it('parses the header NumPy wrote and refuses malformed ones', () => {
    expect(headerOf(good)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \} +\n$/);
    const cases: [string, string][] = [
      ["{'descr': '<f4', 'fortran_order': False}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'extra': 1}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4)}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': [3, 4]}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)", 'bad_header'],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}", 'bad_header'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)} trailing", 'bad_header'],
      ["__import__('os').system('true')", 'bad_header'],
      ["{'descr': '<U4', 'fortran_order': False, 'shape': (3,)}", 'unsupported_dtype'],
      ["{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", 'unsupported_dtype'],
      ["{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", 'unsupported_dtype'],
      ["{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,)}", 'unsupported_dtype'],
      ["{'descr': '|f4', 'fortran_order': False, 'shape': (3,)}", 'bad_header'],
    ];
    for (const [header, code] of cases) expectNpyError(() => decodeNpy(withHeader(header, 48), 'h.npy'), code, 'h.npy');
    // What NumPy itself accepts: double quotes, no trailing comma, Python 2 longs, native order '='.
    const ok = decodeNpy(withHeader('{"descr": "=f4", "fortran_order": False, "shape": (3L, 4L)}', 48), 'h.npy');
    expect(ok.shape).toEqual([3, 4]);
    expect(ok.dtype).toBe('float32');
  });

  it('accepts fortran_order True for rank 1, where both orders are the same', () => {
    const a = decodeNpy(withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (12,), }", 48), 'f.npy');
    expect(a.shape).toEqual([12]);
  });
});

describe('readNpy and writeNpy', () => {
  it('names a missing file and a directory in the error', () => {
    const missing = path.join(work, 'nope.npy');
    expect(expectNpyError(() => readNpy(missing), 'not_found', missing).message).toBe(`${missing}: no such file`);
    const dir = path.join(work, 'dir.npy');
    mkdirSync(dir);
    expectNpyError(() => readNpy(dir), 'io_error', dir);
    expectNpyError(() => writeNpy(path.join(work, 'no', 'such', 'folder.npy'), { dtype: 'uint8', shape: [1], data: new Uint8Array(1) }), 'not_found');
  });

  it('writes a file that reads back, leaving no temporary file', () => {
    const file = path.join(work, 'm.npy');
    writeNpy(file, { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    const m = readMatrix(file);
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readFileSync(file).subarray(1, 6).toString()).toBe('NUMPY');
  });
});

describe('conversions', () => {
  it('toMatrix keeps float data, widens integers and reports the first non-finite value', () => {
    const f32 = toMatrix(readNpy(path.join(FIXTURES, 'float32.npy')), 'f');
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect([f32.rows, f32.cols]).toEqual([3, 4]);
    const i64 = toMatrix(readNpy(path.join(FIXTURES, 'int64.npy')), 'i');
    expect(i64.data).toBeInstanceOf(Float64Array);
    expect(i64.data[0]).toBe(-15);
    expect(toMatrix(readNpy(path.join(FIXTURES, 'uint8.npy')), 'u').data).toBeInstanceOf(Float32Array);
    expectNpyError(() => toMatrix(readNpy(path.join(FIXTURES, 'float32-1d.npy')), 'v.npy'), 'invalid_content', 'v.npy');
    const nan = { dtype: 'float64', shape: [2, 2], data: new Float64Array([1, 2, NaN, 4]) } as const;
    expect(toMatrix(nan, 'n').data[2]).toBeNaN();
    expect(expectNpyError(() => toMatrix(nan, 'n.npy', { finite: true }), 'invalid_content', 'n.npy').message).toBe('n.npy: NaN at row 1, column 0');
    const inf = { dtype: 'float32', shape: [1, 3], data: new Float32Array([1, -Infinity, 0]) } as const;
    expect(expectNpyError(() => toMatrix(inf, 'i.npy', { finite: true }), 'invalid_content').message).toContain('-Infinity at row 0, column 1');
  });

  it('toIntegers accepts integer dtypes and integral floats, and checks the range', () => {
    expect(Array.from(readIntegers(path.join(FIXTURES, 'int64-indices.npy'), { limit: 8 }))).toEqual([0, 3, 7, 2]);
    const file = path.join(FIXTURES, 'int64-indices.npy');
    expect(expectNpyError(() => readIntegers(file, { limit: 7, what: 'anchor indices' }), 'invalid_content', file).message).toContain(
      'anchor indices: position 2 holds 7, outside [0, 7)',
    );
    expect(Array.from(toIntegers({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }, 'f'))).toEqual([1, 2]);
    expectNpyError(() => toIntegers({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2.5]) }, 'f'), 'invalid_content');
    expectNpyError(() => toIntegers({ dtype: 'int32', shape: [1, 2], data: new Int32Array(2) }, 'f'), 'invalid_content');
    expectNpyError(() => toIntegers({ dtype: 'int32', shape: [2], data: new Int32Array([0, -1]) }, 'f', { min: 0 }), 'invalid_content');
  });
});

describe('float16', () => {
  it('round-trips every non-NaN half bit pattern through a number', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = halfToNumber(bits);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(halfToNumber(numberToHalf(v)))).toBe(true);
        continue;
      }
      expect(numberToHalf(v)).toBe(bits);
    }
  });

  it('rounds to nearest even and overflows to infinity', () => {
    expect(halfToNumber(numberToHalf(1 + 2 ** -11))).toBe(1); // tie: even mantissa 0
    expect(halfToNumber(numberToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // tie: rounds up to even
    expect(halfToNumber(numberToHalf(70_000))).toBe(Infinity);
    expect(halfToNumber(numberToHalf(65_519))).toBe(65_504);
    expect(halfToNumber(numberToHalf(2 ** -26))).toBe(0);
    expect(halfToNumber(numberToHalf(3 * 2 ** -26))).toBe(2 ** -24); // above half the smallest subnormal
  });
});

