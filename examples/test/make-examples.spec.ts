import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anchorBatch, anchorSetFingerprint, formatSampleId, openImageFolder, openNpyFolder, readAnchorSet, type DataSource } from '@rlsa/sources';
import { afterAll, describe, expect, it } from 'vitest';
import { makeExamples, PARTY_SLICES } from '../make-examples.ts';
import { anchorInputs, openEmbeddings, parseEncoderSpec } from '@rlsa/encoders';

const scratch = mkdtempSync(path.join(tmpdir(), 'examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function pixelsById(source: DataSource): Promise<Map<bigint, number[]>> {
  const out = new Map<bigint, number[]>();
  for (const part of [source.train, source.test]) {
    for await (const batch of part.batches(16)) {
      const size = batch.values.length / batch.count;
      batch.ids.forEach((id, k) => out.set(id, Array.from(batch.values.subarray(k * size, (k + 1) * size))));
    }
  }
  return out;
}

describe('examples/make-examples.ts', () => {
  it('writes three parties that share pictures by content id, and an anchor set every party can read', async () => {
    const out = path.join(scratch, 'data');
    const manifest = await makeExamples(out);
    const poolIds = manifest.pool.map((p) => p.id);
    const slice = ([from, to]: readonly [number, number]) => poolIds.slice(from, to).sort();
    const a = await openImageFolder(path.join(out, 'party-a-images'));
    const b = openNpyFolder(path.join(out, 'party-b-npy'));
    const c = openEmbeddings(parseEncoderSpec(`embeddings:${path.join(out, 'party-c-embeddings')}`));
    const idsOf = (s: DataSource) => [...s.train.ids, ...s.test.ids].map(formatSampleId).sort();
    expect(idsOf(a)).toEqual(slice(PARTY_SLICES.a));
    expect(idsOf(b)).toEqual(slice(PARTY_SLICES.b));
    expect(idsOf(c.source)).toEqual(slice(PARTY_SLICES.c));
    expect(a.testOrigin).toBe('source');

    // One id, one picture: party B's array rows are the pixels party A decodes from its PNG files.
    const pixelsA = await pixelsById(a);
    const pixelsB = await pixelsById(b);
    const shared = [...pixelsA.keys()].filter((id) => pixelsB.has(id));
    expect(shared.length).toBe(PARTY_SLICES.a[1] - PARTY_SLICES.b[0]);
    for (const id of shared) expect(pixelsB.get(id)).toEqual(pixelsA.get(id));

    const anchors = await readAnchorSet(path.join(out, 'anchors'));
    expect(anchorSetFingerprint(anchors)).toBe(manifest.anchorFingerprint);
    expect((await anchorBatch(anchors, { shape: a.shape })).count).toBe(16);
    expect((await c.encoder.embedAnchors(anchorInputs(anchors, { shape: c.source.shape }))).length).toBe(16 * c.encoder.width);
    expect(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'))).toEqual(manifest);
    b.close();
    c.source.close();
  });

  it('is deterministic: the same seed writes the same ids and anchor set', async () => {
    const first = await makeExamples(path.join(scratch, 'one'), 3);
    const second = await makeExamples(path.join(scratch, 'two'), 3);
    expect(second).toEqual(first);
  });
});
