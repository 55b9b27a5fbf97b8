export { createAggregatorClient } from './aggregator-client.ts';
export type {
  AggregatorClient,
  AggregatorClientOptions,
  CallSettings,
  CkaScoreView,
  EvaluateResult,
  JoinInput,
  JoinResult,
  DeleteRunResult,
  NearestQuery,
  NeighborView,
  ReadMergedOptions,
  RetryEvent,
  SpaceRows,
} from './aggregator-client.ts';
export { DEFAULT_ANCHOR_SET_CHUNK_BYTES } from './anchor-set-transfer.ts';
export type { AnchorSetChunkView, AnchorSetFetch, AnchorSetUpload, AnchorSetUploadResult, TransferProgress } from './anchor-set-transfer.ts';
export { AggregatorCallError, isServiceError } from './client-error.ts';
export type { GrpcStatusName } from './client-error.ts';
export { DEFAULT_UPLOAD_RETRY, NO_RETRY, RETRY_ON_UNAVAILABLE, TRANSIENT_STATUSES, backoffDelay, isRetryable, withRetry } from './retry.ts';
export type { RetryPolicy } from './retry.ts';
export { uploadChunks } from './upload.ts';
export type { UploadAckEvent, UploadChunkInput, UploadOptions, UploadResult } from './upload.ts';
// The wire codec and views live in @rlsa/wire; re-exported whole for the packages that import them from here.
export * from '@rlsa/wire';
export { FLOAT16_MAX, float16BitsToFloat32, float32ToFloat16Bits } from '@rlsa/core';
