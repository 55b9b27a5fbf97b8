import { describe, expect, it } from 'vitest';
import { TRANSIENT_STATUSES, backoffDelay, isRetryable, withRetry } from '../src/index.ts';

const noSleep = (): Promise<void> => Promise.resolve();
const failure = (code: string): Error => Object.assign(new Error(code), { code });

describe('the client retry policy', () => {
  it('backs off exponentially with full jitter: uniform in [0, min(max, initial · 2^attempt)]', () => {
    const policy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, policy, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(10, policy, () => 0.999999)).toBe(1000);
    expect(backoffDelay(2, policy, () => 0)).toBe(0);
  });

  it('retries UNAVAILABLE by default, the statuses a policy names otherwise, and nothing else', () => {
    const policy = { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 };
    expect(isRetryable(failure('UNAVAILABLE'), policy)).toBe(true);
    expect(isRetryable(failure('INTERNAL'), policy)).toBe(false);
    expect(isRetryable(failure('INTERNAL'), { ...policy, retryOn: TRANSIENT_STATUSES })).toBe(true);
    expect(isRetryable(failure('FAILED_PRECONDITION'), { ...policy, retryOn: TRANSIENT_STATUSES })).toBe(false);
    expect(isRetryable(new Error('no code'), policy)).toBe(false);
  });

  it('gives up after the attempts, at once on a status it does not retry, and once the signal aborted', async () => {
    const policy = { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 };
    let calls = 0;
    const retried: number[] = [];
    const value = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw failure('UNAVAILABLE');
        return 'ok';
      },
      policy,
      (_error, attempt) => {
        retried.push(attempt);
      },
      noSleep,
    );
    expect({ value, retried }).toEqual({ value: 'ok', retried: [1, 2] });
    calls = 0;
    const unavailable = failure('UNAVAILABLE');
    await expect(withRetry(async () => ((calls += 1), Promise.reject(unavailable)), policy, undefined, noSleep)).rejects.toBe(unavailable);
    expect(calls).toBe(4);
    calls = 0;
    await expect(withRetry(async () => ((calls += 1), Promise.reject(failure('NOT_FOUND'))), policy, undefined, noSleep)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toBe(1);
    calls = 0;
    const aborted = AbortSignal.abort();
    await expect(withRetry(async () => ((calls += 1), Promise.reject(unavailable)), policy, undefined, noSleep, aborted)).rejects.toBe(unavailable);
    expect(calls).toBe(1);
  });
});
