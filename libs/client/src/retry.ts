import type { GrpcStatusName } from './client-error.ts';

/**
 * How the client retries an idempotent call (Join, FinishUpload, opening WatchRun, an upload
 * resumed after its last acknowledged chunk): `attempts` tries after the first, delays with
 * exponential backoff and full jitter, on the statuses `retryOn` (default: UNAVAILABLE).
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** gRPC statuses worth another try; default RETRY_ON_UNAVAILABLE. */
  readonly retryOn?: readonly GrpcStatusName[];
}

/** The aggregator is away (restarting, draining, unreachable): the one status every policy retries by default. */
export const RETRY_ON_UNAVAILABLE: readonly GrpcStatusName[] = ['UNAVAILABLE'];

/** Every status that may pass by itself (away, overloaded, cut): for callers that would rather wait than fail. */
export const TRANSIENT_STATUSES: readonly GrpcStatusName[] = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'CANCELLED', 'UNKNOWN', 'INTERNAL'];

/** No retries: a failed call fails at once. */
export const NO_RETRY: RetryPolicy = { attempts: 0, initialDelayMs: 0, maxDelayMs: 0 };

/** An upload's reconnects when neither the upload nor the client names a policy: 10 tries, 200 ms up to 5 s. */
export const DEFAULT_UPLOAD_RETRY: RetryPolicy = { attempts: 10, initialDelayMs: 200, maxDelayMs: 5000 };

/**
 * Delay before retry number `attempt` (0-based): uniform in [0, min(max, initial · 2^attempt)]
 * ("full jitter"), so that nodes that failed together do not come back together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.round(random() * cap);
}

/** Whether `error` (an AggregatorCallError, or anything with a status name as `code`) is one the policy retries. */
export function isRetryable(error: unknown, policy: RetryPolicy): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (policy.retryOn ?? RETRY_ON_UNAVAILABLE).includes(code as GrpcStatusName);
}

/**
 * Runs `fn` until it succeeds, an error the policy does not retry occurs, the attempts are used
 * up, or `signal` aborted; `onRetry` hears each retried failure and the delay before the next try.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error: unknown) {
      if (attempt >= policy.attempts || !isRetryable(error, policy) || signal?.aborted === true) throw error;
      const delay = backoffDelay(attempt, policy);
      await onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
