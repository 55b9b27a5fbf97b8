import { createAggregatorClient } from '@rlsa/client';
import { describe, expect, it } from 'vitest';
import { FINGERPRINT, builtinAnchors, range, startTestAggregator, tempDir } from './helpers.ts';

describe('the client retries its idempotent calls per its policy', () => {
  it('a Join made while the aggregator is down succeeds once it is up; without a policy it fails UNAVAILABLE at once', async () => {
    const temp = tempDir();
    // Learn a free port, then stop: the aggregator is down on it.
    const first = await startTestAggregator({ dataDir: temp.dir });
    const port = first.handle.port;
    await first.client().createRun({ runId: 'r', anchors: builtinAnchors(range(0, 4), FINGERPRINT) });
    await first.stop();
    const address = `127.0.0.1:${port}`;
    const request = { runId: 'r', nodeId: 'n', role: 'trainer' as const, model: { architecture: 'mlp', embeddingWidth: 8 }, anchorFingerprint: FINGERPRINT, relativeWidth: 4 };
    const once = createAggregatorClient({ address });
    const heard: string[] = [];
    const patient = createAggregatorClient({
      address,
      retry: { attempts: 40, initialDelayMs: 50, maxDelayMs: 200 },
      onRetry: (event) => heard.push(`${event.method} ${(event.error as { code?: string }).code}`),
    });
    try {
      await expect(once.join(request)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      const joining = patient.join(request);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await startTestAggregator({ dataDir: temp.dir, port });
      try {
        expect(await joining).toMatchObject({ lastRelativeSeq: -1, config: { runId: 'r' } });
        expect(heard.length).toBeGreaterThanOrEqual(1);
        expect(new Set(heard)).toEqual(new Set(['Join UNAVAILABLE']));
        // Not retried: a refusal that is not UNAVAILABLE comes back at once.
        await expect(patient.join({ ...request, relativeWidth: 5 })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
      } finally {
        await second.stop();
      }
    } finally {
      once.close();
      patient.close();
      temp.remove();
    }
  });
});
