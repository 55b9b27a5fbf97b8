import { create, toBinary } from '@bufbuild/protobuf';
import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { AggregatorService, UploadChunkSchema, grpcServiceDefinition } from '@rlsa/proto';
import type { UploadAck } from '@rlsa/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';

/**
 * A bare grpc-js client of AggregatorService, for sending what @rlsa/client refuses to send:
 * hand-made chunks with wrong shapes, NaN, gaps, and bytes that are not a message at all.
 */
export function rawAggregatorClient(address: string): Client & Record<string, (...args: unknown[]) => unknown> {
  const base = grpcServiceDefinition(AggregatorService);
  // Upload sends pre-serialized Buffers as they are (so malformed bytes can be sent).
  const upload = base['upload'];
  if (upload === undefined) throw new Error('no upload method');
  const definition = {
    ...base,
    upload: { ...upload, requestSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : upload.requestSerialize(value)) },
  };
  const Ctor = makeGenericClientConstructor(definition, 'AggregatorService');
  return new Ctor(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as unknown as Client &
    Record<string, (...args: unknown[]) => unknown>;
}

export interface UploadOutcome {
  acks: UploadAck[];
  /** gRPC status code of the stream's end (0 = OK). */
  code: number;
  details: string;
}

/** Sends messages (UploadChunk inits or raw Buffers) on one Upload stream and collects acks and the final status. */
export function rawUpload(
  client: ReturnType<typeof rawAggregatorClient>,
  messages: readonly (MessageInitShape<typeof UploadChunkSchema> | Buffer)[],
  token?: string,
): Promise<UploadOutcome> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const call = (client['upload'] as (m: Metadata) => ClientDuplexStream<unknown, UploadAck>)(metadata);
  const acks: UploadAck[] = [];
  return new Promise((resolve) => {
    call.on('data', (ack: UploadAck) => acks.push(ack));
    call.on('error', (error: ServiceError) => resolve({ acks, code: error.code, details: error.details }));
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code === 0) resolve({ acks, code: 0, details: s.details });
    });
    for (const message of messages) {
      call.write(Buffer.isBuffer(message) ? message : Buffer.from(toBinary(UploadChunkSchema, create(UploadChunkSchema, message))));
    }
    call.end();
  });
}
