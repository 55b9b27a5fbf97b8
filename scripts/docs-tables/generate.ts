import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DocsTableError } from './docs-table-error.ts';
import { findTableBlocks, replaceTableBlocks, type TableBlock } from './markers.ts';
import { isTableName, TABLES } from './tables.ts';

/** The documents that may hold generated tables, relative to the repository root. */
export function documentPaths(root: string): string[] {
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.md'))
        .map((name) => join('docs', name))
    : [];
  return ['README.md', 'bench/README.md', ...docs.sort()].filter((path) => existsSync(join(root, path)));
}

/** One document's text as it is and as the generator makes it, and its blocks. */
export interface GeneratedDocument {
  /** Relative to the repository root. */
  readonly path: string;
  readonly current: string;
  readonly generated: string;
  /** The blocks whose content differs from what the generator makes. */
  readonly stale: readonly TableBlock[];
}

/** Renders one block: its kind from the registry, its source relative to the document. */
async function renderBlock(root: string, path: string, block: TableBlock): Promise<string> {
  if (!isTableName(block.kind)) {
    throw new DocsTableError('unknown_table', `${path}:${block.line}: unknown table kind ${block.kind} (known: ${Object.keys(TABLES).join(', ')})`);
  }
  const source = resolve(root, dirname(path), block.source);
  try {
    return await TABLES[block.kind].render(source);
  } catch (error: unknown) {
    if (error instanceof DocsTableError && error.code === 'bad_source') {
      throw new DocsTableError('bad_source', `${path}:${block.line}: table:${block.kind}: ${error.message.replace(source, relative(root, source))}`, { cause: error });
    }
    throw error;
  }
}

/** Every document's generated text (nothing is written). */
export async function generateDocuments(root: string): Promise<GeneratedDocument[]> {
  const documents: GeneratedDocument[] = [];
  for (const path of documentPaths(root)) {
    const current = readFileSync(join(root, path), 'utf8');
    const blocks = findTableBlocks(current, path);
    const rendered = new Map<TableBlock, string>();
    for (const block of blocks) rendered.set(block, await renderBlock(root, path, block));
    const generated = replaceTableBlocks(current, blocks, (block) => rendered.get(block)!);
    const lines = current.split('\n');
    const stale = blocks.filter((block) => lines.slice(block.openIndex + 1, block.closeIndex).join('\n').trimEnd() !== rendered.get(block)!.trimEnd());
    documents.push({ path, current, generated, stale });
  }
  return documents;
}
