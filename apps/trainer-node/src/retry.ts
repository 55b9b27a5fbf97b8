/** Retry policy: `attempts` tries after the first, delays with exponential backoff and full jitter. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 250, maxDelayMs: 8000 };

/**
 * Delay before retry number `attempt` (0-based): uniform in [0, min(max, initial · 2^attempt)]
 * ("full jitter"), so that nodes that failed together do not come back together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.round(random() * cap);
}

/** gRPC statuses worth retrying: the aggregator is away, overloaded or the call was cut. */
const RETRYABLE_CODES = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'CANCELLED', 'UNKNOWN', 'INTERNAL']);

/** Whether an error (an AggregatorCallError or anything with a gRPC status `code`) is transient. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, or the policy's attempts are used up;
 * `onRetry` hears each transient failure and the delay before the next try.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error: unknown) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const delay = backoffDelay(attempt, policy);
      onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
