import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { EncoderError } from '../errors.ts';

/** ModelProto.metadata_props (onnx.proto): repeated StringStringEntryProto { key = 1; value = 2; }. */
const METADATA_PROPS_FIELD = 14;

/**
 * The `metadata_props` of an ONNX model (a key → value map), read from the ModelProto's top-level
 * fields with protobuf-es's wire reader; every other field, the graph included, is skipped
 * without being decoded. onnxruntime-node does not expose this map, hence this reader.
 * `bad_format`, naming `file`, when the bytes are not a protobuf message.
 */
export function onnxMetadata(model: Uint8Array, file: string): Map<string, string> {
  const props = new Map<string, string>();
  try {
    const reader = new BinaryReader(model);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== METADATA_PROPS_FIELD || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, field);
        continue;
      }
      const entry = new BinaryReader(reader.bytes());
      let key = '';
      let value = '';
      while (entry.pos < entry.len) {
        const [entryField, entryType] = entry.tag();
        if (entryField === 1) key = entry.string();
        else if (entryField === 2) value = entry.string();
        else entry.skip(entryType, entryField);
      }
      props.set(key, value);
    }
  } catch (error) {
    throw new EncoderError('bad_format', `not an ONNX model (${error instanceof Error ? error.message : String(error)})`, { file, cause: error });
  }
  return props;
}
