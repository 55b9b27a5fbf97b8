export { OnnxLinalg, type OnnxLinalgOptions } from './onnx-linalg.ts';
export { gemmModel, type GemmTranspose } from './gemm-model.ts';
