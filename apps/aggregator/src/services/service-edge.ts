import type { Metadata } from '@grpc/grpc-js';
import type { CallStatus, ServiceEdge } from '@rlsa/proto';
import type { Logger } from 'pino';
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
  /** Concurrent calls per principal, bounded (none: unbounded). */
  calls?: PrincipalCalls;
}

/** The reason open calls end with when the aggregator drains (UNAVAILABLE: the node resumes elsewhere or later). */
export function shuttingDown(): AggregatorError {
  return new AggregatorError('unavailable', 'aggregator shutting down; resume after the last acknowledged chunk');
}

/**
 * The aggregator's service edge, shared by its services: a call is authenticated from its
 * metadata before its handler runs (UNAVAILABLE while draining), and a refusal is counted,
 * logged (an internal error with its stack) and turned into its gRPC status, here only.
 */
export function aggregatorEdge(deps: EdgeDeps): ServiceEdge<Principal> {
  return {
    shutdown: deps.shutdown,
    authenticate: (metadata: Metadata): Principal => {
      if (deps.shutdown.aborted) throw new AggregatorError('unavailable', 'aggregator shutting down');
      return deps.authenticator.authenticate(metadata);
    },
    admit: (principal, method) => deps.calls?.admit(principal, method.name) ?? (() => {}),
    inspect: (request) => checkRequestIds(request),
    toStatus: (error, method) => refuse(deps, method.name, error),
    malformed: (detail) => new AggregatorError('invalid_argument', detail),
  };
}

function refuse(deps: EdgeDeps, method: string, error: unknown): CallStatus {
  const e = toAggregatorError(error);
  deps.metrics.rejections.inc({ method, reason: e.code });
  if (e.code === 'internal') deps.log.error({ err: e, method }, 'internal error');
  else deps.log.debug({ method, code: e.code, reason: boundedDetail(e.message) }, 'request refused');
  return toGrpcStatus(e);
}
