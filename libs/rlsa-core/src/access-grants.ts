import { RlsaError } from './errors.ts';

/**
 * What a bearer token lets its holder do, as the tokens file writes it: `admin` (everything), or a
 * role on a run, `<role>:<run id>` (`*` for every run):
 *
 * - `node:<run>`: join the run as a trainer and upload as the token's subject; read what the run's
 *   node read policy lets nodes read;
 * - `reference:<run>`: the same as the run's reference (a node grant never takes a reference slot);
 * - `reader:<run>`: read the run's results (merged space, evaluation, nearest neighbours, progress)
 *   without taking part: a consortium's analysts.
 *
 * Declared here, below the aggregator (which enforces grants) and the operator tools (which write
 * them), so that both read one grammar.
 */
export const RUN_ROLES = ['node', 'reader', 'reference'] as const;
export type RunRole = (typeof RUN_ROLES)[number];

/** The grant of everything. */
export const ADMIN_GRANT = 'admin';

/** The run id of a grant that applies to every run. */
export const EVERY_RUN = '*';

export type Grant = { readonly kind: 'admin' } | { readonly kind: 'run'; readonly role: RunRole; readonly runId: string };

/** What a grant's run id may be: `*`, or a run id's characters (letters, digits, `.`, `_`, `:`, `-`; at most 128). */
const GRANT_RUN = /^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;

/** Parses `admin` or `<role>:<run id>` (the run id may itself hold colons: the role ends at the first). INVALID_ARGUMENT naming the text otherwise. */
export function parseGrant(text: string): Grant {
  if (text === ADMIN_GRANT) return { kind: 'admin' };
  const colon = text.indexOf(':');
  const role = colon < 0 ? text : text.slice(0, colon);
  const runId = colon < 0 ? '' : text.slice(colon + 1);
  if (!(RUN_ROLES as readonly string[]).includes(role) || !GRANT_RUN.test(runId)) {
    throw new RlsaError(
      'invalid_argument',
      `grant ${JSON.stringify(text.slice(0, 80))} must be "${ADMIN_GRANT}" or <role>:<run id> with a role of ${RUN_ROLES.join(', ')} and a run id or ${EVERY_RUN}`,
    );
  }
  return { kind: 'run', role: role as RunRole, runId };
}

/** The text of a grant (what `parseGrant` reads back). */
export function formatGrant(grant: Grant): string {
  return grant.kind === 'admin' ? ADMIN_GRANT : `${grant.role}:${grant.runId}`;
}

/** Whether `grants` give `role` on `runId` (directly or through `*`); admin is not a run role and is asked separately. */
export function grantsRunRole(grants: readonly Grant[], runId: string, role: RunRole): boolean {
  return grants.some((grant) => grant.kind === 'run' && grant.role === role && (grant.runId === runId || grant.runId === EVERY_RUN));
}

/** Whether `grants` hold `admin`. */
export function grantsAdmin(grants: readonly Grant[]): boolean {
  return grants.some((grant) => grant.kind === 'admin');
}

/**
 * One entry of the aggregator's tokens file: the subject the token acts as (a node id, an operator's
 * or an analyst's name), the SHA-256 of the token (the token itself is never stored) and its grants.
 */
export interface TokenEntry {
  readonly subject: string;
  /** Lower-case hex SHA-256 of the token's UTF-8 bytes. */
  readonly sha256: string;
  readonly grants: readonly Grant[];
}

/**
 * The grants of a tokens-file entry of the first format (`{subject, role, sha256}`, before grants):
 * `role: admin` is `admin`; `role: node` is `node:*`, a node of every run, as it was. The one
 * difference: a reference slot now needs an explicit `reference:<run>` grant, which the first format
 * cannot say (a node token took any run's reference slot: issue 13).
 */
export const LEGACY_ROLE_GRANTS: Readonly<Record<'node' | 'admin', readonly Grant[]>> = {
  admin: [{ kind: 'admin' }],
  node: [{ kind: 'run', role: 'node', runId: EVERY_RUN }],
};

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The entries of a parsed tokens file (`tokens: [{subject, sha256, grants: [...]}]`; an entry of the
 * first format, `{subject, role: node|admin, sha256}`, is read as `LEGACY_ROLE_GRANTS` says). An empty
 * or null document has no entries. INVALID_ARGUMENT naming `where` and the entry otherwise.
 */
export function parseTokenEntries(document: unknown, where: string): TokenEntry[] {
  if (document === null || document === undefined) return [];
  const list = (document as { tokens?: unknown }).tokens;
  if (typeof document !== 'object' || !Array.isArray(list)) throw new RlsaError('invalid_argument', `${where} has no "tokens:" list`);
  return list.map((item: unknown, index) => parseTokenEntry(item, `${where}: tokens[${index}]`));
}

function parseTokenEntry(item: unknown, where: string): TokenEntry {
  if (item === null || typeof item !== 'object') throw new RlsaError('invalid_argument', `${where} is not a mapping`);
  const { subject, sha256, role, grants } = item as Record<string, unknown>;
  if (typeof subject !== 'string' || subject === '') throw new RlsaError('invalid_argument', `${where} has no subject`);
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) throw new RlsaError('invalid_argument', `${where} (${subject}) has no 64-hex-digit sha256`);
  if (role !== undefined && grants !== undefined) throw new RlsaError('invalid_argument', `${where} (${subject}) has both role (the first format) and grants: keep grants`);
  if (role !== undefined) {
    if (role !== 'node' && role !== 'admin') throw new RlsaError('invalid_argument', `${where} (${subject}) has role ${JSON.stringify(role)} (node or admin)`);
    return { subject, sha256: sha256.toLowerCase(), grants: LEGACY_ROLE_GRANTS[role] };
  }
  if (!Array.isArray(grants) || grants.length === 0 || !grants.every((g) => typeof g === 'string')) {
    throw new RlsaError('invalid_argument', `${where} (${subject}) needs grants: a list such as [${ADMIN_GRANT}] or [node:<run>, reader:<run>]`);
  }
  try {
    return { subject, sha256: sha256.toLowerCase(), grants: (grants as string[]).map(parseGrant) };
  } catch (error: unknown) {
    throw new RlsaError('invalid_argument', `${where} (${subject}): ${(error as Error).message}`, { cause: error });
  }
}
