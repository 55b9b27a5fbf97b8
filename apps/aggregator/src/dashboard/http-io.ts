import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { DashboardError } from './dashboard-error.ts';
import type { SafeHtml } from './html.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

type Headers = Record<string, string | readonly string[]>;

/** Sends a whole response with the security headers; nothing is cached unless `headers` says so. */
export function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Headers = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

export function sendHtml(response: ServerResponse, status: number, body: SafeHtml, headers: Headers = {}): void {
  send(response, status, 'text/html; charset=utf-8', body.text, headers);
}

export function sendText(response: ServerResponse, status: number, text: string, headers: Headers = {}): void {
  send(response, status, 'text/plain; charset=utf-8', `${text}\n`, headers);
}

/** 303 See Other: after a form, the browser GETs `location`. */
export function redirect(response: ServerResponse, location: string, headers: Headers = {}): void {
  send(response, 303, 'text/plain; charset=utf-8', `see ${location}\n`, { location, ...headers });
}

/**
 * Reads a url-encoded form of at most `maxBytes`: 415 for another content type, 413 when larger
 * (by its Content-Length before reading, or while reading), 400 when malformed.
 */
export async function readForm(request: IncomingMessage, maxBytes: number): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new DashboardError('unsupported_media_type', 'a form must be application/x-www-form-urlencoded');
  let body: string;
  try {
    body = await getRawBody(request, { limit: maxBytes, encoding: 'utf8', ...(request.headers['content-length'] === undefined ? {} : { length: request.headers['content-length'] }) });
  } catch (error: unknown) {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') throw new DashboardError('payload_too_large', `a form is at most ${maxBytes} bytes`, { cause: error });
    throw new DashboardError('bad_request', `unreadable form: ${(error as Error).message}`, { cause: error });
  }
  return new URLSearchParams(body);
}

/**
 * Whether a form post comes from a page of this origin. Browsers say so in Sec-Fetch-Site; without
 * it, an Origin header must name this host. Under Referrer-Policy: no-referrer a browser sends
 * "Origin: null" even for its own origin, so null (like no Origin: curl, scripts) decides nothing;
 * the SameSite=Strict cookie is the other guard.
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Whether the browser asked for a page (so that a refusal is a page too) rather than a fragment, a stream or an image. */
export function wantsPage(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && request.headers['sec-fetch-dest'] !== 'empty';
}
