import type { IncomingMessage } from 'node:http';
import { parse, serialize } from 'cookie';

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), Path=/, and under TLS Secure with the `__Host-` prefix (the browser then refuses it over
 * plain HTTP or for another host). It holds a random session id, never the token.
 */
export class SessionCookie {
  readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Host-rlsa_session' : 'rlsa_session';
  }

  /** The Set-Cookie value that stores session `id` for `maxAgeMs`. */
  set(id: string, maxAgeMs: number): string {
    return serialize(this.name, id, { httpOnly: true, secure: this.secure, sameSite: 'strict', path: '/', maxAge: Math.floor(maxAgeMs / 1000) });
  }

  /** The Set-Cookie value that removes it. */
  clear(): string {
    return serialize(this.name, '', { httpOnly: true, secure: this.secure, sameSite: 'strict', path: '/', maxAge: 0 });
  }

  /** The session id the request carries, if any. */
  read(request: IncomingMessage): string | undefined {
    const header = request.headers.cookie;
    if (header === undefined) return undefined;
    return parse(header)[this.name];
  }
}
