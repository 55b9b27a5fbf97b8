export * from './gen/rlsa/v1/matrix_pb.ts';
export * from './gen/rlsa/v1/run_pb.ts';
export * from './gen/rlsa/v1/aggregator_pb.ts';
export { grpcServiceDefinition } from './grpc-service.ts';
