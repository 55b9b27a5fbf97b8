import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardError } from './dashboard-error.ts';

/** One request being answered: its parsed URL and the path's parameters. */
export interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  /** Path parameters by name, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export type Handler = (exchange: Exchange) => Promise<void> | void;

export const METHODS = ['GET', 'POST'] as const;
export type Method = (typeof METHODS)[number];

/** A path (`:name` segments are parameters) and its handler per method; HEAD is answered as GET. */
export interface Route {
  readonly path: string;
  readonly methods: Partial<Record<Method, Handler>>;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** Longest request target taken (a longer one: 400, before any parsing). */
const MAX_TARGET_LENGTH = 2048;

/**
 * Matches requests to routes: the handler, or 404 for a path no route has, 405 (with the allowed
 * methods) for a method the path does not take, 400 for a malformed target or parameter.
 */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { ...route, names, pattern: new RegExp(`^${source.replace(/\./g, '\\.')}$`) };
    });
  }

  /** The exchange and its handler for a request. */
  route(request: IncomingMessage, response: ServerResponse): { exchange: Exchange; handler: Handler } {
    const target = request.url ?? '/';
    if (target.length > MAX_TARGET_LENGTH || !target.startsWith('/')) throw new DashboardError('bad_request', 'malformed request target');
    const url = new URL(target, 'http://dashboard');
    for (const route of this.routes) {
      const match = route.pattern.exec(url.pathname);
      if (match === null) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeParameter(match[i + 1] as string)]));
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const handler = route.methods[method as Method];
      if (handler === undefined) {
        const allow = Object.keys(route.methods).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        throw new DashboardError('method_not_allowed', `${request.method ?? '?'} is not allowed on ${url.pathname}`, { allow });
      }
      return { exchange: { request, response, url, params }, handler };
    }
    throw new DashboardError('not_found', `no page at ${url.pathname}`);
  }
}

function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (error: unknown) {
    throw new DashboardError('bad_request', 'malformed percent-encoding in the path', { cause: error });
  }
}
