// The node as the command line runs it. Nothing here loads an ML runtime: tfjs is loaded by the
// phases that train or run a tfjs model, ONNX Runtime by an ONNX encoder, and an embeddings node
// loads neither (`@rlsa/trainer-node` itself also exports the models and training, with tfjs).
export { runTrainerNode } from './run-node.ts';
export { nodeOptionsFromSettings } from './node-options.ts';
export { writeTrainerNodeResult } from './results.ts';
