export * from './gen/rlsa/v2/matrix_pb.ts';
export * from './gen/rlsa/v2/run_pb.ts';
export * from './gen/rlsa/v2/aggregator_pb.ts';
export { grpcServiceDefinition } from './grpc-service.ts';
export { addServiceToServer, grpcImplementation, serviceUnit, tolerantServiceDefinition } from './grpc-server-adapter.ts';
export type { CallStatus, ServiceEdge, ServiceUnit } from './grpc-server-adapter.ts';
export type { BidiStreamingImpl, ClientStreamingImpl, HandlerContext, MethodImpl, ServerStreamingImpl, ServiceImpl, UnaryImpl } from './service-impl.ts';
export { createServiceClient } from './grpc-client.ts';
export type { BidiStreamingCall, CallSetup, ClientStreamingCall, MethodCall, ServerStreamingCall, ServiceClient, UnaryCall } from './grpc-client.ts';
