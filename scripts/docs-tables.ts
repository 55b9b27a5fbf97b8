/**
 * Fills the tables of the docs from the JSON the commands write, between
 * `<!-- table:KIND SOURCE -->` and `<!-- /table -->` (kinds: scripts/docs-tables/tables.ts).
 *
 *   tsx scripts/docs-tables.ts           rewrite the blocks (npm run docs:tables)
 *   tsx scripts/docs-tables.ts --check   exit 1, naming each block, when one differs from its JSON (npm test)
 *
 * A malformed marker, an unknown kind or an unreadable source exits 2 with one line naming the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserFacing } from '@rlsa/core';
import { generateDocuments } from './docs-tables/generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`docs-tables: unknown argument ${unknown[0]} (usage: docs-tables.ts [--check])\n`);
    return 2;
  }
  const documents = await generateDocuments(ROOT);
  const stale = documents.filter((doc) => doc.stale.length > 0);
  if (argv.includes('--check')) {
    for (const doc of stale) {
      for (const block of doc.stale) {
        process.stderr.write(`${doc.path}:${block.line}: table:${block.kind} differs from ${block.source} (run: npm run docs:tables)\n`);
      }
    }
    const blocks = documents.reduce((sum, doc) => sum + doc.generated.split('<!-- /table -->').length - 1, 0);
    if (stale.length === 0) process.stdout.write(`docs tables match their JSON (${blocks} tables in ${documents.length} documents)\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const doc of stale) {
    writeFileSync(join(ROOT, doc.path), doc.generated);
    process.stdout.write(`${doc.path}: ${doc.stale.map((block) => `table:${block.kind}`).join(', ')} regenerated\n`);
  }
  if (stale.length === 0) process.stdout.write('docs tables already match their JSON\n');
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error: unknown) {
  if (!isUserFacing(error)) throw error;
  process.stderr.write(`docs-tables: ${error.message}\n`);
  process.exitCode = 2;
}
