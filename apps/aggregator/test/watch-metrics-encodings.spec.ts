import { float16ErrorBound, int8ErrorBound } from '@rlsa/client';
import type { RunStatusView } from '@rlsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, builtinAnchors, chunksOf, range, startTestAggregator, testSpace } from './helpers.ts';
import type { TestAggregator } from './helpers.ts';

const WIDTH = 16;
const model = { architecture: 'mlp', embeddingWidth: 8 };

describe('WatchRun, metrics and compact encodings', () => {
  let agg: TestAggregator;
  beforeAll(async () => {
    agg = await startTestAggregator({ metricsPort: 0 });
    await agg.client().createRun({ runId: 'w', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
  });
  afterAll(async () => agg?.stop());

  it('WatchRun sends the current status, then one per change', async () => {
    const watcher = agg.client();
    const seen: RunStatusView[] = [];
    const controller = new AbortController();
    const done = (async () => {
      for await (const status of watcher.watchRun('w', { signal: controller.signal })) {
        seen.push(status);
        if (status.nodes[0]?.finished === true) controller.abort();
      }
    })();
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen[0]).toMatchObject({ mergedSamples: 0, nodes: [] });
    const node = agg.client();
    await node.join({ runId: 'w', nodeId: 'n', role: 'trainer', model, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
    await node.upload({ runId: 'w', nodeId: 'n', chunks: chunksOf(testSpace(range(0, 30), WIDTH, 1), 10) });
    await node.finish('w', 'n');
    await done;
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ mergedSamples: 30, nodes: [{ nodeId: 'n', relativeRows: 30, relativeChunks: 3, finished: true }] });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    // Monotone progress: the row count never goes back.
    const rows = seen.map((s) => s.nodes[0]?.relativeRows ?? 0);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    await expect(agg.client().watchRun('nope')[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves Prometheus metrics: chunks, rows, bytes, rejections, commit latency, connected nodes, the merge backlog', async () => {
    // A read waits for the merge to catch up: nothing is behind after it.
    await agg.client().readMerged('w');
    const response = await fetch(`http://127.0.0.1:${agg.handle.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/rlsa_aggregator_chunks_total\{space="relative",duplicate="false"\} 3/);
    expect(text).toMatch(/rlsa_aggregator_rows_total\{space="relative"\} 30/);
    // Values (float32), ids (8 bytes each: little-endian uint64) and labels (int32).
    expect(text).toMatch(new RegExp(`rlsa_aggregator_payload_bytes_total ${30 * WIDTH * 4 + 30 * 8 + 30 * 4}`));
    expect(text).toMatch(/rlsa_aggregator_commit_seconds_count 3/);
    expect(text).toMatch(/rlsa_aggregator_connected_nodes 0/);
    expect(text).toMatch(/^rlsa_aggregator_merge_behind_bytes 0$/m);
    expect(text).toMatch(/rlsa_aggregator_rejections_total\{method="WatchRun",reason="not_found"\} 1/);
  });

  it('float16 and int8 uploads are merged from values within the stated error bounds', async () => {
    await agg.client().createRun({ runId: 'enc', anchors: builtinAnchors(range(0, WIDTH), FINGERPRINT) });
    const spaces = { f16: testSpace(range(0, 40), WIDTH, 5), i8: testSpace(range(100, 140), WIDTH, 6) };
    for (const [nodeId, encoding] of [['f16', 'float16'], ['i8', 'int8']] as const) {
      const client = agg.client();
      await client.join({ runId: 'enc', nodeId, role: 'trainer', model, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
      await client.upload({ runId: 'enc', nodeId, encoding, chunks: chunksOf(spaces[nodeId], 16) });
    }
    const merged = await agg.client().readMerged('enc');
    expect(merged.sampleIds.length).toBe(80);
    for (let r = 0; r < 80; r += 1) {
      const original = r < 40 ? spaces.f16.values.subarray(r * WIDTH, (r + 1) * WIDTH) : spaces.i8.values.subarray((r - 40) * WIDTH, (r - 39) * WIDTH);
      const maxAbs = Math.max(...Array.from(original, Math.abs));
      for (let c = 0; c < WIDTH; c += 1) {
        const error = Math.abs((merged.values.data[r * WIDTH + c] as number) - (original[c] as number));
        expect(error).toBeLessThanOrEqual(r < 40 ? float16ErrorBound(original[c] as number) : int8ErrorBound(maxAbs));
      }
    }
    // And the merged space can be read back in float16 too.
    const half = await agg.client().readMerged('enc', { encoding: 'float16', sampleIds: [0n, 1n] });
    half.values.data.forEach((v, i) => expect(Math.abs(v - (merged.values.data[i] as number))).toBeLessThanOrEqual(float16ErrorBound(merged.values.data[i] as number)));
  });
});
