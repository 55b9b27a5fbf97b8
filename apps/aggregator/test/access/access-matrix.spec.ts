import type { AggregatorClient } from '@rlsa/client';
import type { Grant } from '@rlsa/core';
import { parseGrant } from '@rlsa/core';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/index.ts';
import type { TokenEntry } from '../../src/index.ts';
import { FINGERPRINT, builtinAnchors, chunksOf, range, startTestAggregator, testSpace } from '../helpers.ts';
import type { TestAggregator } from '../helpers.ts';

/**
 * Every method × every kind of token, on real gRPC: the status each gets, and for every refusal a
 * snapshot of the aggregator's state (every run's status, the merged space, the stored anchor sets)
 * equal before and after. Runs: `r` (nodes may read the merged space; trainer t1 and reference ref
 * uploaded rows), `q` (node read policy none; t1 is its node), `other`, and `closable`, `deletable`
 * for the admin's lifecycle calls.
 */

const WIDTH = 4;

const PRINCIPALS = {
  anonymous: undefined,
  unknown: { subject: 'nobody', grants: [] },
  admin: { subject: 'ops', grants: ['admin'] },
  reader: { subject: 'analyst', grants: ['reader:r'] },
  readerOfOther: { subject: 'outsider', grants: ['reader:other'] },
  node: { subject: 't1', grants: ['node:r', 'node:q'] },
  newNode: { subject: 't9', grants: ['node:r'] },
  reference: { subject: 'ref', grants: ['reference:r'] },
  nodeOfOther: { subject: 'stranger', grants: ['node:other'] },
} as const satisfies Record<string, { subject: string; grants: readonly string[] } | undefined>;
type PrincipalName = keyof typeof PRINCIPALS;
const NAMES = Object.keys(PRINCIPALS) as PrincipalName[];

const tokenOf = (name: PrincipalName): string | undefined => (name === 'anonymous' ? undefined : `token-of-${name}`);
const subjectOf = (name: PrincipalName): string => PRINCIPALS[name]?.subject ?? 'nobody';

type Outcome = 'OK' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'FAILED_PRECONDITION' | 'INVALID_ARGUMENT';
type Expected = Partial<Record<PrincipalName, Outcome>>;

interface Case {
  method: string;
  /** What the call does for the principal (its node id is the principal's subject unless said). */
  call: (client: AggregatorClient, name: PrincipalName, agg: TestAggregator) => Promise<unknown>;
  /** Outcomes that differ from PERMISSION_DENIED (the anonymous and unknown tokens are UNAUTHENTICATED everywhere). */
  expected: Expected;
}

const model = { architecture: 'mlp', embeddingWidth: 8 };
const joinAs = (runId: string, nodeId: string, role: 'trainer' | 'reference') => ({ runId, nodeId, role, model, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });

/** One chunk of `nodeId` at its next seq (read from the status as the admin sees it). */
async function uploadNext(client: AggregatorClient, agg: TestAggregator, nodeId: string): Promise<unknown> {
  const status = await agg.client({ token: tokenOf('admin') as string }).getRun('r');
  const seq = status.nodes.find((node) => node.nodeId === nodeId)?.relativeChunks ?? 0;
  const [chunk] = chunksOf(testSpace([100 + seq], WIDTH, seq + 7), 1);
  return client.upload({ runId: 'r', nodeId, chunks: [{ ...(chunk as NonNullable<typeof chunk>), seq }], retry: { attempts: 0 } });
}

async function firstOf<T>(items: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of items) return item;
  return undefined;
}

/** The admin's node id for the calls that write as a node: `ops` joins r as a trainer in the first case. */
const writerOf = (name: PrincipalName): string => subjectOf(name);

