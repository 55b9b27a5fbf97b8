import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';

/**
 * What a handler knows of its call besides the request: who is calling (as the service edge
 * authenticated them, before the handler ran), the request metadata, and a signal that aborts
 * when the call ends early (the client cancelled, or the server is draining: its `reason` says which).
 */
export interface HandlerContext<Principal> {
  readonly method: DescMethod;
  readonly principal: Principal;
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
}

/** A unary RPC: one request, one response. */
export type UnaryImpl<I extends DescMessage, O extends DescMessage, P> = (request: MessageShape<I>, context: HandlerContext<P>) => Promise<MessageShape<O>>;

/** A server-streaming RPC: one request, responses pulled one at a time (the next only once the last was flushed). */
export type ServerStreamingImpl<I extends DescMessage, O extends DescMessage, P> = (
  request: MessageShape<I>,
  context: HandlerContext<P>,
) => AsyncIterable<MessageShape<O>>;

/** A client-streaming RPC: requests read only when pulled, one response. */
export type ClientStreamingImpl<I extends DescMessage, O extends DescMessage, P> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: HandlerContext<P>,
) => Promise<MessageShape<O>>;

/** A bidi-streaming RPC: requests read only when pulled; responses pulled once the last was flushed. */
export type BidiStreamingImpl<I extends DescMessage, O extends DescMessage, P> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: HandlerContext<P>,
) => AsyncIterable<MessageShape<O>>;

/** The handler shape of one method descriptor, by its kind (as connect-es's `MethodImpl`). */
// prettier-ignore
export type MethodImpl<M extends DescMethod, P> =
    M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? UnaryImpl<I, O, P>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ServerStreamingImpl<I, O, P>
  : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ClientStreamingImpl<I, O, P>
  : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage } ? BidiStreamingImpl<I, O, P>
  : never;

/**
 * The implementation of a whole service, derived from its generated descriptor: one typed
 * handler per method (as connect-es's `ServiceImpl<T>`). A missing method, a wrong request or
 * response message type, or a stream where a single message belongs does not compile.
 * `P` is the principal type the service edge authenticates.
 */
export type ServiceImpl<S extends DescService, P> = {
  [K in keyof S['method']]: MethodImpl<S['method'][K], P>;
};
