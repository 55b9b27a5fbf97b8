import type { AggregatorClient } from '@rlsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINGERPRINT, builtinAnchors, randomValues, range, startTestAggregator } from '../helpers.ts';
import type { TestAggregator } from '../helpers.ts';

const WIDTH = 4;

describe('a float32 NaN sent by @rlsa/client (which leaves the check to the aggregator)', () => {
  let agg: TestAggregator;
  let client: AggregatorClient;

  beforeAll(async () => {
    agg = await startTestAggregator();
    client = agg.client();
    await client.createRun({ runId: 'nan', anchors: builtinAnchors(range(0, WIDTH)) });
    await client.join({ runId: 'nan', nodeId: 't', role: 'trainer', model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: WIDTH });
  });
  afterAll(async () => agg?.stop());

  it('is refused with INVALID_ARGUMENT naming its row and column; the chunks before it are stored, nothing of it', async () => {
    const good = randomValues(3 * WIDTH, 1);
    const bad = randomValues(3 * WIDTH, 2);
    bad[2 * WIDTH + 1] = Number.NaN;
    const chunks = [
      { sampleIds: Uint32Array.of(0, 1, 2), values: { rows: 3, cols: WIDTH, data: good } },
      { sampleIds: Uint32Array.of(3, 4, 5), values: { rows: 3, cols: WIDTH, data: bad } },
    ];
    await expect(client.upload({ runId: 'nan', nodeId: 't', chunks })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: expect.stringMatching(/row 2, column 1 is NaN/) });
    const node = (await client.getRun('nan')).nodes.find((n) => n.nodeId === 't');
    expect(node).toMatchObject({ relativeChunks: 1, relativeRows: 3 });
    const merged = await client.readMerged('nan');
    expect(Array.from(merged.sampleIds)).toEqual([0n, 1n, 2n]);
  });
});
