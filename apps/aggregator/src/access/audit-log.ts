import type { Logger } from 'pino';
import type { Principal } from '../auth.ts';

/** The admin actions the audit log records (one JSON line each, `msg: "audit"`). */
export const AUDITED_ACTIONS = ['CreateRun', 'CloseRun', 'DeleteRun', 'UploadAnchorSet', 'ReloadTokens'] as const;
export type AuditedAction = (typeof AUDITED_ACTIONS)[number];

/** The message of every audit line: `grep '"msg":"audit"'` finds them all. */
export const AUDIT_MESSAGE = 'audit';

/**
 * Writes one audit line: who (the token's subject; `*` when authentication is off), what (the
 * action), which run, and what came of it. Logged at info level, whatever else the log level hides
 * at debug.
 */
export function audit(log: Logger, who: Principal | string, action: AuditedAction, details: Readonly<Record<string, unknown>> = {}): void {
  const subject = typeof who === 'string' ? who : who.subject;
  log.info({ audit: true, who: subject, action, ...details }, AUDIT_MESSAGE);
}
