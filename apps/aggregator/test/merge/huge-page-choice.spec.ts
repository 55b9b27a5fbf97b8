import { describe, expect, it } from 'vitest';
import { HugePageChoice } from '../../src/merge/huge-page-choice.ts';

/** The ways `choice` picks for `arenas` arenas when advised arenas cost `advised` and plain ones `plain` (seconds per byte). */
function picks(choice: HugePageChoice, arenas: number, cost: { advised: number; plain: number }): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < arenas; i += 1) {
    const advised = choice.next();
    out.push(advised);
    choice.record(advised, advised ? cost.advised : cost.plain);
  }
  return out;
}

describe('HugePageChoice', () => {
  it('tries advised, then plain, then keeps the cheaper, trying the other way every 4th arena', () => {
    const T = true;
    const F = false;
    expect(picks(new HugePageChoice(4), 10, { advised: 2e-9, plain: 5e-10 })).toEqual([T, F, F, T, F, F, F, T, F, F]);
    expect(picks(new HugePageChoice(4), 10, { advised: 5e-10, plain: 2e-9 })).toEqual([T, F, T, F, T, T, T, F, T, T]);
  });

  it('follows a change of costs at the next recheck', () => {
    const choice = new HugePageChoice(4);
    expect(picks(choice, 4, { advised: 2e-9, plain: 5e-10 })).toEqual([true, false, false, true]);
    // Faults became dear (huge pages cheaper): the next plain arena measures it (a tie with the last
    // advised cost goes to advice), advice wins from then on, and plain is only rechecked (arena 8).
    expect(picks(choice, 6, { advised: 5e-10, plain: 2e-9 })).toEqual([false, true, true, false, true, true]);
  });
});
