import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Encoding, MatrixSchema, UploadChunkSchema } from '@rlsa/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleIdBytes, sampleIdsFromBytes } from '../src/sample-ids.ts';
import { encodeUploadChunk } from '../src/upload-chunk-encoder.ts';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

describe('encodeUploadChunk', () => {
  it('writes the same bytes as protobuf-es toBinary(UploadChunkSchema)', () => {
    fc.assert(
      fc.property(
        fc.record({
          runId: fc.string({ maxLength: 140 }),
          nodeId: fc.string({ unit: 'grapheme', maxLength: 20 }),
          space: fc.integer({ min: 0, max: 2 }),
          seq: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
          sampleIds: fc.bigUint64Array({ maxLength: 40 }),
          labels: fc.array(fc.oneof(fc.integer({ min: -1, max: 200 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })), { maxLength: 40 }),
          rows: fc.integer({ min: 0, max: 70000 }),
          cols: fc.integer({ min: 0, max: 5000 }),
          encoding: fc.constantFrom(Encoding.UNSPECIFIED, Encoding.FLOAT32, Encoding.FLOAT16, Encoding.INT8),
          data: bytes(300),
          rowScales: bytes(20),
        }),
        (f) => {
          const values = create(MatrixSchema, { rows: f.rows, cols: f.cols, encoding: f.encoding, data: f.data, rowScales: f.rowScales });
          const expected = toBinary(
            UploadChunkSchema,
            create(UploadChunkSchema, { runId: f.runId, nodeId: f.nodeId, space: f.space, seq: BigInt(f.seq), sampleIds: sampleIdBytes(f.sampleIds), values, labels: f.labels }),
          );
          const actual = encodeUploadChunk({ runId: f.runId, nodeId: f.nodeId, space: f.space, seq: f.seq, sampleIds: f.sampleIds, values, labels: f.labels });
          expect(Buffer.compare(actual, Buffer.from(expected))).toBe(0);
          // The ids come back exactly (any 64-bit value), whatever the alignment of the field in the message.
          expect([...sampleIdsFromBytes(fromBinary(UploadChunkSchema, actual).sampleIds)]).toEqual([...f.sampleIds]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes a megabyte chunk like toBinary', () => {
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const values = create(MatrixSchema, { rows: 256, cols: 1024, encoding: Encoding.FLOAT32, data });
    const sampleIds = BigUint64Array.from({ length: 256 }, (_, i) => 2n ** 63n + BigInt(i));
    const expected = toBinary(UploadChunkSchema, create(UploadChunkSchema, { runId: 'bench', nodeId: 'node-3', space: 1, seq: 781n, sampleIds: sampleIdBytes(sampleIds), values, labels: [] }));
    expect(Buffer.compare(encodeUploadChunk({ runId: 'bench', nodeId: 'node-3', space: 1, seq: 781, sampleIds, values, labels: [] }), Buffer.from(expected))).toBe(0);
  });

  // (Sample ids can no longer be out of range here: they arrive as a BigUint64Array; the range checks moved to toSampleIds, sample-ids.spec.ts.)
  it('refuses labels that are not int32', () => {
    const values = create(MatrixSchema, { rows: 1, cols: 1, encoding: Encoding.FLOAT32, data: new Uint8Array(4) });
    const base = { runId: 'r', nodeId: 'n', space: 1, seq: 0, values, labels: [] as number[] };
    for (const label of [2 ** 31, -(2 ** 31) - 1, 0.5]) {
      expect(() => encodeUploadChunk({ ...base, sampleIds: new BigUint64Array([1n]), labels: [label] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
  });
});
