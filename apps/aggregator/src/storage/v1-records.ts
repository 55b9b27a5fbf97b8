import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Encoding, Similarity } from '@rlsa/proto';
import { DEFAULT_QUOTAS, encodingName, similarityName } from '@rlsa/wire';
import type { RunConfigView } from '@rlsa/wire';

/**
 * What a data dir of rlsa.v1 holds that rlsa.v2 reads differently, converted once by the
 * migration: run configs (rlsa.v1.RunConfig: its anchors were ids of an unnamed built-in data set)
 * and id columns (32-bit ids). Model cards need nothing: rlsa.v2.ModelCard only adds a field.
 */

/**
 * An rlsa.v1.RunConfig's bytes (run_id = 1, anchor_ids = 2 repeated uint32, similarity = 3,
 * anchor_fingerprint = 4, accepted_encodings = 5 repeated enum, center = 6, allow_absolute = 7;
 * repeated fields packed or not) as a v2 config: built-in anchors whose data set has no name
 * (v1 never stated it; the fingerprint still identifies the anchors).
 */
export function runConfigFromV1(bytes: Uint8Array): RunConfigView {
  const reader = new BinaryReader(bytes);
  const v1 = { runId: '', anchorIds: [] as bigint[], similarity: 0, fingerprint: '', encodings: [] as number[], center: false, allowAbsolute: false };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) v1.runId = reader.string();
    else if (field === 2) for (const id of repeatedVarints(reader, wireType)) v1.anchorIds.push(BigInt(id >>> 0));
    else if (field === 3) v1.similarity = reader.int32();
    else if (field === 4) v1.fingerprint = reader.string();
    else if (field === 5) v1.encodings.push(...repeatedVarints(reader, wireType));
    else if (field === 6) v1.center = reader.bool();
    else if (field === 7) v1.allowAbsolute = reader.bool();
    else reader.skip(wireType, field);
  }
  return {
    runId: v1.runId,
    anchors: { kind: 'builtin', dataset: '', sampleIds: v1.anchorIds, fingerprint: v1.fingerprint },
    similarity: similarityName(v1.similarity as Similarity),
    acceptedEncodings: v1.encodings.map((e) => encodingName(e as Encoding)),
    center: v1.center,
    allowAbsolute: v1.allowAbsolute,
    nodeRead: 'merged',
    quotas: { ...DEFAULT_QUOTAS },
  };
}

/** A repeated 32-bit varint field's values at the reader: one, or a packed run of them. */
function repeatedVarints(reader: BinaryReader, wireType: WireType): number[] {
  if (wireType !== WireType.LengthDelimited) return [reader.int32()];
  const values: number[] = [];
  const end = reader.uint32() + reader.pos;
  while (reader.pos < end) values.push(reader.int32());
  return values;
}

/** A v1 id column (uint32 little-endian per row) as a v2 one (uint64 little-endian per row). */
export function widenV1SampleIds(ids: Uint8Array): Buffer {
  const out = Buffer.alloc(ids.byteLength * 2);
  for (let row = 0; row < ids.byteLength / 4; row += 1) out.set(ids.subarray(4 * row, 4 * row + 4), 8 * row);
  return out;
}
