import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/security-headers.ts';
import { chunksOf, range, testSpace } from '../helpers.ts';
import { TOKENS, TOKEN_ENTRIES, createRun, startDashboardAggregator } from './helpers/dashboard-aggregator.ts';
import type { DashboardAggregator } from './helpers/dashboard-aggregator.ts';
import { openEventStream } from './helpers/event-stream.ts';
import { cookieOf, login, postForm, request } from './helpers/http.ts';
import type { Answer } from './helpers/http.ts';

const WIDTH = 6;
const PAGE = { accept: 'text/html' };

/** The headers every dashboard answer carries, exactly. */
function expectSecurityHeaders(answer: Answer): void {
  expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  expect(answer.headers['referrer-policy']).toBe('no-referrer');
  expect(answer.headers['x-frame-options']).toBe('DENY');
}

/** The `data-value` cells of the CKA fragment, by subject: [n, linear, debiased]. */
function ckaValues(fragment: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  for (const row of fragment.matchAll(/<tr data-subject="([^"]+)">([\s\S]*?)<\/tr>/g)) {
    rows.set(row[1] as string, [...(row[2] as string).matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1])));
  }
  return rows;
}

describe('the dashboard over HTTP', () => {
  let agg: DashboardAggregator;
  let cookie: string;

  beforeAll(async () => {
    agg = await startDashboardAggregator();
    await createRun(agg, 'r1', WIDTH);
    const admin = agg.client({ token: TOKENS.admin });
    const upload = async (nodeId: string, role: 'trainer' | 'reference', ids: number[], seed: number): Promise<void> => {
      await admin.join({ runId: 'r1', nodeId, role, model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: 'a'.repeat(64), relativeWidth: WIDTH });
      await admin.upload({ runId: 'r1', nodeId, chunks: chunksOf(testSpace(ids, WIDTH, seed), 25) });
    };
    await upload('trainer-a', 'trainer', range(0, 150), 1);
    await upload('trainer-b', 'trainer', range(100, 250), 2);
    await upload('ref', 'reference', range(0, 250), 3);
    await admin.finish('r1', 'ref');
    cookie = await login(agg.base, TOKENS.admin);
  });

  afterAll(async () => {
    await agg?.stop();
  });

  it('sends the strict CSP, nosniff, no referrer and no framing on pages, assets, fragments and refusals', async () => {
    for (const [path, headers] of [['login', {}], ['', { cookie }], ['runs/r1', { cookie }], ['runs/r1/cka', { cookie }], ['assets/dashboard.js', {}], ['nowhere', {}], ['', {}]] as const) {
      const answer = await request(`${agg.base}${path}`, { headers });
      expectSecurityHeaders(answer);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it('loads nothing from elsewhere and has no inline script or style', async () => {
    const page = await request(`${agg.base}runs/r1`, { headers: { cookie } });
    expect(page.status).toBe(200);
    for (const match of page.body.matchAll(/(?:src|href|action)="([^"]*)"/g)) expect(match[1]).toMatch(/^(\/(?!\/)|#)/);
    expect(page.body).not.toMatch(/<script>|<style|\sstyle="|\son[a-z]+="/);
    const script = await request(`${agg.base}assets/dashboard.js`);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await request(`${agg.base}assets/dashboard.js`, { headers: { 'if-none-match': script.headers.etag as string } });
    expect(again.status).toBe(304);
  });

  it('refuses without a session: 401, the login form for a page load, one line for the rest', async () => {
    const page = await request(`${agg.base}runs/r1`, { headers: PAGE });
    expect(page.status).toBe(401);
    expect(page.body).toContain('<form class="login" method="post" action="/login">');
    expect(page.body).toContain('name="next" value="/runs/r1"');
    for (const path of ['', 'runs/r1/events', 'runs/r1/cka', 'runs/r1/pca.svg']) {
      const answer = await request(`${agg.base}${path}`);
      expect(answer.status, path).toBe(401);
      expect(answer.body).toBe('sign in first\n');
    }
    const forged = await request(`${agg.base}`, { headers: { cookie: 'rlsa_session=not-a-session' } });
    expect(forged.status).toBe(401);
  });

  it('logs in with an admin token: 303 to the page asked for, an HttpOnly SameSite=Strict cookie that is not the token', async () => {
    const answer = await postForm(`${agg.base}login`, { token: TOKENS.admin, next: '/runs/r1' });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/runs/r1');
    const setCookie = answer.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^rlsa_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKENS.admin);
    expect(setCookie).not.toContain('Secure');
    const page = await request(`${agg.base}runs/r1`, { headers: { cookie: cookieOf(answer) } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Run <code>r1</code></h1>');
  });

  it('refuses a login with an unknown token (401), a node token (403) or none (400), setting no cookie', async () => {
    const cases = [
      [{ token: 'not-a-token' }, 401, 'Unknown token.'],
      [{ token: TOKENS.node }, 403, 'This is the token of trainer-a (node:*): the dashboard needs a reader or admin token.'],
      [{ token: '' }, 400, 'Give a token'],
      [{ token: 'two words' }, 400, 'Give a token'],
      [{ token: 'x'.repeat(513) }, 400, 'Give a token'],
      [{}, 400, 'Give a token'],
    ] as const;
    for (const [fields, status, message] of cases) {
      const answer = await postForm(`${agg.base}login`, fields);
      expect(answer.status, JSON.stringify(fields).slice(0, 40)).toBe(status);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.body).toContain(message);
    }
  });

  it('returns only to paths of this server after a login', async () => {
    for (const next of ['https://elsewhere.example/', '//elsewhere.example/x', '/\\elsewhere', 'runs/r1']) {
      const answer = await postForm(`${agg.base}login`, { token: TOKENS.admin, next });
      expect(answer.headers.location, next).toBe('/');
    }
  });

  it('answers bad requests with their precise statuses', async () => {
    const statusOf = async (path: string, options: Parameters<typeof request>[1] = {}): Promise<number> => (await request(`${agg.base}${path}`, options)).status;
    expect(await statusOf('runs/no-such-run', { headers: { cookie } })).toBe(404);
    expect(await statusOf('runs/%E0%A4%A', { headers: { cookie } })).toBe(400);
    expect(await statusOf('runs/r1/nothing', { headers: { cookie } })).toBe(404);
    expect(await statusOf('assets/secret.txt')).toBe(404);
    expect(await statusOf('assets/..%2F..%2Fpackage.json')).toBe(404);
    const notAllowed = await request(`${agg.base}runs/r1`, { method: 'DELETE', headers: { cookie } });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.allow).toBe('GET, HEAD');
    expect((await request(`${agg.base}login`, { method: 'PUT' })).headers.allow).toBe('GET, HEAD, POST');
    expect(await statusOf(`${'x'.repeat(3000)}`)).toBe(400);
    const json = await request(`${agg.base}login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' });
    expect(json.status).toBe(415);
    const big = `token=${'x'.repeat(5000)}`;
    const tooLarge = await request(`${agg.base}login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big });
    expect(tooLarge.status).toBe(413);
    const tooLargeChunked = await request(`${agg.base}login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big, chunked: true });
    expect(tooLargeChunked.status).toBe(413);
    const crossSite = await postForm(`${agg.base}login`, { token: TOKENS.admin }, { headers: { origin: 'https://elsewhere.example' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
    const head = await request(`${agg.base}runs/r1`, { method: 'HEAD', headers: { cookie } });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('shows the run and its nodes with their rows', async () => {
    const runs = await request(agg.base, { headers: { cookie } });
    expect(runs.body).toContain('<a href="/runs/r1">r1</a>');
    const page = await request(`${agg.base}runs/r1`, { headers: { cookie } });
    const rows = (nodeId: string): string | undefined => page.body.match(new RegExp(`<tr data-node-id="${nodeId}">.*?data-field="relativeRows">([\\d,]+)<`))?.[1];
    expect([rows('trainer-a'), rows('trainer-b'), rows('ref')]).toEqual(['150', '150', '250']);
    expect(page.body).toContain('<dd data-live="mergedSamples">250</dd>');
  });

  it('serves the CKA table with the values Evaluate returns over gRPC, to the last bit', async () => {
    const evaluation = await agg.client({ token: TOKENS.admin }).evaluate('r1');
    const fragment = await request(`${agg.base}runs/r1/cka`, { headers: { cookie } });
    expect(fragment.status).toBe(200);
    const shown = ckaValues(fragment.body);
    expect([...shown.keys()]).toEqual(evaluation.scores.map((s) => s.subject));
    for (const score of evaluation.scores) expect(shown.get(score.subject)).toEqual([score.n, score.linearBiased, score.linearDebiased]);
    expect(fragment.body).toContain('against the reference\n<code>ref</code>, on the samples');
  });

  it('draws the PCA of every merged sample (under the bound) as an SVG with one mark per sample', async () => {
    const svg = await request(`${agg.base}runs/r1/pca.svg`, { headers: { cookie } });
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    const marks = svg.body.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/)?.[1] ?? '';
    expect(marks.match(/<path /g)?.length).toBe(250);
    expect(svg.body).toContain('250 of 250 merged samples');
    const section = await request(`${agg.base}runs/r1/pca`, { headers: { cookie } });
    expect(section.body).toMatch(/<img src="\/runs\/r1\/pca\.svg\?v=[A-Za-z0-9_-]+" alt="Scatter plot of 250 merged samples/);
  });

  it('streams the run status as server-sent events, a new one after each change', async () => {
    await createRun(agg, 'live', WIDTH);
    const node = agg.client({ token: TOKENS.admin });
    await node.join({ runId: 'live', nodeId: 'trainer-a', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: 'a'.repeat(64), relativeWidth: WIDTH });
    const stream = await openEventStream(`${agg.base}runs/live/events`, cookie);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const rowsIn = (data: unknown): string => (data as { nodes: { id: string; cells: Record<string, string> }[] }).nodes[0]?.cells['relativeRows'] ?? '';
    expect(rowsIn((await stream.next()).data)).toBe('0');
    const space = testSpace(range(0, 40), WIDTH, 9);
    await node.upload({ runId: 'live', nodeId: 'trainer-a', chunks: chunksOf(space, 20).slice(0, 1) });
    let event = await stream.next();
    while (rowsIn(event.data) === '0') event = await stream.next();
    expect(event.event).toBe('status');
    expect(rowsIn(event.data)).toBe('20');
    stream.close();
  });

  it('ends a session on logout and on a tokens reload', async () => {
    const first = await login(agg.base, TOKENS.admin);
    const logout = await request(`${agg.base}logout`, { method: 'POST', headers: { cookie: first } });
    expect(logout.status).toBe(303);
    expect(logout.headers['set-cookie']?.[0]).toMatch(/^rlsa_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await request(agg.base, { headers: { cookie: first } })).status).toBe(401);
    const second = await login(agg.base, TOKENS.admin);
    expect((await request(agg.base, { headers: { cookie: second } })).status).toBe(200);
    agg.handle.reloadTokens(TOKEN_ENTRIES);
    expect((await request(agg.base, { headers: { cookie: second } })).status).toBe(401);
    cookie = await login(agg.base, TOKENS.admin);
  });

  it('keeps at most 1,000 sessions: the oldest ends first', async () => {
    const oldest = await login(agg.base, TOKENS.admin);
    for (let i = 0; i < 1000; i += 1) await login(agg.base, TOKENS.admin);
    expect((await request(agg.base, { headers: { cookie: oldest } })).status).toBe(401);
    cookie = await login(agg.base, TOKENS.admin);
    expect((await request(agg.base, { headers: { cookie } })).status).toBe(200);
  });

  it('closes a connection whose request head does not arrive within the headers timeout (408)', async () => {
    const socket = connect(Number(new URL(agg.base).port), '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const startedMs = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - startedMs).toBeLessThan(15_000);
  });
});

describe('the dashboard under load and at shutdown', () => {
  it('keeps at most 64 live-update streams (503 beyond) and ends them all when the aggregator drains', async () => {
    const agg = await startDashboardAggregator();
    await createRun(agg, 'r', WIDTH);
    const cookie = await login(agg.base, TOKENS.admin);
    const streams = await Promise.all(Array.from({ length: 64 }, () => openEventStream(`${agg.base}runs/r/events`, cookie)));
    expect(streams.map((s) => s.status)).toEqual(new Array(64).fill(200));
    const refused = await request(`${agg.base}runs/r/events`, { headers: { cookie } });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    const stopping = agg.stop();
    await Promise.all(streams.map((s) => s.ended));
    await stopping;
  });
});
