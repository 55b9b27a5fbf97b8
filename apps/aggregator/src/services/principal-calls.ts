import type { Principal } from '../auth.ts';
import { quotePrefix } from '../client-text.ts';
import { AggregatorError } from '../errors.ts';

/**
 * Concurrent calls per principal (the subject a token binds), at most: one token cannot hold
 * every stream and worker of the aggregator. Auth off (anonymous callers, development) has no
 * principals to tell apart, so no bound: only the per-connection stream limit applies there.
 */
export class PrincipalCalls {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerPrincipal: number) {}

  /** Counts a call of `principal`; RESOURCE_EXHAUSTED over the bound. Returns the release (idempotent). */
  admit(principal: Principal, method: string): () => void {
    if (principal.anonymous) return () => {};
    const key = principal.subject;
    const current = this.open.get(key) ?? 0;
    if (current >= this.maxPerPrincipal) {
      throw new AggregatorError(
        'resource_exhausted',
        `${quotePrefix(key)} has ${current} calls open, the most one principal may have (${method} refused); end some or retry later`,
      );
    }
    this.open.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  /** Calls open by `subject` (a metric and the tests). */
  openCalls(subject: string): number {
    return this.open.get(subject) ?? 0;
  }
}
