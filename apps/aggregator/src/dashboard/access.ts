import type { Principal } from '../auth.ts';

/**
 * Who may use the dashboard and read which run: the one place that decides it. Today an admin
 * token (or the anonymous admin when auth is off) reads every run and a node token reads none;
 * run-scoped grants (a `reader` role, per-run grants) extend these two functions and nothing else.
 */

/** Whether `principal` may log in to the dashboard at all. */
export function mayUseDashboard(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** Whether `principal` may see run `runId` (its nodes, progress, CKA table and PCA). */
export function mayRead(principal: Principal, _runId: string): boolean {
  return principal.role === 'admin';
}
