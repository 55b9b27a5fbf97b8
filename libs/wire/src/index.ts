export {
  ENCODING_NAMES,
  FLOAT16_RELATIVE_ERROR,
  FLOAT16_SUBNORMAL_ABSOLUTE_ERROR,
  bytesPerValue,
  decodeMatrix,
  encodeMatrix,
  encodingFromName,
  encodingName,
  firstNonFinite,
  float16ErrorBound,
  int8ErrorBound,
} from './matrix-codec.ts';
export type { DecodedMatrix, DenseMatrix, EncodingName, MatrixFields } from './matrix-codec.ts';
export { MAX_SAMPLE_ID, SAMPLE_ID_BYTES, sampleIdBytes, sampleIdOf, sampleIdWords, sampleIdsFromBytes, toBuiltinIds, toSampleId, toSampleIds } from './sample-ids.ts';
export type { SampleIdInput, SampleIdsInput } from './sample-ids.ts';
export { encodeUploadChunk } from './upload-chunk-encoder.ts';
export type { UploadChunkFields } from './upload-chunk-encoder.ts';
export {
  ANCHOR_DTYPE_NAMES,
  ANCHOR_SET_KIND_NAMES,
  NODE_READ_NAMES,
  RUN_STATE_NAMES,
  SPACE_NAMES,
  anchorDtypeFromName,
  anchorDtypeName,
  anchorSetKindFromName,
  anchorSetKindName,
  nodeReadFromName,
  nodeReadName,
  roleFromName,
  roleName,
  runStateFromName,
  runStateName,
  similarityFromName,
  similarityName,
  spaceFromName,
  spaceName,
} from './enum-names.ts';
export type { AnchorDtypeName, AnchorSetKindName, NodeReadName, RunStateName, SpaceName } from './enum-names.ts';
export { DEFAULT_QUOTAS, anchorCount, anchorSetSummaryMessage, anchorSetSummaryView, runConfigMessage, runConfigView } from './run-config-view.ts';
export type { AnchorSetSummaryView, AnchorsInput, AnchorsView, RunConfigInput, RunConfigView, RunQuotasView } from './run-config-view.ts';
export { modelCardMessage, modelCardView, nodeStatusView, runStatusView } from './views.ts';
export type { ModelCardView, NodeStatusView, RunStatusView, RunTotalsView } from './views.ts';
