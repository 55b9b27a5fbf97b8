export { TrainerError, type TrainerErrorCode } from './errors.ts';
export { EMBEDDING_LAYER, MODEL_NAMES, MODEL_SPECS, buildModel, embeddingModel, embeddingWidth, isModelName, type ModelName } from './models.ts';
export { trainClassifier, type EpochReport, type TrainHooks, type TrainOptions, type TrainResult } from './training.ts';
export { PREDICT_BATCH, evaluateClassifier, logitMetrics, predictOutputs, predictRows } from './tensors.ts';
export { DEFAULT_NODE_RETRY } from './aggregator-session.ts';
export { createProgress, silentProgress, type Progress } from './progress.ts';
export {
  DEFAULT_CHUNK_ROWS,
  TRAINER_COMMAND,
  TRAINER_OPTIONS,
  trainerArgv,
  type TrainerArgvSettings,
  type TrainerSettings,
} from './options.ts';
export { connectionFromSettings, readTokenFile, type AggregatorConnection } from './connection.ts';
export { nodeOptionsFromSettings, type NodeDataOptions, type NodeUploadOptions, type TrainerNodeOptions } from './node-options.ts';
export {
  readTrainerNodeResult,
  writeTrainerNodeResult,
  type NodeTimings,
  type SpaceUploadSummary,
  type TrainerNodeResult,
} from './results.ts';
export { openAggregatorSession, type AggregatorSession, type SpaceRowsToUpload, type UploadProgress } from './aggregator-session.ts';
export { loadNodeData, type BuiltinNodeData, type NodeData, type PartyNodeData } from './phases/load-data.ts';
export { resolveRun, type ResolvedRun, type ResolveRunOptions } from './phases/resolve-run.ts';
export { dataChoice, modelChoice, type DataChoice, type ModelChoice } from './node-choices.ts';
export { saveEmbeddings } from './phases/save-embeddings.ts';
export { datasetInputs, memoryInputs, type ClassifierInputs } from './classifier-inputs.ts';
export { nodeInitSeed } from './phases/node-init-seed.ts';
export { trainNodeModel, type TrainedModel } from './phases/train-model.ts';
export { embedNode, type NodeEmbeddings } from './phases/embed.ts';
export { projectOnAnchors } from './phases/project.ts';
export { uploadNode, type ModelCard } from './phases/upload.ts';
export { runTrainerNode } from './run-node.ts';
