import type { Metadata } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { AggregatorError } from './errors.ts';

export type Role = 'node' | 'admin';

/** Who is calling: the subject a token binds (a node id, or an operator for admin tokens). */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  /** True when auth is off (no tokens file): every caller acts as admin. */
  readonly anonymous: boolean;
}

/** One entry of the tokens file: `{ subject, role, sha256 }`, the token itself never stored. */
export interface TokenEntry {
  readonly subject: string;
  readonly role: Role;
  /** Lowercase hex SHA-256 of the token. */
  readonly sha256: string;
}

/** Hex SHA-256 of a token, as the tokens file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reads a tokens file (YAML or JSON): `tokens: [{ subject, role: node|admin, sha256 }]`. */
export function loadTokensFile(path: string): TokenEntry[] {
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read tokens file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const list = (parsed as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new AggregatorError('failed_precondition', `tokens file ${path} has no "tokens" list`);
  return list.map((entry: unknown, i) => {
    const { subject, role, sha256 } = (entry ?? {}) as Record<string, unknown>;
    if (typeof subject !== 'string' || subject === '') throw new AggregatorError('failed_precondition', `tokens file ${path}: entry ${i} has no subject`);
    if (role !== 'node' && role !== 'admin') throw new AggregatorError('failed_precondition', `tokens file ${path}: entry ${i} has role ${String(role)} (node or admin)`);
    if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      throw new AggregatorError('failed_precondition', `tokens file ${path}: entry ${i} has no 64-digit hex sha256`);
    }
    return { subject, role, sha256: sha256.toLowerCase() };
  });
}

const ANONYMOUS: Principal = { subject: '*', role: 'admin', anonymous: true };

/**
 * Maps `authorization: Bearer <token>` metadata to a principal. Without entries (no tokens
 * file) auth is off and every caller is an anonymous admin.
 */
export class Authenticator {
  private byHash: Map<string, TokenEntry> | undefined;

  constructor(entries: readonly TokenEntry[] | undefined) {
    this.byHash = entries === undefined ? undefined : new Map(entries.map((e) => [e.sha256, e]));
  }

  /** Swaps in a new token list (token rotation without a restart); auth that is off stays off. */
  replace(entries: readonly TokenEntry[]): void {
    if (this.byHash === undefined) throw new AggregatorError('failed_precondition', 'authentication is off (started without a tokens file)');
    this.byHash = new Map(entries.map((e) => [e.sha256, e]));
  }

  get enabled(): boolean {
    return this.byHash !== undefined;
  }

  /** UNAUTHENTICATED when the token is missing, malformed or unknown. */
  authenticate(metadata: Metadata): Principal {
    if (this.byHash === undefined) return ANONYMOUS;
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || header === '') throw new AggregatorError('unauthenticated', 'missing authorization: Bearer <token>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new AggregatorError('unauthenticated', 'authorization must be "Bearer <token>"');
    const entry = this.byHash.get(hashToken(match[1] as string));
    if (entry === undefined) throw new AggregatorError('unauthenticated', 'unknown token');
    return { subject: entry.subject, role: entry.role, anonymous: false };
  }
}

/** A node may write only as itself; an admin may act for any node. PERMISSION_DENIED otherwise. */
export function authorizeNode(principal: Principal, nodeId: string): void {
  if (principal.role === 'admin') return;
  if (principal.subject !== nodeId) {
    throw new AggregatorError('permission_denied', `token of ${principal.subject} may not act as node ${JSON.stringify(nodeId)}`);
  }
}

export function requireAdmin(principal: Principal, what: string): void {
  if (principal.role !== 'admin') throw new AggregatorError('permission_denied', `${what} needs an admin token`);
}
