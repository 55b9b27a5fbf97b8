export { createAggregatorClient } from './aggregator-client.ts';
export type {
  AggregatorClient,
  AggregatorClientOptions,
  CallSettings,
  CkaScoreView,
  EvaluateResult,
  JoinInput,
  JoinResult,
  NearestQuery,
  NeighborView,
  SpaceRows,
} from './aggregator-client.ts';
export { AggregatorCallError, isServiceError } from './client-error.ts';
export type { GrpcStatusName } from './client-error.ts';
export {
  ENCODING_NAMES,
  FLOAT16_RELATIVE_ERROR,
  FLOAT16_SUBNORMAL_ABSOLUTE_ERROR,
  bytesPerValue,
  decodeMatrix,
  encodeMatrix,
  encodingFromName,
  encodingName,
  float16ErrorBound,
  int8ErrorBound,
} from './matrix-codec.ts';
export type { DecodedMatrix, DenseMatrix, EncodingName } from './matrix-codec.ts';
export { FLOAT16_MAX, float16BitsToFloat32, float32ToFloat16Bits } from '@rlsa/core';
export { uploadChunks } from './upload.ts';
export type { UploadAckEvent, UploadChunkInput, UploadOptions, UploadResult } from './upload.ts';
export {
  nodeStatusView,
  roleFromName,
  roleName,
  runConfigMessage,
  runConfigView,
  runStatusView,
  similarityFromName,
  similarityName,
  spaceFromName,
} from './views.ts';
export type { NodeStatusView, RoleName, RunConfigInput, RunConfigView, RunStatusView, SimilarityName, SpaceName } from './views.ts';
