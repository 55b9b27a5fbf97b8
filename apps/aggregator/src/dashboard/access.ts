import { mayRead as mayReadRun, readsSomeRun } from '../access/access-policy.ts';
import type { Principal } from '../auth.ts';

/**
 * Who may use the dashboard and read which run: the gRPC services' own access policy
 * (`access/access-policy.ts`), so that a token sees the same runs in the browser as over gRPC.
 */

/** Whether `principal` may log in to the dashboard at all: an admin, or a reader of some run. */
export function mayUseDashboard(principal: Principal): boolean {
  return readsSomeRun(principal);
}

/** Whether `principal` may see run `runId` (its nodes, progress, CKA table and PCA): an admin or a reader of it. */
export function mayRead(principal: Principal, runId: string): boolean {
  return mayReadRun(principal, runId);
}
