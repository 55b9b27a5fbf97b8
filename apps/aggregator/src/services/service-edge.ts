import type { Metadata, ServerInterceptor } from '@grpc/grpc-js';
import type { CallStatus, ServiceEdge } from '@rlsa/proto';
import type { Logger } from 'pino';
import { authenticationInterceptor } from '../access/authentication-interceptor.ts';
import { checkCertificateBinding } from '../access/certificate-binding.ts';
import type { Authenticator, Principal } from '../auth.ts';
import { boundedDetail } from '../client-text.ts';
import { AggregatorError } from '../errors.ts';
import { toAggregatorError, toGrpcStatus } from '../grpc-status.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { PrincipalCalls } from './principal-calls.ts';
import { checkRequestIds } from './request-bounds.ts';

export interface EdgeDeps {
  authenticator: Authenticator;
  metrics: AggregatorMetrics;
  log: Logger;
  /** Aborts when the aggregator drains; its reason is the status open calls end with. */
  shutdown: AbortSignal;
  /** Client certificates are required (mTLS): a token is then bound to its subject's certificate. */
  mtls?: boolean;
  /** Concurrent calls per principal, bounded (none: unbounded). */
  calls?: PrincipalCalls;
}

/** The aggregator's edge: the services' `ServiceEdge` and the server interceptor that authenticates their calls. */
export interface AggregatorEdge extends ServiceEdge<Principal> {
  /** Register on the grpc-js Server (`interceptors`): calls are authenticated on their metadata, before their message is read. */
  readonly interceptor: ServerInterceptor;
}

/** The gRPC packages whose calls the edge authenticates (grpc.health.v1 and reflection answer anyone). */
const GUARDED_PATH = /^\/rlsa\.v2\./;

/** The reason open calls end with when the aggregator drains (UNAVAILABLE: the node resumes elsewhere or later). */
export function shuttingDown(): AggregatorError {
  return new AggregatorError('unavailable', 'aggregator shutting down; resume after the last acknowledged chunk');
}

/**
 * The aggregator's service edge, shared by its services: a call is authenticated by the interceptor
 * from its metadata (and, under mTLS, its client certificate) before its message is read
 * (UNAVAILABLE while draining); the handler gets that principal; a refusal is counted, logged (an
 * internal error with its stack) and turned into its gRPC status, here only. What a principal may
 * do is the access policy's (`access/access-policy.ts`), asked by each handler.
 */
export function aggregatorEdge(deps: EdgeDeps): AggregatorEdge {
  const principals = new WeakMap<Metadata, Principal>();
  const interceptor = authenticationInterceptor<Principal>(
    {
      guards: (path) => GUARDED_PATH.test(path),
      authenticate: (metadata, auth) => {
        if (deps.shutdown.aborted) throw new AggregatorError('unavailable', 'aggregator shutting down');
        const principal = deps.authenticator.authenticate(metadata);
        checkCertificateBinding(principal, auth, deps.mtls === true);
        return principal;
      },
      refuse: (error, path) => refuse(deps, methodName(path), error),
    },
    principals,
  );
  return {
    interceptor,
    shutdown: deps.shutdown,
    authenticate: (metadata: Metadata, method): Principal => {
      if (deps.shutdown.aborted) throw new AggregatorError('unavailable', 'aggregator shutting down');
      const principal = principals.get(metadata);
      // The interceptor runs for every call of the guarded services: a call without its principal is a wiring bug.
      if (principal === undefined) throw new AggregatorError('internal', `${method.name} reached its handler without the authentication interceptor`);
      return principal;
    },
    admit: (principal, method) => deps.calls?.admit(principal, method.name) ?? (() => {}),
    inspect: (request) => checkRequestIds(request),
    toStatus: (error, method) => refuse(deps, method.name, error),
    malformed: (detail) => new AggregatorError('invalid_argument', detail),
  };
}

/** `Join` of `/rlsa.v2.AggregatorService/Join`. */
function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function refuse(deps: EdgeDeps, method: string, error: unknown): CallStatus {
  const e = toAggregatorError(error);
  deps.metrics.rejections.inc({ method, reason: e.code });
  if (e.code === 'internal') deps.log.error({ err: e, method }, 'internal error');
  else deps.log.debug({ method, code: e.code, reason: boundedDetail(e.message) }, 'request refused');
  return toGrpcStatus(e);
}
