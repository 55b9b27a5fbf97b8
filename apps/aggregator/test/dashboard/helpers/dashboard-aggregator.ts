import { hashToken } from '../../../src/index.ts';
import type { AggregatorOptions, TokenEntry } from '../../../src/index.ts';
import { FINGERPRINT, builtinAnchors, range, startTestAggregator } from '../../helpers.ts';
import type { TestAggregator } from '../../helpers.ts';

/** The tokens of the dashboard specs: an admin (reads every run) and a node (refused by the dashboard). */
export const TOKENS = { admin: 'dashboard-admin-token-1', node: 'dashboard-node-token-1' } as const;

export const TOKEN_ENTRIES: TokenEntry[] = [
  { subject: 'operator', grants: [{ kind: 'admin' }], sha256: hashToken(TOKENS.admin) },
  { subject: 'trainer-a', grants: [{ kind: 'run', role: 'node', runId: '*' }], sha256: hashToken(TOKENS.node) },
];

export interface DashboardAggregator extends TestAggregator {
  /** The dashboard's base URL, ending in '/'. */
  base: string;
}

/** An in-process aggregator on loopback with the dashboard on a free port, and the spec's tokens unless `auth` is 'off'. */
export async function startDashboardAggregator(options: Partial<AggregatorOptions> = {}, auth: 'tokens' | 'off' = 'tokens'): Promise<DashboardAggregator> {
  const agg = await startTestAggregator({ ...(auth === 'tokens' ? { tokens: TOKEN_ENTRIES } : {}), httpPort: 0, ...options });
  const scheme = options.tls === undefined ? 'http' : 'https';
  return { ...agg, base: `${scheme}://127.0.0.1:${agg.handle.httpPort}/` };
}

/** Creates run `runId` over `width` anchors (ids 0..width-1) as the admin. */
export async function createRun(agg: TestAggregator, runId: string, width: number): Promise<void> {
  await agg.client({ token: TOKENS.admin }).createRun({ runId, anchors: builtinAnchors(range(0, width), FINGERPRINT) });
}
