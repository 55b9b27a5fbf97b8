import { randomBytes } from 'node:crypto';
import type { Principal } from '../auth.ts';

/** A logged-in browser: who it is and until when. */
export interface Session {
  readonly id: string;
  readonly principal: Principal;
  readonly expiresAtMs: number;
}

export interface SessionLimits {
  /** Sessions kept at most; a login beyond it ends the oldest session. */
  readonly maxSessions: number;
  /** A session's lifetime from its login. */
  readonly ttlMs: number;
}

/**
 * The dashboard's sessions: a random id (256 bits, base64url) per login, mapped to the principal
 * its token resolved to, so that the cookie never carries the token. Bounded: expired sessions
 * are dropped on every login, and past `maxSessions` the oldest goes (a Map iterates in insertion
 * order, which is login order).
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for `principal`. */
  open(principal: Principal): Session {
    this.dropExpired();
    while (this.sessions.size >= this.limits.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const session: Session = { id: randomBytes(32).toString('base64url'), principal, expiresAtMs: this.now() + this.limits.ttlMs };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of that id, if any (an expired one is removed). */
  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session (the tokens were reloaded: each browser logs in again with a token that is still valid). */
  clear(): void {
    this.sessions.clear();
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAtMs <= now) this.sessions.delete(id);
  }
}
