import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type {
  Metadata,
  MethodDefinition,
  Server,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  StatusObject,
  UntypedHandleCall,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import type { Readable, Writable } from 'node:stream';
import { grpcServiceDefinition } from './grpc-service.ts';
import type { HandlerContext, ServiceImpl } from './service-impl.ts';

/** The status a call ends with when its handler throws (what grpc-js sends as the trailers). */
export type CallStatus = Partial<StatusObject> & { code: number; details: string };

/**
 * What a service's edge decides for every call of it, so that handlers only see typed requests
 * and a typed principal: who is calling, which status an error becomes, and when the server drains.
 */
export interface ServiceEdge<P> {
  /** Authenticates a call from its metadata before its handler runs (and before a stream is read); throws to refuse it. */
  authenticate(metadata: Metadata, method: DescMethod): P;
  /**
   * Admits an authenticated call (e.g. a bound on concurrent calls per principal); returns what
   * ends the admission, called once when the call ends however it ends. Throws to refuse the call.
   */
  admit?(principal: P, method: DescMethod): () => void;
  /** Checks each request message before the handler sees it (e.g. bounded id lengths); throws to refuse the call. */
  inspect?(request: unknown, method: DescMethod): void;
  /** The status a thrown error ends the call with: the one place where errors become gRPC statuses. */
  toStatus(error: unknown, method: DescMethod): CallStatus;
  /** The error a request whose bytes do not parse as its message becomes (grpc-js alone would answer INTERNAL). */
  malformed(detail: string, method: DescMethod): unknown;
  /** Aborts when the server drains: every open call's context aborts with its reason. */
  readonly shutdown?: AbortSignal;
}

/** A request whose bytes did not parse (kept so that the handler's turn can refuse it with the edge's error). */
class MalformedRequest {
  constructor(readonly detail: string) {}
}

/** The abort reason of a call the client cancelled: nothing is sent any more. */
class CallCancelled extends Error {}

/**
 * The grpc-js definition of `service` whose request deserializers hand bytes that do not parse
 * to the handler instead of failing the call with INTERNAL (a client's malformed bytes are its own mistake).
 */
export function tolerantServiceDefinition(service: DescService): ServiceDefinition {
  const definition = grpcServiceDefinition(service);
  const tolerant: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error: unknown) {
          return new MalformedRequest(error instanceof Error ? error.message : String(error));
        }
      },
    };
  }
  return tolerant;
}

/**
 * Registers a typed service implementation on a grpc-js server: each handler gets typed requests
 * (streams as `AsyncIterable`, read from the HTTP/2 stream only when pulled) and returns typed
 * responses (streams pulled one message at a time, the next only after `write()` flushed or
 * 'drain' came), with the edge's principal in its context. Anything a handler throws ends the call
 * with the edge's status for it; the handler never touches grpc-js.
 */
export function addServiceToServer<S extends DescService, P>(server: Server, service: S, impl: ServiceImpl<S, P>, edge: ServiceEdge<P>): void {
  server.addService(tolerantServiceDefinition(service), grpcImplementation(service, impl, edge));
}

/** A service ready to register: what grpc-health-check's HealthImplementation and @grpc/reflection offer too. */
export interface ServiceUnit {
  addToServer(server: Server): void;
}

/** A typed implementation with its edge as a unit: built and tested without a port, registered by `addToServer`. */
export function serviceUnit<S extends DescService, P>(service: S, impl: ServiceImpl<S, P>, edge: ServiceEdge<P>): ServiceUnit {
  return { addToServer: (server) => addServiceToServer(server, service, impl, edge) };
}

/** The grpc-js handlers of a typed implementation (see `addServiceToServer`). */
export function grpcImplementation<S extends DescService, P>(service: S, impl: ServiceImpl<S, P>, edge: ServiceEdge<P>): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  const methods = impl as unknown as Record<string, (...args: never[]) => unknown>;
  for (const method of service.methods) {
    const handler = methods[method.localName];
    if (handler === undefined) throw new Error(`${service.typeName}.${method.name} has no handler`);
    handlers[method.localName] = handleCall(method, handler.bind(impl) as AnyHandler<P>, edge);
  }
  return handlers;
}

type AnyHandler<P> = (input: unknown, context: HandlerContext<P>) => unknown;

function handleCall<P>(method: DescMethod, handler: AnyHandler<P>, edge: ServiceEdge<P>): UntypedHandleCall {
  switch (method.methodKind) {
    case 'unary':
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const scope = openCall(call, method, edge, (status) => callback(status));
        if (scope === undefined) return;
        run(async () => callback(null, await handler(wellFormed(call.request, method, edge), scope.context)), scope);
      };
    case 'server_streaming':
      return (call: ServerWritableStream<unknown, unknown>) => {
        const scope = openCall(call, method, edge, (status) => call.emit('error', status));
        if (scope === undefined) return;
        const respond = async (): Promise<void> => {
          await sendAll(call, handler(wellFormed(call.request, method, edge), scope.context) as AsyncIterable<unknown>, scope.context.signal);
          call.end();
        };
        run(respond, scope);
      };
    case 'client_streaming':
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const scope = openCall(call, method, edge, (status) => callback(status));
        if (scope === undefined) return;
        run(async () => callback(null, await handler(readRequests(call, method, edge, scope.context.signal), scope.context)), scope);
      };
    case 'bidi_streaming':
      return (call: ServerDuplexStream<unknown, unknown>) => {
        const scope = openCall(call, method, edge, (status) => call.emit('error', status));
        if (scope === undefined) return;
        const respond = async (): Promise<void> => {
          const requests = readRequests(call, method, edge, scope.context.signal);
          await sendAll(call, handler(requests, scope.context) as AsyncIterable<unknown>, scope.context.signal);
          call.end();
        };
        run(respond, scope);
      };
  }
}

