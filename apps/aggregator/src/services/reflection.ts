import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@grpc/reflection';
import { AdminService, AggregatorService, file_rlsa_v2_aggregator, file_rlsa_v2_matrix, file_rlsa_v2_run } from '@rlsa/proto';

/**
 * Server reflection for the rlsa.v2 services. @grpc/reflection reads only the
 * `fileDescriptorProtos` (serialized FileDescriptorProto) of a proto-loader package definition,
 * so the generated protobuf-es descriptors are serialized into one such entry per service.
 */
export function rlsaReflectionService(): ReflectionService {
  const files = [file_rlsa_v2_matrix, file_rlsa_v2_run, file_rlsa_v2_aggregator].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const definition = {
    [AggregatorService.typeName]: { fileDescriptorProtos: files },
    [AdminService.typeName]: { fileDescriptorProtos: files },
  } as unknown as ConstructorParameters<typeof ReflectionService>[0];
  return new ReflectionService(definition);
}
