import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../process-helpers.ts';
import type { Spawned } from '../process-helpers.ts';
import { ensureChromium, launchChromium } from './browser/chromium.ts';
import { TOKENS, createRun, startDashboardAggregator } from './helpers/dashboard-aggregator.ts';
import type { DashboardAggregator } from './helpers/dashboard-aggregator.ts';

const WIDTH = 8;
const RUN = 'browser-run';
const TRAINER_ROWS = 400;
const PACED_NODE = fileURLToPath(new URL('./fixtures/paced-node.ts', import.meta.url));
/** Screenshots of each run of this spec (ignored by git). */
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

const chromium = ensureChromium();
if (!chromium.ready) console.warn(`dashboard browser spec skipped: ${chromium.reason}`);

/** A node process uploading `count` rows from `firstId`, one chunk of 20 rows per `paceMs`, then finishing. */
function pacedNode(agg: DashboardAggregator, nodeId: string, role: 'trainer' | 'reference', count: number, seed: number, paceMs: number): Spawned {
  return spawnNode(['--import', 'tsx', PACED_NODE, agg.address, TOKENS.admin, RUN, nodeId, role, '0', String(count), String(WIDTH), '20', String(seed), String(paceMs)]);
}

/** Signs in through the login form with `token`; the status of the form's answer. */
async function signIn(page: Page, token: string): Promise<number> {
  await page.getByLabel('Token').fill(token);
  const answer = page.waitForResponse((response) => response.url().endsWith('/login') && response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Sign in' }).click();
  return (await answer).status();
}

/** The text of a node's cell in the nodes table ('' when the row is not there yet). */
async function nodeCell(page: Page, nodeId: string, field: string): Promise<string> {
  const cell = page.locator(`#nodes tr[data-node-id="${nodeId}"] [data-field="${field}"]`);
  return (await cell.count()) === 0 ? '' : ((await cell.textContent()) ?? '');
}

/** The CKA table as shown: per row its subject and the exact values of its cells (n, linear, debiased). */
async function ckaTable(page: Page): Promise<(string | number)[][]> {
  const rows = page.locator('#cka-table tbody tr');
  const table: (string | number)[][] = [];
  for (let i = 0; i < (await rows.count()); i += 1) {
    const cells = rows.nth(i).locator('td');
    const values: number[] = [];
    for (let j = 0; j < (await cells.count()); j += 1) values.push(Number(await cells.nth(j).getAttribute('data-value')));
    table.push([(await rows.nth(i).getAttribute('data-subject')) ?? '', ...values]);
  }
  return table;
}

// The expressions below run in the page (strings: the specs are type-checked without the DOM's types).
/** Records every Content-Security-Policy violation (an init script is not subject to the CSP). */
const RECORD_CSP_VIOLATIONS = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));`;

/** Polls `condition` every 100 ms until it holds (the page's CSP forbids waitForFunction's string evaluation, rightly). */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The CKA table of the final data: the merged row shown and the reference no longer uploading. */
async function ckaFinal(page: Page): Promise<boolean> {
  const section = page.locator('#cka');
  return (await section.locator('tr[data-subject="merged"]').count()) > 0 && !((await section.textContent()) ?? '').includes('still uploading');
}

/** The PCA image loaded and decoded. */
async function pcaLoaded(page: Page): Promise<boolean> {
  const image = page.locator('#pca img');
  return (await image.count()) > 0 && (await image.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0));
}

describe.skipIf(!chromium.ready)('the dashboard in headless Chromium', () => {
  let agg: DashboardAggregator;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const nodes: Spawned[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    agg = await startDashboardAggregator();
    await createRun(agg, RUN, WIDTH);
    browser = await launchChromium({ width: 1280, height: 800 });
    await browser.context.addInitScript({ content: RECORD_CSP_VIOLATIONS });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await browser?.close();
    await agg?.stop();
    console.info(`dashboard screenshots: ${ARTIFACTS}`);
  });

  it('refuses without a token (the login form, 401) and with a node token (403, no cookie)', async () => {
    const first = await page.goto(`${agg.base}runs/${RUN}`);
    expect(first?.status()).toBe(401);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    expect(await signIn(page, TOKENS.node)).toBe(403);
    expect(await page.getByRole('alert').textContent()).toBe('This is the token of trainer-a (node:*): the dashboard needs a reader or admin token.');
    expect(await browser.context.cookies()).toEqual([]);
    expect(await signIn(page, 'not-a-token')).toBe(401);
    expect(await page.getByRole('alert').textContent()).toBe('Unknown token.');
    await page.screenshot({ path: `${ARTIFACTS}login-refused-1280x800.png` });
  });

  it('signs in, sees the run and its nodes, the rows growing live without a reload, then the CKA table equal to Evaluate', async () => {
    await page.goto(`${agg.base}runs/${RUN}`);
    expect(await signIn(page, TOKENS.admin)).toBe(303);
    await page.waitForURL(`${agg.base}runs/${RUN}`);
    const cookie = (await browser.context.cookies())[0];
    expect(cookie).toMatchObject({ name: 'rlsa_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie?.value).not.toContain(TOKENS.admin);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('link', { name: RUN }).click();
    await page.waitForURL(`${agg.base}runs/${RUN}`);
    expect(await page.locator('#nodes tbody').textContent()).toBe('No node has joined yet.');

    // A node joins and uploads while the page is open: its row appears and its count grows, with no navigation in between.
    await page.evaluate('window.sameDocument = true');
    nodes.push(pacedNode(agg, 'trainer-a', 'trainer', TRAINER_ROWS, 1, 300));
    await waitUntil(async () => (await nodeCell(page, 'trainer-a', 'role')) === 'trainer', 60_000, "the trainer's row");
    expect(await nodeCell(page, 'trainer-a', 'model')).toBe('mlp (8-d, task accuracy 0.500)');
    const seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rows = Number((await nodeCell(page, 'trainer-a', 'relativeRows')).replace(/,/g, ''));
      if (seen.at(-1) !== rows) seen.push(rows);
      if (seen.length === 2) await page.screenshot({ path: `${ARTIFACTS}run-uploading-1280x800.png`, fullPage: true });
      if ((await nodeCell(page, 'trainer-a', 'finished')) === 'yes') break;
      await page.waitForTimeout(100);
    }
    console.info(`trainer-a's relative rows as the page showed them: ${seen.join(' ')}`);
    expect(new Set(seen).size).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(TRAINER_ROWS);
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    expect(await page.getByRole('status').first().textContent()).toBe('Live updates: on');

    // The reference uploads and finishes: the CKA table appears, with Evaluate's numbers.
    nodes.push(pacedNode(agg, 'ref', 'reference', TRAINER_ROWS, 2, 20));
    await waitUntil(() => ckaFinal(page), 60_000, 'the final CKA table');
    const shown = await ckaTable(page);
    const evaluation = await agg.client({ token: TOKENS.admin }).evaluate(RUN);
    expect(shown).toEqual(evaluation.scores.map((s) => [s.subject, s.n, s.linearBiased, s.linearDebiased]));
    expect(evaluation.scores.map((s) => s.subject)).toEqual(['merged', 'trainer-a']);

    await waitUntil(() => pcaLoaded(page), 60_000, 'the PCA image');
    expect(await page.getByRole('img', { name: /^Scatter plot of 400 merged samples/ }).count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}run-1280x800.png`, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    // At a phone's width the page itself does not scroll sideways: wide tables scroll in their own region.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${ARTIFACTS}run-390x844.png`, fullPage: true });

    expect(await page.evaluate('window.cspViolations')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
