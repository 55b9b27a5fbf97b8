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
export { encodeUploadChunk } from './upload-chunk-encoder.ts';
export type { UploadChunkFields } from './upload-chunk-encoder.ts';
export {
  SPACE_NAMES,
  modelCardMessage,
  modelCardView,
  nodeStatusView,
  roleFromName,
  roleName,
  runConfigMessage,
  runConfigView,
  runStatusView,
  similarityFromName,
  similarityName,
  spaceFromName,
  spaceName,
} from './views.ts';
export type {
  ModelCardView,
  NodeRoleName,
  NodeStatusView,
  RoleName,
  RunConfigInput,
  RunConfigView,
  RunStatusView,
  SimilarityName,
  SpaceName,
} from './views.ts';
