import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import type { CallOptions, ChannelCredentials, ChannelOptions, Client, ClientDuplexStream, ClientReadableStream, ClientWritableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { grpcServiceDefinition } from './grpc-service.ts';

/** What each call is made with: its metadata (e.g. the bearer token) and grpc-js options (e.g. a deadline). */
export interface CallSetup {
  readonly metadata: Metadata;
  readonly options: CallOptions;
}

/** A unary call: rejects with grpc-js's ServiceError. */
export type UnaryCall<I extends DescMessage, O extends DescMessage> = (request: MessageShape<I>, setup: CallSetup) => Promise<MessageShape<O>>;
/** A server-streaming call: the typed readable stream (async-iterable; `cancel()` ends it). */
export type ServerStreamingCall<I extends DescMessage, O extends DescMessage> = (request: MessageShape<I>, setup: CallSetup) => ClientReadableStream<MessageShape<O>>;
/** A bidi-streaming call: the typed duplex stream (write() false: wait for 'drain'). */
export type BidiStreamingCall<I extends DescMessage, O extends DescMessage> = (setup: CallSetup) => ClientDuplexStream<MessageShape<I>, MessageShape<O>>;
/**
 * A client-streaming call: the typed writable stream (write() false: wait for 'drain'; `end()`
 * when done) and its one response, which rejects with grpc-js's ServiceError. The server may
 * answer before the requests end: then nothing more needs to be written.
 */
export type ClientStreamingCall<I extends DescMessage, O extends DescMessage> = (setup: CallSetup) => {
  readonly requests: ClientWritableStream<MessageShape<I>>;
  readonly response: Promise<MessageShape<O>>;
};

/** The call shape of one method descriptor, by its kind. */
// prettier-ignore
export type MethodCall<M extends DescMethod> =
    M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? UnaryCall<I, O>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ServerStreamingCall<I, O>
  : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ClientStreamingCall<I, O>
  : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? BidiStreamingCall<I, O>
  : never;

/** A typed client of a whole service, derived from its descriptor; `grpc` is the underlying grpc-js client. */
export type ServiceClient<S extends DescService> = { [K in keyof S['method']]: MethodCall<S['method'][K]> } & { readonly grpc: Client };

type Untyped = Record<string, (...args: unknown[]) => unknown>;

/**
 * A typed grpc-js client of `service` (one generic call per method kind): a new RPC in the proto
 * is a new typed method here, with no code. `options.channelOverride` shares another client's channel.
 */
export function createServiceClient<S extends DescService>(service: S, address: string, credentials: ChannelCredentials, options: ChannelOptions): ServiceClient<S> {
  const Ctor = makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
  const grpc = new Ctor(address, credentials, options);
  const methods = grpc as unknown as Untyped;
  const calls: Record<string, unknown> = { grpc };
  for (const method of service.methods) {
    const call = (methods[method.localName] as (...args: unknown[]) => unknown).bind(grpc);
    calls[method.localName] = typedCall(method, call);
  }
  return calls as ServiceClient<S>;
}

function typedCall(method: DescMethod, call: (...args: unknown[]) => unknown): unknown {
  switch (method.methodKind) {
    case 'unary':
      return (request: unknown, setup: CallSetup) =>
        new Promise((resolve, reject) => {
          call(request, setup.metadata, setup.options, (error: ServiceError | null, response: unknown) => (error === null ? resolve(response) : reject(error)));
        });
    case 'server_streaming':
      return (request: unknown, setup: CallSetup) => call(request, setup.metadata, setup.options);
    case 'bidi_streaming':
      return (setup: CallSetup) => call(setup.metadata, setup.options);
    case 'client_streaming':
      return (setup: CallSetup) => {
        let settle: { resolve: (response: unknown) => void; reject: (error: unknown) => void } | undefined;
        const response = new Promise((resolve, reject) => (settle = { resolve, reject }));
        const requests = call(setup.metadata, setup.options, (error: ServiceError | null, value: unknown) => (error === null ? settle?.resolve(value) : settle?.reject(error)));
        return { requests, response };
      };
  }
}
