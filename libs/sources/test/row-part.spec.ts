import { describe, expect, it } from 'vitest';
import { rowPart } from '../src/index.ts';

describe('rowPart', () => {
  it('never has more than prefetch + 1 reads in flight, and none ahead with prefetch 0', async () => {
    for (const prefetch of [0, 1, 2]) {
      let inFlight = 0;
      let most = 0;
      const reader = {
        shape: { kind: 'features' as const, width: 1 },
        read: async (rows: Uint32Array) => {
          most = Math.max(most, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inFlight--;
          return Float32Array.from(rows);
        },
      };
      const part = rowPart(reader, Uint32Array.from({ length: 10 }, (_, i) => i), new BigUint64Array(10), new Int32Array(10));
      const seen: number[] = [];
      for await (const batch of part.batches(3, { prefetch })) {
        // The caller's work: while it runs, only read-aheads may be in flight.
        expect(inFlight).toBeLessThanOrEqual(prefetch);
        seen.push(...batch.values);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(most).toBeLessThanOrEqual(Math.max(1, prefetch));
    }
  });
});
