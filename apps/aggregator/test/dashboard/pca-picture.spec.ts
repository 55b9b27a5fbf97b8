import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawPca, evenlySpaced } from '../../src/dashboard/pca-picture.ts';
import { range } from '../helpers.ts';
import { coreWithData } from './helpers/core-with-data.ts';
import type { CoreWithData } from './helpers/core-with-data.ts';

const WIDTH = 6;
const SAMPLES = 300;

describe('evenlySpaced', () => {
  it('takes ⌊i·n/count⌋ of the sorted ids, all of them when there are fewer', () => {
    const sorted = BigUint64Array.from(range(0, 10), (i) => BigInt(i * 3));
    expect(Array.from(evenlySpaced(sorted, 4))).toEqual([0n, 6n, 15n, 21n]);
    expect(Array.from(evenlySpaced(sorted, 10))).toEqual(Array.from(sorted));
    expect(Array.from(evenlySpaced(sorted, 20))).toEqual(Array.from(sorted));
  });
});

describe('drawPca over a merged space', () => {
  let data: CoreWithData;
  /** Unit direction of the planted line. */
  const direction = Float64Array.from({ length: WIDTH }, (_, j) => (j + 1) / Math.sqrt((WIDTH * (WIDTH + 1) * (2 * WIDTH + 1)) / 6));

  beforeAll(async () => {
    // Rows on a line (t·u) plus a small orthogonal wobble: PC 1 must hold almost all the variance.
    data = coreWithData(WIDTH);
    data.join('t1', 'trainer');
    const values = new Float32Array(SAMPLES * WIDTH);
    for (let i = 0; i < SAMPLES; i += 1) {
      const t = i / SAMPLES - 0.5;
      for (let j = 0; j < WIDTH; j += 1) values[i * WIDTH + j] = t * (direction[j] as number) + (j === 0 ? 1e-3 * Math.sin(i) : 0);
    }
    await data.upload('t1', 0, range(0, SAMPLES), values);
  });

  afterAll(async () => {
    await data.close();
  });

  it('draws an evenly spaced sample of at most maxRows samples, one mark each, PC 1 along the planted line', async () => {
    const sorted = await data.core.reads.sortedIds('r');
    const picture = await drawPca(data.core.reads, 'r', sorted, 120);
    expect(picture).toMatchObject({ drawn: 120, total: SAMPLES });
    expect(picture.explained[0]).toBeGreaterThan(0.9999);
    expect(picture.explained[0] + picture.explained[1]).toBeLessThanOrEqual(1 + 1e-12);
    const marks = picture.svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/)?.[1] ?? '';
    expect(marks.match(/<path /g)?.length).toBe(120);
    expect(picture.svg).toContain('120 of 300 merged samples');
    // A legend entry per label (id % 10) of the drawn samples: ids ⌊2.5·i⌋ have labels 0, 2, 5 and 7.
    const legend = [...picture.svg.matchAll(/<g class="mark-text role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(legend).toEqual(['0', '2', '5', '7']);
  });
});
