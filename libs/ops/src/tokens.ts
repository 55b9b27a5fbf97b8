import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { EVERY_RUN, formatGrant, parseGrant, parseTokenEntries } from '@rlsa/core';
import type { Grant, TokenEntry } from '@rlsa/core';
import { assertSafeName } from './names.ts';
import { OpsError } from './ops-error.ts';
import { writeFileAtomic } from './private-file.ts';

export type { Grant, TokenEntry } from '@rlsa/core';

/** The grants of `rlsa tokens add` without any: a node of every run, what a node token was before grants. */
export const DEFAULT_GRANTS: readonly Grant[] = [{ kind: 'run', role: 'node', runId: EVERY_RUN }];

/** A fresh bearer token: 32 random bytes as base64url (43 characters, 256 bits). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hex SHA-256 over the token's UTF-8 bytes: what the tokens file stores and the aggregator compares. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Reads a tokens file (YAML or JSON, `tokens: [{subject, sha256, grants: [...]}]`; entries of the first
 * format, `{subject, role, sha256}`, are read with their grants: see `parseTokenEntries`); a missing
 * file is an empty list.
 */
export function readTokensFile(path: string): TokenEntry[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new OpsError('invalid_file', `${path} is not valid YAML or JSON`, { cause: error });
  }
  try {
    return parseTokenEntries(parsed, path);
  } catch (error: unknown) {
    throw OpsError.from(error, 'invalid_file');
  }
}

/** Writes the tokens file atomically, mode 0600, every entry with its grants; JSON when the name ends in `.json`, YAML otherwise. */
export function writeTokensFile(path: string, entries: readonly TokenEntry[]): void {
  const document = { tokens: entries.map((entry) => ({ subject: entry.subject, sha256: entry.sha256, grants: entry.grants.map(formatGrant) })) };
  const text = path.endsWith('.json')
    ? `${JSON.stringify(document, null, 2)}\n`
    : `# rlsa aggregator tokens: sha256 of each bearer token (the tokens themselves are not stored) and what it grants\n${YAML.stringify(document)}`;
  writeFileAtomic(path, text);
}

export interface AddTokenOptions {
  /**
   * What the token grants (`admin`, `node:<run>`, `reader:<run>`, `reference:<run>`, `*` for every
   * run). Default: a new subject gets `DEFAULT_GRANTS`; a rotated one (`replace`, `keep`) keeps its grants.
   */
  readonly grants?: readonly string[];
  /** Drop the subject's existing tokens (rotation with a cut-over). */
  readonly replace?: boolean;
  /** Keep the subject's existing tokens beside the new one (rotation with an overlap). */
  readonly keep?: boolean;
}

/**
 * Generates a token for `subject`, appends its hash and grants to the tokens file and returns the
 * token, which exists nowhere else afterwards: the caller prints it once. A subject that already has a
 * token needs `replace` (old tokens stop working at the aggregator's next reload) or `keep` (both work
 * until `removeTokens`), so that a typo cannot silently lock a node out; a subject's tokens share one
 * set of grants (`setGrants` changes them).
 */
export function addToken(path: string, subject: string, options: AddTokenOptions = {}): { token: string; entry: TokenEntry } {
  assertSafeName(subject, 'token subject');
  if (options.replace === true && options.keep === true) throw new OpsError('invalid_argument', '--replace and --keep exclude each other');
  const given = options.grants === undefined || options.grants.length === 0 ? undefined : parseGrants(options.grants);
  const entries = readTokensFile(path);
  const existing = entries.filter((entry) => entry.subject === subject);
  if (existing.length > 0 && options.replace !== true && options.keep !== true) {
    throw new OpsError('already_exists', `${subject} already has a token in ${path}: pass --replace to rotate it, or --keep to add a second one`);
  }
  const current = existing[0]?.grants;
  if (options.keep === true && given !== undefined && current !== undefined && !sameGrants(given, current)) {
    throw new OpsError('invalid_argument', `${subject}'s tokens grant ${current.map(formatGrant).join(', ')}; a subject's tokens share their grants (change them with \`rlsa tokens grant\`)`);
  }
  const token = generateToken();
  const entry: TokenEntry = { subject, sha256: hashToken(token), grants: given ?? current ?? DEFAULT_GRANTS };
  const kept = options.replace === true ? entries.filter((other) => other.subject !== subject) : entries;
  writeTokensFile(path, [...kept, entry]);
  return { token, entry };
}

/** Replaces the grants of every token of `subject` (the tokens stay valid; the aggregator applies them at its next reload); returns how many tokens. */
export function setGrants(path: string, subject: string, grants: readonly string[]): number {
  if (grants.length === 0) throw new OpsError('invalid_argument', 'give at least one --grant (remove the tokens to withdraw everything)');
  const parsed = parseGrants(grants);
  const entries = readTokensFile(path);
  const changed = entries.filter((entry) => entry.subject === subject).length;
  if (changed === 0) throw new OpsError('not_found', `no token of ${subject} in ${path}`);
  writeTokensFile(
    path,
    entries.map((entry) => (entry.subject === subject ? { ...entry, grants: parsed } : entry)),
  );
  return changed;
}

function parseGrants(texts: readonly string[]): Grant[] {
  try {
    const grants = texts.map(parseGrant);
    return grants.filter((grant, i) => grants.findIndex((other) => formatGrant(other) === formatGrant(grant)) === i);
  } catch (error: unknown) {
    throw OpsError.from(error, 'invalid_argument');
  }
}

function sameGrants(a: readonly Grant[], b: readonly Grant[]): boolean {
  const text = (grants: readonly Grant[]): string => grants.map(formatGrant).sort().join(',');
  return text(a) === text(b);
}

/** Removes a subject's tokens (all of them, or the one whose hash starts with `sha256Prefix`); returns how many. */
export function removeTokens(path: string, subject: string, options: { sha256Prefix?: string } = {}): number {
  const entries = readTokensFile(path);
  const prefix = options.sha256Prefix?.toLowerCase();
  const matches = (entry: TokenEntry): boolean => entry.subject === subject && (prefix === undefined || entry.sha256.startsWith(prefix));
  const removed = entries.filter(matches).length;
  if (removed === 0) throw new OpsError('not_found', `no token of ${subject}${prefix === undefined ? '' : ` with hash ${prefix}…`} in ${path}`);
  writeTokensFile(path, entries.filter((entry) => !matches(entry)));
  return removed;
}
