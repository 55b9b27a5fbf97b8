export { SourceError, sourceErrorFrom, type SourceErrorCode } from './errors.ts';
export {
  NO_LABEL,
  sameShape,
  sampleSize,
  shapeText,
  type BatchOptions,
  type DataSource,
  type DroppedDuplicate,
  type SampleBatch,
  type SampleId,
  type SampleShape,
  type SourcePart,
  type TestOrigin,
} from './sample.ts';
export { contentId, filenameId, formatSampleId, ID_SCHEMES, NPY_ROW_TAG, npyRowHeader, npyRowId, type IdScheme } from './content-id.ts';
export { uniqueSamples, type ScannedIds } from './unique-samples.ts';
export { DEFAULT_HOLDOUT_FRACTION, DEFAULT_HOLDOUT_SEED, holdoutSplit } from './holdout.ts';
export { rowPart, type RowReader } from './row-part.ts';
export { channelCount, channelStats, normalizeBatch, type Normalization } from './normalization.ts';
export { FIT_MODES, MAX_RESIZE_SIDE, parseResizeRule, RESIZE_KERNELS, type FitMode, type ResizeKernel, type ResizeRule } from './image/resize-rule.ts';
export { CHANNEL_COUNTS, decodeImage, IMAGE_EXTENSIONS, IMAGE_FORMATS, readImageHeader, type ChannelCount, type ImageHeader } from './image/decode-image.ts';
export { listImageFolder, type ImageFolderListing } from './image-folder/image-folder-layout.ts';
export { openImageFolder, type ImageFolderOptions } from './image-folder/image-folder-source.ts';
export { NPY_FOLDER_FILES, openNpyFolder, type NpyFolderFiles, type NpyFolderOptions } from './npy/npy-folder-source.ts';
export { builtinSource, type BuiltinParts } from './builtin-source.ts';
export { openSource, parseKindSpec, parseSourceSpec, SOURCE_KINDS, type OpenSourceOptions, type SourceKind, type SourceSpec } from './source-spec.ts';
export {
  ANCHOR_DTYPES,
  ANCHOR_SET_KINDS,
  anchorCount,
  type AnchorDtype,
  type AnchorSet,
  type AnchorSetKind,
  type ArrayAnchorSet,
  type BuiltinAnchorSet,
  type ImagesAnchorSet,
} from './anchor-set/anchor-set.ts';
export { ANCHOR_SET_MAGIC, ANCHOR_SET_VERSION, decodeAnchorSet, encodeAnchorSet, MAX_ANCHOR_SET_BYTES, MAX_ANCHORS, sha256Hex } from './anchor-set/anchor-set-codec.ts';
export { anchorSetFingerprint, checkAnchorFingerprint, fingerprintMismatch } from './anchor-set/anchor-set-fingerprint.ts';
export { AnchorSetAssembler, chunkAnchorSet, reassembleAnchorSet, type AnchorSetChunk, type ExpectedAnchorSet } from './anchor-set/anchor-set-chunks.ts';
export { ANCHOR_NAMES_FILE, readAnchorImages, readAnchorSet } from './anchor-set/read-anchor-set.ts';
export { anchorBatch, type AnchorBatchOptions } from './anchor-set/anchor-batch.ts';
