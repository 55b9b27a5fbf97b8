import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorFingerprint, syntheticDataset } from '@rlsa/data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anchorSetFingerprint,
  checkAnchorFingerprint,
  decodeAnchorSet,
  encodeAnchorSet,
  MAX_ANCHORS,
  readAnchorSet,
  type AnchorSet,
} from '../../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
/** Encoded by Python from the documented layout (fixtures/make_fixtures.py), with hashlib's SHA-256. */
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as {
  anchor_sets: Record<string, { encoding: string; sha256: string; names?: string[]; labels?: number[] }>;
};

describe('the canonical anchor set encoding', () => {
  it.each(Object.keys(manifest.anchor_sets))('%s: read from disk, encodes to the bytes Python wrote from the documented layout', async (folder) => {
    const expected = manifest.anchor_sets[folder]!;
    const set = await readAnchorSet(path.join(FIXTURES, folder));
    const encoded = encodeAnchorSet(set);
    expect(Buffer.from(encoded).equals(readFileSync(path.join(FIXTURES, expected.encoding)))).toBe(true);
    expect(anchorSetFingerprint(set)).toBe(expected.sha256);
    if (expected.names !== undefined) expect(set.names).toEqual(expected.names);
    if (expected.labels !== undefined) expect(Array.from(set.labels!)).toEqual(expected.labels);
  });

  it('an encoded copy on disk reads back as the same set', async () => {
    const copy = await readAnchorSet(path.join(FIXTURES, 'anchors/images.rlsa'));
    expect(anchorSetFingerprint(copy)).toBe(manifest.anchor_sets['anchors/images']!.sha256);
  });

  const arbitrarySet: fc.Arbitrary<AnchorSet> = fc.integer({ min: 1, max: 6 }).chain((count) => {
    const extras = fc.record(
      { labels: fc.array(fc.integer({ min: -1, max: 9 }), { minLength: count, maxLength: count }).map((l) => Int32Array.from(l)), names: fc.array(fc.string(), { minLength: count, maxLength: count }) },
      { requiredKeys: [] },
    );
    const images = fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: count, maxLength: count }).map((files) => ({ kind: 'images' as const, files }));
    const array = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean())
      .chain(([h, w, bytes]) =>
        (bytes ? fc.uint8Array({ minLength: count * h * w, maxLength: count * h * w }) : fc.float32Array({ noNaN: true, noDefaultInfinity: true, minLength: count * h * w, maxLength: count * h * w })).map(
          (values) => ({ kind: 'array' as const, shape: { kind: 'image' as const, height: h, width: w, channels: 1 }, values }),
        ),
      );
    const builtin = fc.uint32Array({ minLength: count, maxLength: count }).map((ids) => ({ kind: 'builtin' as const, dataset: 'cifar10' as const, ids }));
    return fc.tuple(fc.oneof(images, array, builtin), extras).map(([set, extra]) => ({ ...set, ...extra }) as AnchorSet);
  });

  it('round-trips: decode(encode(s)) encodes to the same bytes (one set, one encoding)', () => {
    fc.assert(
      fc.property(arbitrarySet, (set) => {
        const encoded = encodeAnchorSet(set);
        expect(encodeAnchorSet(decodeAnchorSet(encoded, 'copy'))).toEqual(encoded);
      }),
    );
  });

  it('differs when the order, a label, a name or one byte changes', async () => {
    const set = (await readAnchorSet(path.join(FIXTURES, 'anchors/images'))) as Extract<AnchorSet, { kind: 'images' }>;
    const base = anchorSetFingerprint(set);
    const variants: AnchorSet[] = [
      { ...set, files: [...set.files].reverse(), names: [...set.names!].reverse(), labels: set.labels!.slice().reverse() },
      { ...set, labels: Int32Array.from(set.labels!, (l, i) => (i === 0 ? l + 1 : l)) },
      { ...set, names: set.names!.map((n, i) => (i === 0 ? `${n}x` : n)) },
      { ...set, files: set.files.map((f, i) => (i === 1 ? Uint8Array.from(f, (b, j) => (j === 40 ? b ^ 1 : b)) : f)) },
    ];
    for (const variant of variants) expect(anchorSetFingerprint(variant)).not.toBe(base);
  });

  it("keeps a built-in set's fingerprint as today's anchorFingerprint (ids and pixels)", () => {
    const dataset = syntheticDataset({ trainCount: 40, testCount: 4, shape: [4, 4, 3] });
    const ids = Uint32Array.of(5, 1, 30);
    expect(anchorSetFingerprint({ kind: 'builtin', dataset: 'synthetic', ids }, dataset)).toBe(anchorFingerprint(dataset, ids));
    expect(() => anchorSetFingerprint({ kind: 'builtin', dataset: 'cifar10', ids }, dataset)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe('decodeAnchorSet refuses damaged or hostile copies (bad_format, naming the source)', () => {
  const good = readFileSync(path.join(FIXTURES, 'anchors/array.rlsa'));
  const patched = (offset: number, bytes: number[]) => {
    const copy = Uint8Array.from(good);
    copy.set(bytes, offset);
    return copy;
  };
  const cases: [string, Uint8Array][] = [
    ['no magic', patched(0, [0x58])],
    ['another version', patched(8, [2, 0])],
    ['an unknown kind', patched(10, [9])],
    ['unknown flags', patched(11, [0x83])],
    ['more anchors than allowed', patched(12, Array.from(new Uint8Array(Uint32Array.of(MAX_ANCHORS + 1).buffer)))],
    ['more anchors than bytes', patched(12, [200, 0, 0, 0])],
    ['a truncated copy', good.subarray(0, good.length - 1)],
    ['trailing bytes', Uint8Array.from([...good, 0])],
    ['a NaN value', patched(28, Array.from(new Uint8Array(Float32Array.of(NaN).buffer)))],
  ];
  it.each(cases)('%s', (_, bytes) => {
    expect(() => decodeAnchorSet(bytes, 'copy.rlsa')).toThrow(expect.objectContaining({ code: 'bad_format', file: 'copy.rlsa' }));
  });

  it('and a node refuses a copy whose fingerprint is not the run’s (failed_precondition, naming the copy)', async () => {
    const set = await readAnchorSet(path.join(FIXTURES, 'anchors/array'));
    const other = createHash('sha256').update('another set').digest('hex');
    expect(() => checkAnchorFingerprint(set, other, 'local/anchors')).toThrow(expect.objectContaining({ code: 'failed_precondition', file: 'local/anchors' }));
    expect(() => checkAnchorFingerprint(set, manifest.anchor_sets['anchors/array']!.sha256, 'local/anchors')).not.toThrow();
  });
});
