import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/index.ts';
import type { TokenEntry } from '../../src/index.ts';
import { createRun, startDashboardAggregator, TOKENS } from '../dashboard/helpers/dashboard-aggregator.ts';
import type { DashboardAggregator } from '../dashboard/helpers/dashboard-aggregator.ts';
import { login, postForm, request } from '../dashboard/helpers/http.ts';

/**
 * The dashboard asks the services' access policy: a reader of a run sees that run only, a node token
 * (of that run or another) is refused, an admin sees every run; a deleted run's page is gone.
 */

const READER = 'dashboard-reader-token';
const NODE_OF_A = 'dashboard-node-of-a-token';

describe('the dashboard with run-scoped tokens', () => {
  let agg: DashboardAggregator;

  beforeAll(async () => {
    const tokens: TokenEntry[] = [
      { subject: 'operator', sha256: hashToken(TOKENS.admin), grants: [{ kind: 'admin' }] },
      { subject: 'analyst', sha256: hashToken(READER), grants: [{ kind: 'run', role: 'reader', runId: 'a' }] },
      { subject: 'party-a', sha256: hashToken(NODE_OF_A), grants: [{ kind: 'run', role: 'node', runId: 'a' }] },
    ];
    agg = await startDashboardAggregator({ tokens });
    await createRun(agg, 'a', 4);
    await createRun(agg, 'b', 4);
  });
  afterAll(async () => {
    await agg?.stop();
  });

  it("a reader of run a lists and opens a only (403 for b); a node token, even of run a, cannot sign in", async () => {
    const cookie = await login(agg.base, READER);
    const list = await request(agg.base, { headers: { cookie } });
    expect(list.status).toBe(200);
    expect(list.body).toContain('href="/runs/a"');
    expect(list.body).not.toContain('href="/runs/b"');
    expect((await request(`${agg.base}runs/a`, { headers: { cookie } })).status).toBe(200);
    expect((await request(`${agg.base}runs/b`, { headers: { cookie } })).status).toBe(403);
    const refused = await postForm(`${agg.base}login`, { token: NODE_OF_A });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('This is the token of party-a (node:a): the dashboard needs a reader or admin token.');
    const admin = await login(agg.base, TOKENS.admin);
    const all = await request(agg.base, { headers: { cookie: admin } });
    expect(all.body).toContain('href="/runs/a"');
    expect(all.body).toContain('href="/runs/b"');
  });

  it("a deleted run leaves the list; its page and live updates are gone (404)", async () => {
    const cookie = await login(agg.base, TOKENS.admin);
    expect((await request(`${agg.base}runs/b`, { headers: { cookie } })).status).toBe(200);
    await agg.client({ token: TOKENS.admin }).deleteRun('b', true);
    expect((await request(`${agg.base}runs/b`, { headers: { cookie } })).status).toBe(404);
    expect((await request(`${agg.base}runs/b/events`, { headers: { cookie } })).status).toBe(404);
    expect((await request(agg.base, { headers: { cookie } })).body).not.toContain('href="/runs/b"');
  });
});
