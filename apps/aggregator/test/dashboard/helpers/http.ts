import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is; `chunked` sends it without a Content-Length. */
  body?: string | Buffer;
  chunked?: boolean;
  /** The CA to trust for https URLs. */
  ca?: Buffer;
}

/** One HTTP(S) request with node's own client (no cookie jar, no redirects followed). */
export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = { ...options.headers };
  if (options.body !== undefined && options.chunked !== true) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = send(target, { method: options.method ?? 'GET', headers, ...(options.ca !== undefined ? { ca: options.ca } : {}) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A url-encoded form post. */
export function postForm(url: string, fields: Record<string, string>, options: RequestOptions = {}): Promise<Answer> {
  return request(url, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The `name=value` part of a Set-Cookie header, to send back as Cookie. */
export function cookieOf(answer: Answer): string {
  const setCookie = answer.headers['set-cookie']?.[0];
  if (setCookie === undefined) throw new Error(`no Set-Cookie in a ${answer.status} answer`);
  return setCookie.split(';')[0] as string;
}

/** Logs in with `token`; the cookie to send back. */
export async function login(base: string, token: string, options: RequestOptions = {}): Promise<string> {
  const answer = await postForm(`${base}login`, { token, next: '/' }, options);
  if (answer.status !== 303) throw new Error(`login answered ${answer.status}: ${answer.body}`);
  return cookieOf(answer);
}
