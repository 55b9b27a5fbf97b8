import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardError } from '../../src/dashboard/dashboard-error.ts';
import { RunViews } from '../../src/dashboard/run-views.ts';
import { randomValues, range } from '../helpers.ts';
import { coreWithData } from './helpers/core-with-data.ts';
import type { CoreWithData } from './helpers/core-with-data.ts';

const WIDTH = 5;

describe('RunViews over the aggregator core', () => {
  let data: CoreWithData;
  let evaluations: number;
  let views: RunViews;

  beforeEach(async () => {
    data = coreWithData(WIDTH);
    evaluations = 0;
    const { runs, reads } = data.core;
    const counted = { evaluate: (runId: string) => ((evaluations += 1), reads.evaluate(runId)), merged: reads.merged.bind(reads), sortedIds: reads.sortedIds.bind(reads) };
    views = new RunViews(runs, counted, { intervalMs: 0, pcaSampleRows: 50 });
    data.join('t1', 'trainer');
    await data.upload('t1', 0, range(0, 40), randomValues(40 * WIDTH, 1));
  });

  afterEach(async () => {
    await data.close();
  });

  it('refuses the CKA table (409) until the reference has a row', async () => {
    const refusal = await views.evaluation('r').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DashboardError);
    expect((refusal as DashboardError).code).toBe('conflict');
    expect(evaluations).toBe(0);
  });

  it("gives Evaluate's numbers, computed once per version of the run's data", async () => {
    data.join('ref', 'reference');
    await data.upload('ref', 0, range(0, 40), randomValues(40 * WIDTH, 2));
    const first = await views.evaluation('r');
    const again = await views.evaluation('r');
    expect(again).toBe(first);
    expect(evaluations).toBe(1);
    expect(first.value).toEqual(await data.core.reads.evaluate('r'));
    await data.upload('t1', 1, range(40, 60), randomValues(20 * WIDTH, 3));
    const changed = await views.evaluation('r');
    expect(evaluations).toBe(2);
    expect(changed.key).not.toBe(first.key);
    expect(changed.value).toEqual(await data.core.reads.evaluate('r'));
  });

  it('draws at most pcaSampleRows merged samples, and redraws only when the merged space changed', async () => {
    const picture = await views.picture('r');
    expect(picture.value).toMatchObject({ drawn: 40, total: 40 });
    await data.upload('t1', 1, range(40, 100), randomValues(60 * WIDTH, 4));
    const bigger = await views.picture('r');
    expect(bigger.value).toMatchObject({ drawn: 50, total: 100 });
    expect(await views.picture('r')).toBe(bigger);
  });
});
