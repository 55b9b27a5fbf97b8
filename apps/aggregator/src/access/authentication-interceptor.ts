import { ServerInterceptingCall } from '@grpc/grpc-js';
import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor, ServerMethodDefinition } from '@grpc/grpc-js';
import type { CallStatus } from '@rlsa/proto';

/** A call's transport security: the verified client certificate under mTLS (grpc-js does not export the type by name). */
export type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/** What the interceptor asks of the service edge. */
export interface CallAuthentication<P> {
  /** Whether calls to this method path are the edge's to authenticate (health and reflection are not). */
  guards(path: string): boolean;
  /** The call's principal from its metadata and its connection's TLS state; throws to refuse the call. */
  authenticate(metadata: Metadata, auth: AuthContext, path: string): P;
  /** The status a refusal ends the call with (counted and logged by the edge). */
  refuse(error: unknown, path: string): CallStatus;
}

/**
 * A grpc-js server interceptor that authenticates each call when its metadata arrives, before a
 * byte of its message is read. grpc-js keeps a call's HTTP/2 stream paused until the handler asks
 * for the first message, which it does only once the metadata went through (`next`); a refused
 * call is answered at once (a trailers-only response) and never passed on, so its stream is not
 * read into a message: grpc-js then drains and discards whatever the client still sends. An
 * anonymous caller thus cannot make the server buffer a message (up to the receive limit, 64 MiB)
 * by announcing one. The principal of an accepted call is kept for its handler (`principals`, keyed
 * by the metadata object the handler receives).
 */
export function authenticationInterceptor<P extends object>(edge: CallAuthentication<P>, principals: WeakMap<Metadata, P>): ServerInterceptor {
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface): ServerInterceptingCall => {
    if (!edge.guards(method.path)) return new ServerInterceptingCall(call);
    const intercepted: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            let principal: P;
            try {
              principal = edge.authenticate(metadata, call.getAuthContext(), method.path);
            } catch (error: unknown) {
              intercepted.sendStatus(edge.refuse(error, method.path));
              return;
            }
            principals.set(metadata, principal);
            pass(metadata);
          },
        });
      },
    });
    return intercepted;
  };
}
