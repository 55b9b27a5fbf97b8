import { describe, expect, it } from 'vitest';
import { fixed, markdownTable } from '../../docs-tables/markdown-table.ts';

describe('markdownTable', () => {
  it('writes a header, an alignment row and one row per entry, escaping pipes', () => {
    expect(markdownTable(['name', 'value'], [['a|b', '1.000'], ['c']], [1])).toBe(['| name | value |', '|---|---:|', '| a\\|b | 1.000 |', '| c |  |'].join('\n'));
  });

  it('writes an en dash for a missing or non-finite number', () => {
    expect([fixed(0.96851, 3), fixed(null), fixed(undefined), fixed(Number.NaN), fixed(Number.POSITIVE_INFINITY), fixed(2, 1)]).toEqual(['0.969', '–', '–', '–', '–', '2.0']);
  });
});
