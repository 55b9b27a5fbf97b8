import { describe, expect, it } from 'vitest';
import { pcaSpec, renderSvg, UNLABELLED } from '../src/index.ts';

/** The legend's entries of a rendered chart, in order. */
function legendOf(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-text role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
}

describe('pcaSpec rendered by renderSvg', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({ x: i, y: i % 7, label: i === 3 ? -1 : i % 4 }));

  it('draws one mark per point and a legend entry per class, unknown labels as one more class', async () => {
    const svg = await renderSvg(pcaSpec([{ title: 'one panel', points }], 4, ['a', 'b', 'c', 'd']));
    expect(svg.startsWith('<svg')).toBe(true);
    const marks = svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/)?.[1] ?? '';
    expect(marks.match(/<path /g)?.length).toBe(30);
    expect(legendOf(svg)).toEqual(['0 a', '1 b', '2 c', '3 d', UNLABELLED]);
    expect(svg).toContain('one panel');
  });

  it('shares one colour scale across panels', async () => {
    const svg = await renderSvg(pcaSpec([{ title: 'left', points: points.slice(0, 10) }, { title: 'right', points: points.slice(10) }], 4));
    expect(svg.match(/<g class="mark-symbol role-mark[^"]*"/g)?.length).toBe(2);
    expect(legendOf(svg)).toEqual(['0', '1', '2', '3', UNLABELLED]);
  });
});
