import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentPaths, generateDocuments } from '../../docs-tables/generate.ts';
import { caught } from './caught.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A repository root with a README and a doc whose table reads a copy of the main job's results. */
function workspace(doc: string): string {
  const root = mkdtempSync(join(tmpdir(), 'rlsa-docs-tables-'));
  mkdirSync(join(root, 'docs/results'), { recursive: true });
  copyFileSync(join(ROOT, 'docs/results/main-job.json'), join(root, 'docs/results/main-job.json'));
  writeFileSync(join(root, 'README.md'), '# readme\n');
  writeFileSync(join(root, 'docs/guide.md'), doc);
  return root;
}

const DOC = '# Guide\n\n<!-- table:simulation-cka results/main-job.json -->\n<!-- /table -->\n\nafter\n';

describe('generateDocuments', () => {
  it('reads README.md, bench/README.md and every Markdown file under docs/', () => {
    expect(documentPaths(workspace(DOC))).toEqual(['README.md', 'docs/guide.md']);
    expect(documentPaths(ROOT)).toEqual(expect.arrayContaining(['README.md', 'bench/README.md', 'docs/simulation.md', 'docs/architecture.md']));
  });

  it('finds a table stale until it is written, and stale again when its JSON changes', async () => {
    const root = workspace(DOC);
    const [readme, guide] = await generateDocuments(root);
    expect(readme!.stale).toEqual([]);
    expect(guide!.stale.map((block) => block.kind)).toEqual(['simulation-cka']);
    expect(guide!.generated).toMatch(/^# Guide\n\n<!-- table:simulation-cka results\/main-job.json -->\n\| CKA \| linear \|[^]*\n<!-- \/table -->\n\nafter\n$/);

    writeFileSync(join(root, 'docs/guide.md'), guide!.generated);
    expect((await generateDocuments(root))[1]!.stale).toEqual([]);

    const path = join(root, 'docs/results/main-job.json');
    const results = JSON.parse(readFileSync(path, 'utf8')) as { cka: { merged_vs_reference: { linear: number } } };
    results.cka.merged_vs_reference.linear += 0.01;
    writeFileSync(path, JSON.stringify(results));
    const again = (await generateDocuments(root))[1]!;
    expect(again.stale.map((block) => block.line)).toEqual([3]);
    expect(again.generated).toContain(`| merged vs reference | ${results.cka.merged_vs_reference.linear.toFixed(3)} |`);
  });

  it('refuses an unknown kind and a missing source, naming the document and line', async () => {
    const unknown = await caught(() => generateDocuments(workspace('<!-- table:no-such-kind results/main-job.json -->\n<!-- /table -->\n')));
    expect(unknown.code).toBe('unknown_table');
    expect(unknown.message).toMatch(/^docs\/guide\.md:1: unknown table kind no-such-kind \(known: simulation-nodes, /);

    const missing = await caught(() => generateDocuments(workspace('\n<!-- table:simulation-cka results/gone.json -->\n<!-- /table -->\n')));
    expect(missing.code).toBe('bad_source');
    expect(missing.message).toBe('docs/guide.md:2: table:simulation-cka: docs/results/gone.json: no such file');
  });
});
