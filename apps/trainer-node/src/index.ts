export { TrainerError, type TrainerErrorCode } from './errors.ts';
export { EMBEDDING_LAYER, MODEL_NAMES, MODEL_SPECS, buildModel, embeddingModel, embeddingWidth, isModelName, type ModelName } from './models.ts';
export { trainClassifier, type EpochReport, type TrainHooks, type TrainOptions, type TrainResult } from './training.ts';
export { PREDICT_BATCH, evaluateClassifier, logitMetrics, predictOutputs, predictRows } from './tensors.ts';
export { DEFAULT_RETRY, backoffDelay, isRetryable, withRetries, type RetryPolicy } from './retry.ts';
export { createProgress, silentProgress, type Progress } from './progress.ts';
export {
  DEFAULT_CHUNK_ROWS,
  nodeInitSeed,
  readTokenFile,
  runTrainerNode,
  type NodeRoleName,
  type SpaceUploadSummary,
  type TrainerNodeOptions,
  type TrainerNodeResult,
} from './run-node.ts';
