// The ONNX and tfjs encoders are reached only through `openModelEncoder`'s dynamic imports (and
// their types): importing this package loads neither runtime.
export { EncoderError, type EncoderErrorCode } from './errors.ts';
export { anchorInputs, checkFiniteRows, embedAnchorInputs, ENCODER_KINDS, type AnchorInputs, type Encoder, type EncoderKind, type ModelCard } from './encoder.ts';
export { inputDims, LAYOUTS, METADATA_KEYS, metadataNormalization, modelInput, parseLayout, parseNumberList, type Layout } from './preprocessing.ts';
export { isEncoderSpec, openEmbeddings, openModelEncoder, parseEncoderSpec, type EncoderSpec } from './encoder-spec.ts';
export { onnxMetadata } from './onnx/onnx-metadata.ts';
export type { OnnxEncoderOptions } from './onnx/onnx-encoder.ts';
export type { TfjsEncoderOptions } from './tfjs/tfjs-encoder.ts';
export { EMBEDDINGS_FILES, openEmbeddingsFolder, type EmbeddingsFolder, type EmbeddingsFolderOptions } from './embeddings/embeddings-folder.ts';
