import { Metadata } from '@grpc/grpc-js';
import type { NodeStatusView } from '@rlsa/wire';
import type { Logger } from 'pino';
import type { Authenticator, Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';
import { ID_PATTERN } from '../ledger/run-ledger.ts';
import type { RunReads } from '../query/run-reads.ts';
import type { RunDirectory } from '../runs/run-directory.ts';
import { describeGrants } from '../access/access-policy.ts';
import { mayRead, mayUseDashboard } from './access.ts';
import { DashboardError } from './dashboard-error.ts';
import type { DashboardLimits } from './dashboard-limits.ts';
import { EventStreams } from './event-streams.ts';
import { readForm, redirect, sameOrigin, send, sendHtml } from './http-io.ts';
import { liveStatus } from './live-status.ts';
import { loginPage, MAX_TOKEN_LENGTH } from './pages/login-page.ts';
import { runPage } from './pages/run-page.ts';
import { runsPage } from './pages/runs-page.ts';
import type { Viewer } from './pages/layout.ts';
import { ckaSection, pcaSection } from './pages/view-sections.ts';
import type { Exchange, Route } from './router.ts';
import { RunViews } from './run-views.ts';
import { SessionCookie } from './session-cookie.ts';
import { SessionTable } from './session-table.ts';
import { STATIC_ASSETS } from './static-assets.ts';

export interface DashboardDeps {
  readonly runs: RunDirectory;
  readonly reads: RunReads;
  readonly authenticator: Authenticator;
  readonly log: Logger;
  /** Aborts when the aggregator starts draining: live-update streams end, new ones get 503. */
  readonly shutdown: AbortSignal;
}

/** A viewer with a session (none when auth is off). */
interface SignedIn extends Viewer {
  readonly principal: Principal;
  readonly sessionId: string | undefined;
}

/** Where a login returns to: a path on this server only (no scheme, no other host), else the runs page. */
function returnPath(value: string | null): string {
  if (value === null || value.length > 1024 || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  return value;
}

/**
 * The dashboard's pages and what they read, one method per route. Every page but the login and
 * the assets needs a session (or auth off), `mayUseDashboard`, and for a run `mayRead`.
 */
export class DashboardRoutes {
  readonly sessions: SessionTable;
  private readonly cookie: SessionCookie;
  private readonly views: RunViews;
  private readonly streams: EventStreams;
  private readonly stopForgetting: () => void;

  constructor(
    private readonly deps: DashboardDeps,
    private readonly limits: DashboardLimits,
    secure: boolean,
  ) {
    this.sessions = new SessionTable({ maxSessions: limits.maxSessions, ttlMs: limits.sessionTtlMs });
    this.cookie = new SessionCookie(secure);
    this.views = new RunViews(deps.runs, deps.reads, { intervalMs: limits.recomputeIntervalMs, pcaSampleRows: limits.pcaSampleRows });
    this.streams = new EventStreams(limits, deps.shutdown);
    // A deleted run's cached views go with it (its live-update streams end with its watchers).
    this.stopForgetting = deps.runs.onRemoved((runId) => this.views.forget(runId));
  }

  get authOff(): boolean {
    return !this.deps.authenticator.enabled;
  }

  /** Open live-update streams (a gauge for tests and logs). */
  get eventStreams(): number {
    return this.streams.size;
  }

  routes(): Route[] {
    return [
      { path: '/', methods: { GET: (x) => this.runsPage(x) } },
      { path: '/login', methods: { GET: (x) => this.loginForm(x), POST: (x) => this.login(x) } },
      { path: '/logout', methods: { POST: (x) => this.logout(x) } },
      { path: '/runs/:runId', methods: { GET: (x) => this.runPage(x) } },
      { path: '/runs/:runId/events', methods: { GET: (x) => this.events(x) } },
      { path: '/runs/:runId/cka', methods: { GET: (x) => this.cka(x) } },
      { path: '/runs/:runId/pca', methods: { GET: (x) => this.pca(x) } },
      { path: '/runs/:runId/pca.svg', methods: { GET: (x) => this.pcaSvg(x) } },
      { path: '/assets/:name', methods: { GET: (x) => this.asset(x) } },
    ];
  }

  close(): void {
    this.stopForgetting();
    this.sessions.clear();
  }

  /** The signed-in viewer: 401 without a live session, 403 for a principal that may not use the dashboard. */
  viewer(x: Exchange): SignedIn {
    if (this.authOff) return { principal: this.deps.authenticator.authenticate(new Metadata()), authOff: true, sessionId: undefined };
    const session = this.sessions.find(this.cookie.read(x.request));
    if (session === undefined) throw new DashboardError('unauthenticated', 'sign in first');
    if (!mayUseDashboard(session.principal)) throw new DashboardError('forbidden', `${session.principal.subject} may not use the dashboard`);
    return { principal: session.principal, authOff: false, sessionId: session.id };
  }

  /** The run of the path, when the viewer may read it: 404 for no such run, 403 when not allowed. */
  private readableRun(x: Exchange, viewer: SignedIn): string {
    const runId = x.params['runId'] ?? '';
    if (!ID_PATTERN.test(runId) || this.deps.runs.find(runId) === undefined) throw new DashboardError('not_found', `no run ${JSON.stringify(runId.slice(0, 64))}`);
    if (!mayRead(viewer.principal, runId)) throw new DashboardError('forbidden', `${viewer.principal.subject} may not read run ${runId}`);
    return runId;
  }


  private runsPage(x: Exchange): void {
    const viewer = this.viewer(x);
    const readable = this.deps.runs.listRuns().filter((run) => run.state !== 'deleted' && mayRead(viewer.principal, run.config.runId));
    sendHtml(x.response, 200, runsPage(viewer, readable));
  }

  private runPage(x: Exchange): void {
    const viewer = this.viewer(x);
    const runId = this.readableRun(x, viewer);
    sendHtml(x.response, 200, runPage(viewer, this.deps.runs.status(runId), lastSeenOf));
  }

  private async events(x: Exchange): Promise<void> {
    const viewer = this.viewer(x);
    const runId = this.readableRun(x, viewer);
    const { runs } = this.deps;
    await this.streams.serve(x.response, {
      watch: (signal) => runs.run(runId).changes.watch(signal),
      status: () => liveStatus(runs.status(runId), lastSeenOf),
      allowed: () => viewer.sessionId === undefined || this.sessions.find(viewer.sessionId) !== undefined,
    });
  }

  private async cka(x: Exchange): Promise<void> {
    const runId = this.readableRun(x, this.viewer(x));
    const evaluation = await this.views.evaluation(runId);
    const reference = this.deps.runs.status(runId).nodes.find((node) => node.nodeId === evaluation.value.referenceNodeId);
    sendHtml(x.response, 200, ckaSection(runId, evaluation, reference?.finished === true));
  }

  private async pca(x: Exchange): Promise<void> {
    const runId = this.readableRun(x, this.viewer(x));
    sendHtml(x.response, 200, pcaSection(runId, await this.views.picture(runId)));
  }

  private async pcaSvg(x: Exchange): Promise<void> {
    const runId = this.readableRun(x, this.viewer(x));
    const picture = await this.views.picture(runId);
    send(x.response, 200, 'image/svg+xml; charset=utf-8', picture.value.svg);
  }

  private asset(x: Exchange): void {
    const asset = STATIC_ASSETS.get(x.params['name'] ?? '');
    if (asset === undefined) throw new DashboardError('not_found', `no asset ${JSON.stringify((x.params['name'] ?? '').slice(0, 64))}`);
    const headers = { etag: asset.etag, 'cache-control': 'no-cache' };
    if (x.request.headers['if-none-match'] === asset.etag) {
      send(x.response, 304, asset.contentType, '', headers);
      return;
    }
    send(x.response, 200, asset.contentType, asset.body, headers);
  }

  private loginForm(x: Exchange): void {
    const next = returnPath(x.url.searchParams.get('next'));
    if (this.authOff || this.sessions.find(this.cookie.read(x.request)) !== undefined) return redirect(x.response, next);
    sendHtml(x.response, 200, loginPage(next));
  }

  /** A token posted once: 400 malformed, 401 unknown, 403 a node's; otherwise a session and its cookie. */
  private async login(x: Exchange): Promise<void> {
    if (!sameOrigin(x.request)) throw new DashboardError('forbidden', 'a login form must come from this dashboard');
    if (this.authOff) return redirect(x.response, '/');
    const form = await readForm(x.request, this.limits.maxBodyBytes);
    const next = returnPath(form.get('next'));
    const token = (form.get('token') ?? '').trim();
    if (token === '' || token.length > MAX_TOKEN_LENGTH || /\s/.test(token)) {
      return sendHtml(x.response, 400, loginPage(next, `Give a token: one word of at most ${MAX_TOKEN_LENGTH} characters.`));
    }
    const principal = this.principalOf(token);
    if (principal === undefined) return sendHtml(x.response, 401, loginPage(next, 'Unknown token.'));
    if (!mayUseDashboard(principal)) {
      this.deps.log.info({ subject: principal.subject, grants: describeGrants(principal) }, 'dashboard login refused');
      return sendHtml(x.response, 403, loginPage(next, `This is the token of ${principal.subject} (${describeGrants(principal)}): the dashboard needs a reader or admin token.`));
    }
    const session = this.sessions.open(principal);
    this.deps.log.info({ subject: principal.subject, grants: describeGrants(principal), sessions: this.sessions.size }, 'dashboard login');
    redirect(x.response, next, { 'set-cookie': this.cookie.set(session.id, this.limits.sessionTtlMs) });
  }

  private principalOf(token: string): Principal | undefined {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    try {
      return this.deps.authenticator.authenticate(metadata);
    } catch (error: unknown) {
      if (error instanceof AggregatorError && error.code === 'unauthenticated') return undefined;
      throw error;
    }
  }

  private logout(x: Exchange): void {
    if (!sameOrigin(x.request)) throw new DashboardError('forbidden', 'a logout form must come from this dashboard');
    const id = this.cookie.read(x.request);
    if (id !== undefined) this.sessions.close(id);
    redirect(x.response, '/login', { 'set-cookie': this.cookie.clear() });
  }
}

/** When a node was last seen (its join, last chunk or finish: the run's own record, as WatchRun reports it). */
function lastSeenOf(node: NodeStatusView): number | undefined {
  return node.lastSeenMs > 0 ? node.lastSeenMs : undefined;
}