const CASES: Case[] = [
  {
    method: 'Join (as a trainer, as itself)',
    call: (c, name) => c.join(joinAs('r', subjectOf(name), 'trainer')),
    expected: { admin: 'OK', node: 'OK', newNode: 'OK' },
  },
  {
    method: 'Join (as the reference, as itself)',
    call: (c, name) => c.join(joinAs('r', subjectOf(name), 'reference')),
    // The admin passes the access policy; the run already has its reference.
    expected: { admin: 'FAILED_PRECONDITION', reference: 'OK' },
  },
  {
    method: 'Join (as another node: t1)',
    call: (c) => c.join(joinAs('r', 't1', 'trainer')),
    expected: { admin: 'OK', node: 'OK' },
  },
  { method: 'Upload (as itself)', call: (c, name, agg) => uploadNext(c, agg, writerOf(name)), expected: { admin: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' } },
  { method: 'Upload (as another node: t1)', call: (c, _name, agg) => uploadNext(c, agg, 't1'), expected: { admin: 'OK', node: 'OK' } },
  { method: 'FinishUpload (as itself)', call: (c, name) => c.finish('r', writerOf(name)), expected: { admin: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' } },
  {
    method: 'ReadMerged (run r: nodes may read)',
    call: (c) => c.readMerged('r'),
    expected: { admin: 'OK', reader: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' },
  },
  { method: 'ReadMerged (run q: node read policy none)', call: (c) => c.readMerged('q'), expected: { admin: 'OK' } },
  { method: 'ReadNodeSpace', call: (c) => c.readNodeSpace('r', 't1'), expected: { admin: 'OK' } },
  { method: 'Evaluate', call: (c) => c.evaluate('r'), expected: { admin: 'OK', reader: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' } },
  { method: 'Evaluate (run q)', call: (c) => c.evaluate('q'), expected: { admin: 'FAILED_PRECONDITION' } },
  { method: 'Nearest', call: (c) => c.nearest('r', { sampleId: 0 }, 2), expected: { admin: 'OK', reader: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' } },
  { method: 'WatchRun', call: (c) => firstOf(c.watchRun('r')), expected: { admin: 'OK', reader: 'OK', node: 'OK', newNode: 'OK', reference: 'OK' } },
  {
    method: 'FetchAnchorSet (built-in anchors: nothing to fetch)',
    call: (c) => firstOf(c.fetchAnchorSet('r')),
    expected: { admin: 'FAILED_PRECONDITION', reader: 'FAILED_PRECONDITION', node: 'FAILED_PRECONDITION', newNode: 'FAILED_PRECONDITION', reference: 'FAILED_PRECONDITION' },
  },
  { method: 'CreateRun', call: (c, name) => c.createRun({ runId: `made-by-${name}`, anchors: builtinAnchors([1, 2], FINGERPRINT) }), expected: { admin: 'OK' } },
  { method: 'GetRun', call: (c) => c.getRun('r'), expected: { admin: 'OK', reader: 'OK' } },
  { method: 'ListRuns', call: (c) => c.listRuns(), expected: { admin: 'OK', reader: 'OK', readerOfOther: 'OK' } },
  { method: 'CloseRun', call: (c) => c.closeRun('closable'), expected: { admin: 'OK' } },
  { method: 'DeleteRun', call: (c) => c.deleteRun('deletable', true), expected: { admin: 'OK' } },
  {
    method: 'UploadAnchorSet',
    // A header the admin's call gets past the access policy with, to be refused for its fingerprint.
    call: (c) => c.uploadAnchorSet({ fingerprint: 'not-a-fingerprint', summary: { size: 1, count: 1, kind: 'builtin', shape: [], hasLabels: false, hasNames: false }, bytes: new Uint8Array(1) }),
    expected: { admin: 'INVALID_ARGUMENT' },
  },
];

function outcomeOf(expected: Expected, name: PrincipalName): Outcome {
  if (name === 'anonymous' || name === 'unknown') return 'UNAUTHENTICATED';
  return expected[name] ?? 'PERMISSION_DENIED';
}

describe('run-scoped access: every method and every kind of token', () => {
  let agg: TestAggregator;
  const clients = new Map<PrincipalName, AggregatorClient>();
  const client = (name: PrincipalName): AggregatorClient => clients.get(name) as AggregatorClient;

  /** What a refusal must leave as it was: every run's status, r's merged space, the stored anchor sets. */
  async function snapshot(): Promise<unknown> {
    const admin = client('admin');
    // An accepted upload's stream ends on the server just after its last acknowledgement: wait for it.
    for (let i = 0; i < 100 && (await admin.getRun('r')).nodes.some((node) => node.connected); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const runs = await admin.listRuns();
    const merged = await admin.readMerged('r');
    let anchorSets: string[] = [];
    try {
      anchorSets = readdirSync(join(agg.dataDir, 'anchor-sets')).sort();
    } catch {
      anchorSets = [];
    }
    return { runs, merged: { ids: Array.from(merged.sampleIds), values: Array.from(merged.values.data) }, anchorSets };
  }

  beforeAll(async () => {
    const entries: TokenEntry[] = NAMES.filter((name) => name !== 'anonymous' && name !== 'unknown').map((name) => ({
      subject: subjectOf(name),
      sha256: hashToken(tokenOf(name) as string),
      grants: (PRINCIPALS[name]?.grants ?? []).map((text: string): Grant => parseGrant(text)),
    }));
    agg = await startTestAggregator({ tokens: entries });
    for (const name of NAMES) clients.set(name, agg.client(tokenOf(name) === undefined ? {} : { token: tokenOf(name) as string }));
    // The unknown token is not in the file.
    clients.set('unknown', agg.client({ token: 'token-of-unknown' }));
    const admin = client('admin');
    for (const runId of ['r', 'q', 'other', 'closable', 'deletable']) {
      await admin.createRun({ runId, anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT), ...(runId === 'q' ? { nodeRead: 'none' as const } : {}) });
    }
    await client('node').join(joinAs('r', 't1', 'trainer'));
    await client('node').join(joinAs('q', 't1', 'trainer'));
    await client('reference').join(joinAs('r', 'ref', 'reference'));
    await client('node').upload({ runId: 'r', nodeId: 't1', chunks: chunksOf(testSpace(range(0, 6), WIDTH, 1), 3) });
    await client('node').upload({ runId: 'q', nodeId: 't1', chunks: chunksOf(testSpace(range(0, 6), WIDTH, 3), 3) });
    await client('reference').upload({ runId: 'r', nodeId: 'ref', chunks: chunksOf(testSpace(range(0, 6), WIDTH, 2), 3) });
  }, 60_000);
  afterAll(async () => {
    await agg?.stop();
  });

  const table = CASES.flatMap((c) => NAMES.map((name) => ({ ...c, name, outcome: outcomeOf(c.expected, name) })));

  it.each(table)('$method with the token of $name: $outcome', async ({ call, name, outcome }) => {
    const before = outcome === 'OK' ? undefined : await snapshot();
    let got: Outcome | string = 'OK';
    try {
      await call(client(name), name, agg);
    } catch (error: unknown) {
      got = (error as { code?: string }).code ?? String(error);
    }
    expect(got).toBe(outcome);
    if (before !== undefined) expect(await snapshot()).toEqual(before);
  });

  it('a node watching its run sees only itself and the totals; readers and admins see every node', async () => {
    const byNode = await firstOf(client('node').watchRun('r'));
    const byReader = await firstOf(client('reader').watchRun('r'));
    const all = byReader?.nodes.map((node) => node.nodeId).sort();
    expect(all).toEqual(['ops', 'ref', 't1', 't9']);
    expect(byNode?.nodes.map((node) => node.nodeId)).toEqual(['t1']);
    expect(byNode?.totals).toEqual(byReader?.totals);
    expect(byNode?.totals).toMatchObject({ nodes: 4, finishedNodes: 4 });
    expect(byNode?.totals.relativeRows).toBe(byReader?.nodes.reduce((sum, node) => sum + node.relativeRows, 0));
    expect(byNode?.mergedSamples).toBe(byReader?.mergedSamples);
  });

  it('ListRuns gives a reader the runs it reads, an admin all of them', async () => {
    expect((await client('reader').listRuns()).map((run) => run.config.runId)).toEqual(['r']);
    expect((await client('readerOfOther').listRuns()).map((run) => run.config.runId)).toEqual(['other']);
    expect((await client('admin').listRuns()).map((run) => [run.config.runId, run.state])).toEqual([
      ['r', 'open'],
      ['q', 'open'],
      ['other', 'open'],
      ['closable', 'closed'],
      ['made-by-admin', 'open'],
      ['deletable', 'deleted'],
    ]);
  });
});