interface CallScope<P> {
  readonly context: HandlerContext<P>;
  /** Ends the call with the edge's status for `error` (unless the client cancelled it: then nobody listens). */
  readonly fail: (error: unknown) => void;
  /** Ends the scope: the context aborts (releasing anything still waiting on it) and stops listening to the server's shutdown. */
  readonly close: () => void;
}

/** Authenticates the call and builds its context; on a refusal, ends the call with the edge's status and returns undefined. */
function openCall<P>(
  call: { readonly metadata: Metadata; on(event: 'cancelled', listener: () => void): unknown },
  method: DescMethod,
  edge: ServiceEdge<P>,
  refuse: (status: CallStatus) => void,
): CallScope<P> | undefined {
  let principal: P;
  let admitted: (() => void) | undefined;
  try {
    principal = edge.authenticate(call.metadata, method);
    admitted = edge.admit?.(principal, method);
  } catch (error: unknown) {
    refuse(edge.toStatus(error, method));
    return undefined;
  }
  const controller = new AbortController();
  let cancelled = false;
  const onShutdown = (): void => controller.abort(edge.shutdown?.reason);
  edge.shutdown?.addEventListener('abort', onShutdown, { once: true });
  call.on('cancelled', () => {
    cancelled = true;
    controller.abort(new CallCancelled(`${method.name} cancelled by the client`));
  });
  return {
    context: { method, principal, metadata: call.metadata, signal: controller.signal },
    fail: (error: unknown) => {
      if (!cancelled) refuse(edge.toStatus(error, method));
    },
    close: () => {
      admitted?.();
      admitted = undefined;
      edge.shutdown?.removeEventListener('abort', onShutdown);
      if (!controller.signal.aborted) controller.abort(new CallCancelled(`${method.name} ended`));
    },
  };
}

/** Runs a call's work, then closes its scope; a failure ends the call with the edge's status. */
function run<P>(work: () => Promise<void>, scope: CallScope<P>): void {
  work().catch(scope.fail).finally(scope.close);
}

/** The request, or the edge's error for bytes that did not parse (or that its `inspect` refuses). */
function wellFormed<P>(request: unknown, method: DescMethod, edge: ServiceEdge<P>): unknown {
  if (request instanceof MalformedRequest) throw edge.malformed(`malformed request message: ${request.detail}`, method);
  edge.inspect?.(request, method);
  return request;
}

/**
 * The call's requests as an async iterable that reads from the stream only when pulled: grpc-js
 * reads the next message from HTTP/2 only while its readable buffer is below its high-water mark,
 * so a handler that stops pulling stops the client (flow control) instead of growing memory.
 * Iteration throws the context's abort reason once the call is cancelled or the server drains.
 */
function readRequests<P>(stream: Readable, method: DescMethod, edge: ServiceEdge<P>, signal: AbortSignal): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      let wake: (() => void) | undefined;
      let ended = false;
      let failure: { error: unknown } | undefined;
      const notify = (): void => {
        const resolve = wake;
        wake = undefined;
        resolve?.();
      };
      const onEnd = (): void => {
        ended = true;
        notify();
      };
      const onError = (error: unknown): void => {
        failure ??= { error };
        notify();
      };
      stream.on('readable', notify);
      stream.on('end', onEnd);
      stream.on('error', onError);
      signal.addEventListener('abort', notify);
      try {
        for (;;) {
          if (signal.aborted) throw signal.reason;
          if (failure !== undefined) throw failure.error;
          const message: unknown = stream.read();
          if (message !== null) {
            yield wellFormed(message, method, edge);
            continue;
          }
          if (ended || stream.readableEnded) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        stream.off('readable', notify);
        stream.off('end', onEnd);
        stream.off('error', onError);
        signal.removeEventListener('abort', notify);
      }
    },
  };
}

/**
 * Writes the handler's responses, pulling the next one only after the last was flushed
 * (`write()` returned true, or 'drain' came). A response pulled after the context aborted is not
 * sent: the iteration ends with the abort reason (the server drains: the edge's status for it).
 */
async function sendAll(call: Writable, responses: AsyncIterable<unknown>, signal: AbortSignal): Promise<void> {
  for await (const response of responses) {
    if (signal.aborted) throw signal.reason;
    if (call.write(response)) continue;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        call.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      call.on('drain', done);
      call.on('close', done);
      signal.addEventListener('abort', done);
    });
  }
}
