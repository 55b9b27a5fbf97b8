import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uniqueSamples } from '../src/index.ts';

describe('uniqueSamples', () => {
  it('keeps the first sample of each id, in scan order, and lists every later copy', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 5n }), { maxLength: 40 }), (values) => {
        const ids = BigUint64Array.from(values);
        const { keep, duplicates } = uniqueSamples({ ids, contents: ids, name: (i) => `s${i}` }, 'dir');
        const firsts = values.map((v, i) => (values.indexOf(v) === i ? i : -1)).filter((i) => i >= 0);
        expect(Array.from(keep)).toEqual(firsts);
        expect(duplicates.length).toBe(values.length - firsts.length);
        for (const d of duplicates) expect(d.kept).toBe(`s${values.indexOf(d.id)}`);
      }),
    );
  });

  it('refuses one id with two contents, naming both samples (whichever comes first in scan order first)', () => {
    const ids = BigUint64Array.of(9n, 4n, 9n);
    expect(() => uniqueSamples({ ids, contents: BigUint64Array.of(1n, 2n, 3n), name: (i) => `file${i}` }, 'dir')).toThrow(
      expect.objectContaining({ code: 'id_conflict', file: 'dir', message: expect.stringContaining('file0 and file2') }),
    );
  });
});
