export { CodedError, isUserFacing } from './coded-error.ts';
export { RlsaError, type RlsaErrorCode } from './errors.ts';
export { matrix, takeRows, type Matrix } from './matrix.ts';
export { FAST_LINALG_MIN_WORK, jsLinalg, type Linalg, type MatmulABtIntoOptions } from './linalg.ts';
export { relativeProjection, SIMILARITIES, type RelativeProjectionOptions, type Similarity } from './relative-projection.ts';
export { NODE_ROLES, type NodeRoleName } from './node-roles.ts';
export {
  ADMIN_GRANT,
  EVERY_RUN,
  LEGACY_ROLE_GRANTS,
  RUN_ROLES,
  formatGrant,
  grantsAdmin,
  grantsRunRole,
  parseGrant,
  parseTokenEntries,
  type Grant,
  type RunRole,
  type TokenEntry,
} from './access-grants.ts';
export { MergeAccumulator, type MergedSpace } from './merge-accumulator.ts';
export { meanOverSpaces, weightedMeanOverSpaces, type Space } from './mean-over-spaces.ts';
export { absoluteMean, jumble } from './baselines.ts';
export { linearCka } from './linear-cka.ts';
export { LinearCkaAccumulator, type LinearCkaAccumulatorOptions, type LinearCkaOptions } from './linear-cka-accumulator.ts';
export { RBF_CKA_MAX_ROWS, rbfCka, type RbfCkaOptions } from './rbf-cka.ts';
export { separability } from './separability.ts';
export { mutualKnnAlignment } from './mutual-knn-alignment.ts';
export { nearestCentroidAccuracy } from './nearest-centroid.ts';
export { ANCHOR_STRATEGIES, anchorPool, KMEANS_MAX_ITERATIONS, selectAnchors, type AnchorStrategy, type SelectAnchorsOptions } from './anchor-selection.ts';
export { partitionTasks, SCENARIOS, type PartitionOptions, type Scenario, type TaskPartition } from './partition-tasks.ts';
export {
  floatScaledIndex,
  normalSampler,
  permutation,
  randomFloat,
  randomInt,
  seededRng,
  shuffleInPlace,
  uniformIndex,
  type IndexDraw,
  type Rng,
} from './random.ts';
export { FLOAT16_MAX, FLOAT16_TABLE, float16BitsToFloat32, float32ToFloat16Bits } from './float16.ts';
