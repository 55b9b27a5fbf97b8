import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** Which operand of the ONNX `Gemm` node is transposed (MLAS reads it transposed in place: no copy). */
export type GemmTranspose = 'transA' | 'transB';

/** ONNX TensorProto.DataType FLOAT. */
const ONNX_FLOAT = 1;
/** ONNX AttributeProto.AttributeType INT. */
const ONNX_ATTRIBUTE_INT = 2;
/** ONNX IR version 8 (ONNX 1.10+), with opset 17 of the default domain. */
const IR_VERSION = 8;
const OPSET = 17;

/**
 * Serialises a one-node ONNX model `Y = Gemm(A, B)` with `transA = 1` (Y = Aᵀ·B, A is m×k,
 * B is m×n) or `transB = 1` (Y = A·Bᵀ, A is m×k, B is n×k), float32, every dimension symbolic,
 * so that one session serves every shape. Encoded by hand with the ONNX protobuf field numbers
 * (onnx.proto3): a model this small does not justify generated code.
 */
export function gemmModel(transpose: GemmTranspose): Uint8Array {
  const [aDims, bDims, yDims] =
    transpose === 'transB'
      ? [['m', 'k'], ['n', 'k'], ['m', 'n']]
      : [['m', 'k'], ['m', 'n'], ['k', 'n']];
  const graph = new BinaryWriter();
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5.
  graph.uint32((1 << 3) | 2).bytes(
    new BinaryWriter()
      .uint32((1 << 3) | 2).string('A')
      .uint32((1 << 3) | 2).string('B')
      .uint32((2 << 3) | 2).string('Y')
      .uint32((3 << 3) | 2).string('gemm')
      .uint32((4 << 3) | 2).string('Gemm')
      // AttributeProto: name=1, i=3, type=20.
      .uint32((5 << 3) | 2).bytes(new BinaryWriter().uint32((1 << 3) | 2).string(transpose).uint32(3 << 3).int64(1).uint32(20 << 3).int32(ONNX_ATTRIBUTE_INT).finish())
      .finish(),
  );
  graph.uint32((2 << 3) | 2).string(`gemm_${transpose}`);
  graph.uint32((11 << 3) | 2).bytes(valueInfo('A', aDims));
  graph.uint32((11 << 3) | 2).bytes(valueInfo('B', bDims));
  graph.uint32((12 << 3) | 2).bytes(valueInfo('Y', yDims));
  const model = new BinaryWriter();
  model.uint32(1 << 3).int64(IR_VERSION); // ir_version
  model.uint32((7 << 3) | 2).bytes(graph.finish()); // graph
  // OperatorSetIdProto: domain=1 ("": the default ONNX domain), version=2.
  model.uint32((8 << 3) | 2).bytes(new BinaryWriter().uint32((1 << 3) | 2).string('').uint32(2 << 3).int64(OPSET).finish());
  return model.finish();
}

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_param=2}}}}}. */
function valueInfo(name: string, dims: readonly string[]): Uint8Array {
  const shape = new BinaryWriter();
  for (const d of dims) shape.uint32((1 << 3) | 2).bytes(new BinaryWriter().uint32((2 << 3) | 2).string(d).finish());
  const tensor = new BinaryWriter().uint32(1 << 3).int32(ONNX_FLOAT).uint32((2 << 3) | 2).bytes(shape.finish()).finish();
  const type = new BinaryWriter().uint32((1 << 3) | 2).bytes(tensor).finish();
  return new BinaryWriter().uint32((1 << 3) | 2).string(name).uint32((2 << 3) | 2).bytes(type).finish();
}
