import { describe, expect, it } from 'vitest';
import { findTableBlocks, replaceTableBlocks } from '../../docs-tables/markers.ts';
import { caught } from './caught.ts';

const DOC = [
  '# Title',
  '',
  '<!-- table:simulation-cka results/a.json -->',
  '| old |',
  '<!-- /table -->',
  'prose',
  '<!-- table:bench-core ../bench/results/core.json -->',
  '<!-- /table -->',
  '',
].join('\n');

describe('table markers', () => {
  it('finds each block with its kind, source and line', () => {
    const blocks = findTableBlocks(DOC, 'docs/x.md');
    expect(blocks.map(({ kind, source, line }) => ({ kind, source, line }))).toEqual([
      { kind: 'simulation-cka', source: 'results/a.json', line: 3 },
      { kind: 'bench-core', source: '../bench/results/core.json', line: 7 },
    ]);
  });

  it('replaces what lies between the markers and nothing else', () => {
    const blocks = findTableBlocks(DOC, 'docs/x.md');
    const out = replaceTableBlocks(DOC, blocks, (block) => `| ${block.kind} |\n|---|\n`);
    expect(out).toBe(
      [
        '# Title',
        '',
        '<!-- table:simulation-cka results/a.json -->',
        '| simulation-cka |',
        '|---|',
        '<!-- /table -->',
        'prose',
        '<!-- table:bench-core ../bench/results/core.json -->',
        '| bench-core |',
        '|---|',
        '<!-- /table -->',
        '',
      ].join('\n'),
    );
    // Generating again from the output gives the output: the blocks are found where they were written.
    expect(replaceTableBlocks(out, findTableBlocks(out, 'docs/x.md'), (block) => `| ${block.kind} |\n|---|`)).toBe(out);
  });

  it('refuses malformed blocks, naming the file and line', async () => {
    const cases: [string, RegExp][] = [
      ['<!-- table:a x.json -->\n<!-- table:b y.json -->\n<!-- /table -->', /^docs\/x\.md:2: a table block opens inside the one opened on line 1$/],
      ['text\n<!-- table:a x.json -->\n| row |', /^docs\/x\.md:2: table block is not closed/],
      ['<!-- /table -->', /^docs\/x\.md:1: <!-- \/table --> closes no block$/],
      ['<!-- table:a -->\n<!-- /table -->', /^docs\/x\.md:1: table:a names no source file$/],
      ['<!-- table:A_B x.json -->\n<!-- /table -->', /^docs\/x\.md:1: not a table marker/],
    ];
    for (const [text, message] of cases) {
      const error = await caught(() => findTableBlocks(text, 'docs/x.md'));
      expect(error.code).toBe('malformed_marker');
      expect(error.userFacing).toBe(true);
      expect(error.message).toMatch(message);
    }
  });
});
