import { RUN_ROLES, formatGrant, grantsRunRole } from '@rlsa/core';
import type { RunRole, NodeRoleName } from '@rlsa/core';
import type { NodeReadName } from '@rlsa/wire';
import { isAdmin } from '../auth.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';

/**
 * Who may do what, the one place that decides it (the gRPC services and the dashboard ask here):
 *
 * | what                                   | admin | reader of the run | node / reference of the run           |
 * |----------------------------------------|-------|-------------------|---------------------------------------|
 * | Join                                   | any   | no                | as its subject, in its role's slot    |
 * | Upload, FinishUpload                   | any   | no                | as its subject                        |
 * | ReadMerged, Evaluate, Nearest          | yes   | yes               | when the run's node read policy is MERGED |
 * | WatchRun                               | all   | all               | itself and the run's totals           |
 * | FetchAnchorSet                         | yes   | yes               | yes                                   |
 * | GetRun; ListRuns (the runs it may read)| yes   | yes               | no                                    |
 * | ReadNodeSpace, CreateRun, CloseRun, DeleteRun, UploadAnchorSet | yes | no | no                      |
 * | the dashboard (a run's page)           | yes   | yes               | no                                    |
 *
 * A refusal is PERMISSION_DENIED and is decided before anything changes. A run the caller holds no
 * grant on is refused before it is looked up, so a refusal does not tell whether the run exists.
 */

/** What a refusal says the caller is. */
function who(principal: Principal): string {
  return `token of ${principal.subject}`;
}

function denied(principal: Principal, what: string): AggregatorError {
  return new AggregatorError('permission_denied', `${who(principal)} may not ${what}`);
}

/** Whether the principal holds any role on the run. */
export function hasAnyRunRole(principal: Principal, runId: string): boolean {
  return RUN_ROLES.some((role) => grantsRunRole(principal.grants, runId, role));
}

function holds(principal: Principal, runId: string, role: RunRole): boolean {
  return grantsRunRole(principal.grants, runId, role);
}

/** A node's own grants on a run: node or reference. */
function isParty(principal: Principal, runId: string): boolean {
  return holds(principal, runId, 'node') || holds(principal, runId, 'reference');
}

/** Admin only (creating, closing and deleting runs, node spaces, anchor-set uploads). */
export function requireAdmin(principal: Principal, what: string): void {
  if (!isAdmin(principal)) throw new AggregatorError('permission_denied', `${what} needs an admin token`);
}

/**
 * Join: an admin for any node; otherwise only as the token's subject, as a trainer with a `node`
 * grant on the run or as the reference with a `reference` grant (a node grant never takes the
 * reference slot).
 */
export function requireJoin(principal: Principal, runId: string, nodeId: string, role: NodeRoleName | 'unspecified'): void {
  if (isAdmin(principal)) return;
  const slot: RunRole = role === 'reference' ? 'reference' : 'node';
  if (!holds(principal, runId, slot)) throw denied(principal, `join run ${JSON.stringify(runId)} as ${role === 'reference' ? 'its reference' : 'a trainer'}`);
  requireSelf(principal, nodeId);
}

/** Upload, FinishUpload: an admin for any node; a node or reference of the run as its subject. */
export function requireWriter(principal: Principal, runId: string, nodeId: string): void {
  if (isAdmin(principal)) return;
  if (!isParty(principal, runId)) throw denied(principal, `upload to run ${JSON.stringify(runId)}`);
  requireSelf(principal, nodeId);
}

function requireSelf(principal: Principal, nodeId: string): void {
  if (principal.subject !== nodeId) throw denied(principal, `act as node ${JSON.stringify(nodeId.slice(0, 128))}`);
}

/**
 * ReadMerged, Evaluate, Nearest: an admin or a reader of the run; its nodes when the run's node read
 * policy (looked up only for them) is `merged`.
 */
export function requireResults(principal: Principal, runId: string, nodeRead: () => NodeReadName, what: string): void {
  if (isAdmin(principal) || holds(principal, runId, 'reader')) return;
  if (isParty(principal, runId) && nodeRead() === 'merged') return;
  throw denied(principal, `read the ${what} of run ${JSON.stringify(runId)}`);
}

/** How much of a run's status a caller sees: all of it, or its own node's and the run's totals. */
export type StatusScope = 'all' | 'own-node';

/** WatchRun: admins and readers see every node; a run's nodes see themselves and the totals; others are refused. */
export function watchScope(principal: Principal, runId: string): StatusScope {
  if (mayRead(principal, runId)) return 'all';
  if (isParty(principal, runId)) return 'own-node';
  throw denied(principal, `watch run ${JSON.stringify(runId)}`);
}

/** FetchAnchorSet: any role on the run (a node needs the anchors before it joins). */
export function requireAnyRunRole(principal: Principal, runId: string, what: string): void {
  if (isAdmin(principal) || hasAnyRunRole(principal, runId)) return;
  throw denied(principal, `${what} of run ${JSON.stringify(runId)}`);
}

/** GetRun: an admin or a reader of the run. */
export function requireRead(principal: Principal, runId: string, what: string): void {
  if (!mayRead(principal, runId)) throw denied(principal, `${what} run ${JSON.stringify(runId)}`);
}

/** Whether the principal sees the whole run (its nodes, progress, results): an admin or a reader of it. The dashboard's run pages. */
export function mayRead(principal: Principal, runId: string): boolean {
  return isAdmin(principal) || holds(principal, runId, 'reader');
}

/** Whether the principal reads any run at all: an admin, or a reader of some run. The dashboard's login and ListRuns. */
export function readsSomeRun(principal: Principal): boolean {
  return isAdmin(principal) || principal.grants.some((grant) => grant.kind === 'run' && grant.role === 'reader');
}

/** ListRuns: refused to a token that reads no run (a node's), else the runs it may read. */
export function requireSomeRead(principal: Principal, what: string): void {
  if (!readsSomeRun(principal)) throw new AggregatorError('permission_denied', `${what} needs an admin or reader token (${who(principal)} grants ${describeGrants(principal)})`);
}

/** The principal's grants as the tokens file writes them (for logs and refusal pages). */
export function describeGrants(principal: Principal): string {
  return principal.grants.map(formatGrant).join(', ');
}
