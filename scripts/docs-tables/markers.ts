import { DocsTableError } from './docs-table-error.ts';

/**
 * One generated block of a Markdown document:
 *
 *     <!-- table:KIND SOURCE -->
 *     ...generated Markdown...
 *     <!-- /table -->
 *
 * KIND names a renderer (`tables.ts`), SOURCE the JSON file (or directory) it reads, relative to
 * the document's directory. Everything between the two marker lines belongs to the generator.
 */
export interface TableBlock {
  readonly kind: string;
  readonly source: string;
  /** 1-based line of the opening marker, for messages. */
  readonly line: number;
  /** Line index (0-based) of the opening marker and of the closing marker. */
  readonly openIndex: number;
  readonly closeIndex: number;
}

const OPEN = /^<!-- table:([a-z0-9-]+)(?: (\S+))? -->$/;
const CLOSE = /^<!-- \/table -->$/;
const ANY_MARKER = /^<!-- \/?table\b/;

/** Finds every block of `text` (the contents of `file`, named in errors); malformed markers are `malformed_marker`. */
export function findTableBlocks(text: string, file: string): TableBlock[] {
  const blocks: TableBlock[] = [];
  let open: { kind: string; source: string; index: number } | null = null;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    if (!ANY_MARKER.test(line)) continue;
    const where = `${file}:${index + 1}`;
    const opening = OPEN.exec(line);
    if (opening) {
      if (open) throw new DocsTableError('malformed_marker', `${where}: a table block opens inside the one opened on line ${open.index + 1}`);
      if (opening[2] === undefined) throw new DocsTableError('malformed_marker', `${where}: table:${opening[1]} names no source file`);
      open = { kind: opening[1]!, source: opening[2], index };
    } else if (CLOSE.test(line)) {
      if (!open) throw new DocsTableError('malformed_marker', `${where}: <!-- /table --> closes no block`);
      blocks.push({ kind: open.kind, source: open.source, line: open.index + 1, openIndex: open.index, closeIndex: index });
      open = null;
    } else {
      throw new DocsTableError('malformed_marker', `${where}: not a table marker: ${line}`);
    }
  }
  if (open) throw new DocsTableError('malformed_marker', `${file}:${open.index + 1}: table block is not closed with <!-- /table -->`);
  return blocks;
}

/** `text` with the content of every block replaced by what `render` returns for it (markers kept). */
export function replaceTableBlocks(text: string, blocks: readonly TableBlock[], render: (block: TableBlock) => string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let next = 0;
  for (const block of blocks) {
    out.push(...lines.slice(next, block.openIndex + 1), ...render(block).trimEnd().split('\n'));
    next = block.closeIndex;
  }
  out.push(...lines.slice(next));
  return out.join('\n');
}
