import type { Metadata } from '@grpc/grpc-js';
import { grantsAdmin, parseTokenEntries } from '@rlsa/core';
import type { Grant, TokenEntry } from '@rlsa/core';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { AggregatorError } from './errors.ts';

export type { Grant, TokenEntry } from '@rlsa/core';

/** Who is calling: the subject a token names (a node id, an operator's or an analyst's name) and what the token grants. */
export interface Principal {
  readonly subject: string;
  readonly grants: readonly Grant[];
  /** True when auth is off (no tokens file): every caller acts as an admin. */
  readonly anonymous: boolean;
}

/** Hex SHA-256 of a token, as the tokens file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Reads a tokens file (YAML or JSON): `tokens: [{ subject, sha256, grants: [admin | node:<run> |
 * reader:<run> | reference:<run>] }]` (`*` for every run); an entry of the first format, `{ subject,
 * role: node|admin, sha256 }`, is read as `LEGACY_ROLE_GRANTS` says. FAILED_PRECONDITION naming the
 * file and the entry otherwise.
 */
export function loadTokensFile(path: string): TokenEntry[] {
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read tokens file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (parsed === null || parsed === undefined) throw new AggregatorError('failed_precondition', `tokens file ${path} has no "tokens" list`);
    return parseTokenEntries(parsed, `tokens file ${path}`);
  } catch (error: unknown) {
    throw AggregatorError.from(error, 'failed_precondition');
  }
}

const ANONYMOUS: Principal = { subject: '*', grants: [{ kind: 'admin' }], anonymous: true };

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
    return { subject: entry.subject, grants: entry.grants, anonymous: false };
  }
}

/** Whether the principal holds `admin` (the anonymous caller does when auth is off). */
export function isAdmin(principal: Principal): boolean {
  return grantsAdmin(principal.grants);
}
