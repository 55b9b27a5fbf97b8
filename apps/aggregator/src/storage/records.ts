import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelCardSchema, RunConfigSchema } from '@rlsa/proto';
import { modelCardMessage, modelCardView, runConfigMessage, runConfigView } from '@rlsa/wire';
import type { ModelCardView, RunConfigView } from '@rlsa/wire';

/**
 * The stored form of a run's configuration and a node's model card: their protobuf binary (the
 * format of existing data directories), read back into plain views.
 */
export function encodeRunConfig(config: RunConfigView): Buffer {
  return Buffer.from(toBinary(RunConfigSchema, runConfigMessage(config)));
}

export function decodeRunConfig(bytes: Uint8Array): RunConfigView {
  return runConfigView(fromBinary(RunConfigSchema, bytes));
}

export function encodeModelCard(model: ModelCardView): Buffer {
  return Buffer.from(toBinary(ModelCardSchema, modelCardMessage(model)));
}

export function decodeModelCard(bytes: Uint8Array): ModelCardView {
  return modelCardView(fromBinary(ModelCardSchema, bytes));
}
