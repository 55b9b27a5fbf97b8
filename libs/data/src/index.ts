export { DataError, type DataErrorCode } from './errors.ts';
export { DATASET_NAMES, SPLITS, imageSize, type DatasetName, type ImageDataset, type ImageSplit, type Split } from './dataset.ts';
export { encodeIdx, parseIdx, readIdx, type IdxArray } from './idx.ts';
export { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from './fashion-mnist.ts';
export { CIFAR10_DEFAULT_DIR, CIFAR_IMAGE_BYTES, defaultCifar100Dir, encodeCifarRecords, loadCifar10, loadCifar100 } from './cifar.ts';
export { syntheticDataset, type SyntheticOptions } from './synthetic.ts';
export { defaultDataDir, isDatasetName, loadDataset, type LoadOptions } from './load.ts';
export { TEST_ID_OFFSET, parseSampleId, sampleId, sampleIds } from './sample-ids.ts';
export { channelStats, normalizedImages, type ChannelStats } from './normalize.ts';
export {
  DEFAULT_ANCHOR_COUNT,
  DEFAULT_ANCHOR_POOL_SIZE,
  DEFAULT_ANCHOR_SEED,
  anchorFingerprint,
  anchorPoolIds,
  defaultAnchorIds,
  rawPixels,
  type AnchorOptions,
} from './anchors.ts';
export {
  nodeSamples,
  taskPartitions,
  testPartitions,
  TEST_SPLITS,
  type TestSplit,
  type NodeSampleOptions,
  type NodeSamples,
  type PartitionOptions,
} from './node-samples.ts';
export { nodeSamplesOf, runPartition, type RunPartition, type RunPartitionSettings } from './run-partition.ts';
