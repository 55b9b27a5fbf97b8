import type { DescMessage, DescService, MessageShape } from '@bufbuild/protobuf';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * Turns a protobuf-es service descriptor into a @grpc/grpc-js service definition,
 * which grpc-js needs for `server.addService` and `makeGenericClientConstructor`.
 * There is no official adapter; this one maps each method to its path
 * `/package.Service/Method`, its streaming kinds, and binary (de)serializers.
 *
 * Method keys are the descriptor's local names (lowerCamelCase, e.g. `join`, `upload`).
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializerFor(method.input),
      requestDeserialize: deserializerFor(method.input),
      responseSerialize: serializerFor(method.output),
      responseDeserialize: deserializerFor(method.output),
      originalName: method.name,
    };
  }
  return definition;
}

function serializerFor<Desc extends DescMessage>(schema: Desc): (value: unknown) => Buffer {
  return (value: unknown) => {
    const message = value as MessageShape<Desc>;
    const bytes = toBinary(schema, isMessageOf(schema, message) ? message : create(schema, message as never));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializerFor<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

function isMessageOf(schema: DescMessage, value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { $typeName?: string }).$typeName === schema.typeName;
}
