import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { assertSafeName } from './names.ts';
import { OpsError } from './ops-error.ts';
import { writeFileAtomic } from './private-file.ts';

/** What a token lets its holder do: upload as its node (`node`), or manage runs (`admin`). */
export type TokenRole = 'node' | 'admin';

/** One entry of the aggregator's tokens file (interfaces.md): the token itself is never stored. */
export interface TokenEntry {
  readonly subject: string;
  readonly role: TokenRole;
  /** Lower-case hex SHA-256 of the token's UTF-8 bytes. */
  readonly sha256: string;
}

/** A fresh bearer token: 32 random bytes as base64url (43 characters, 256 bits). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hex SHA-256 over the token's UTF-8 bytes: what the tokens file stores and the aggregator compares. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reads a tokens file (YAML or JSON, `tokens: [{subject, role, sha256}]`); a missing file is an empty list. */
export function readTokensFile(path: string): TokenEntry[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new OpsError('invalid_file', `${path} is not valid YAML or JSON`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return [];
  const list = (parsed as { tokens?: unknown }).tokens;
  if (typeof parsed !== 'object' || !Array.isArray(list)) throw new OpsError('invalid_file', `${path} has no "tokens:" list`);
  return list.map((item: unknown, index) => {
    const entry = item as Partial<Record<keyof TokenEntry, unknown>> | null;
    const ok =
      entry !== null &&
      typeof entry === 'object' &&
      typeof entry.subject === 'string' &&
      (entry.role === 'node' || entry.role === 'admin') &&
      typeof entry.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(entry.sha256);
    if (!ok) throw new OpsError('invalid_file', `${path}: tokens[${index}] needs subject, role (node|admin) and a 64-hex-digit sha256`);
    return { subject: entry.subject as string, role: entry.role as TokenRole, sha256: entry.sha256 as string };
  });
}

/** Writes the tokens file atomically, mode 0600; JSON when the name ends in `.json`, YAML otherwise. */
export function writeTokensFile(path: string, entries: readonly TokenEntry[]): void {
  const document = { tokens: entries.map((entry) => ({ subject: entry.subject, role: entry.role, sha256: entry.sha256 })) };
  const text = path.endsWith('.json')
    ? `${JSON.stringify(document, null, 2)}\n`
    : `# rlsa aggregator tokens: sha256 of each bearer token (the tokens themselves are not stored)\n${YAML.stringify(document)}`;
  writeFileAtomic(path, text);
}

export interface AddTokenOptions {
  readonly role?: TokenRole;
  /** Drop the subject's existing tokens (rotation with a cut-over). */
  readonly replace?: boolean;
  /** Keep the subject's existing tokens beside the new one (rotation with an overlap). */
  readonly keep?: boolean;
}

/**
 * Generates a token for `subject`, appends its hash to the tokens file and returns the token, which
 * exists nowhere else afterwards: the caller prints it once. A subject that already has a token needs
 * `replace` (old tokens stop working at the aggregator's next reload) or `keep` (both work until
 * `removeTokens`), so that a typo cannot silently lock a node out.
 */
export function addToken(path: string, subject: string, options: AddTokenOptions = {}): { token: string; entry: TokenEntry } {
  assertSafeName(subject, 'token subject');
  if (options.replace === true && options.keep === true) throw new OpsError('invalid_argument', '--replace and --keep exclude each other');
  const role = options.role ?? 'node';
  const entries = readTokensFile(path);
  const existing = entries.filter((entry) => entry.subject === subject);
  if (existing.length > 0 && options.replace !== true && options.keep !== true) {
    throw new OpsError('already_exists', `${subject} already has a token in ${path}: pass --replace to rotate it, or --keep to add a second one`);
  }
  if (existing.some((entry) => entry.role !== role)) {
    throw new OpsError('invalid_argument', `${subject} has a token with role ${existing[0]?.role}; one subject holds one role`);
  }
  const token = generateToken();
  const entry: TokenEntry = { subject, role, sha256: hashToken(token) };
  const kept = options.replace === true ? entries.filter((other) => other.subject !== subject) : entries;
  writeTokensFile(path, [...kept, entry]);
  return { token, entry };
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
