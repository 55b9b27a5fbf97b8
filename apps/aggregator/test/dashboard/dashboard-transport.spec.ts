import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth.ts';
import { startDashboard } from '../../src/dashboard/dashboard-server.ts';
import { AggregatorError } from '../../src/errors.ts';
import { makeTestPki } from '../certificates.ts';
import type { TestPki } from '../certificates.ts';
import { tempDir } from '../helpers.ts';
import { coreWithData } from './helpers/core-with-data.ts';
import { TOKENS, createRun, startDashboardAggregator } from './helpers/dashboard-aggregator.ts';
import { login, postForm, request } from './helpers/http.ts';

describe('the dashboard under TLS', () => {
  const temp = tempDir('rlsa-dashboard-tls-');
  let pki: TestPki;

  beforeAll(() => {
    pki = makeTestPki(temp.dir);
  });

  afterAll(() => temp.remove());

  it("serves HTTPS with the aggregator's certificate, and its cookie is Secure with the __Host- prefix", async () => {
    const agg = await startDashboardAggregator({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    try {
      expect(agg.base.startsWith('https://')).toBe(true);
      const answer = await postForm(`${agg.base}login`, { token: TOKENS.admin }, { ca: pki.ca });
      expect(answer.status).toBe(303);
      expect(answer.headers['set-cookie']?.[0]).toMatch(/^__Host-rlsa_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      const cookie = await login(agg.base, TOKENS.admin, { ca: pki.ca });
      expect((await request(agg.base, { headers: { cookie }, ca: pki.ca })).status).toBe(200);
      // A plaintext request to the TLS port is not served.
      await expect(request(agg.base.replace('https:', 'http:'))).rejects.toThrow();
    } finally {
      await agg.stop();
    }
  });
});

describe('the dashboard without a tokens file', () => {
  it('on loopback: every page without signing in, with a notice that authentication is off', async () => {
    const agg = await startDashboardAggregator({}, 'off');
    try {
      await createRun(agg, 'open-run', 4);
      const page = await request(`${agg.base}runs/open-run`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.body).toContain('Authentication is off (the aggregator has no tokens file)');
      expect(page.body).not.toContain('Log out');
      expect((await request(`${agg.base}login`)).status).toBe(303);
    } finally {
      await agg.stop();
    }
  });

  it('refuses to start on a non-loopback address (unless --insecure), before binding anything', async () => {
    const data = coreWithData(4);
    try {
      const deps = { ...data.core, authenticator: new Authenticator(undefined), log: pino({ level: 'silent' }), shutdown: new AbortController().signal };
      const refusal = await startDashboard(deps, { host: '192.0.2.1', port: 0, loopback: false, insecure: false, tls: undefined }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(AggregatorError);
      expect(refusal).toMatchObject({
        code: 'failed_precondition',
        message: 'refusing the dashboard without a tokens file on non-loopback address 192.0.2.1: give --tokens-file, or --insecure',
      });
    } finally {
      await data.close();
    }
  });
});
