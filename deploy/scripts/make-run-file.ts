/**
 * Writes a run file for `rlsa aggregator --run-file`: the run id, the anchors (the data set's default
 * anchors: 256 of the seed-42 anchor pool) and their fingerprint, which every node recomputes from its
 * own copy of the data set and must match to join.
 *
 *   npx tsx deploy/scripts/make-run-file.ts --dataset fashion-mnist [--data-dir DIR] --run demo [--anchors 256] > run.yaml
 *
 * The operator runs it once, on any machine with the same data set files as the parties.
 */
import { parseArgs } from 'node:util';
import { anchorFingerprint, defaultAnchorIds, loadDataset } from '@rlsa/data';

/** The run file's content (the aggregator's run-file format: runId, anchorIds, anchorFingerprint, similarity). */
export function runFileText(options: { dataset: string; dataDir?: string; run: string; anchors?: number }): string {
  const dataset = loadDataset(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  const anchorIds = Array.from(defaultAnchorIds(dataset, options.anchors === undefined ? {} : { count: options.anchors }));
  const rows: string[] = [];
  for (let i = 0; i < anchorIds.length; i += 16) rows.push(`    ${anchorIds.slice(i, i + 16).join(', ')}`);
  return [
    `# Run file for \`rlsa aggregator --run-file\`: data set ${options.dataset}, ${anchorIds.length} default anchors.`,
    '# Made by deploy/scripts/make-run-file.ts; nodes recompute the fingerprint from their own copy of the data.',
    `runId: ${JSON.stringify(options.run)}`,
    'similarity: cosine',
    `anchorFingerprint: ${JSON.stringify(anchorFingerprint(dataset, anchorIds))}`,
    'anchorIds: [',
    rows.join(',\n'),
    ']',
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { dataset: { type: 'string' }, 'data-dir': { type: 'string' }, run: { type: 'string' }, anchors: { type: 'string' } },
  });
  if (values.dataset === undefined || values.run === undefined) {
    process.stderr.write('usage: make-run-file.ts --dataset NAME [--data-dir DIR] --run RUN_ID [--anchors 256]\n');
    process.exit(2);
  }
  process.stdout.write(
    runFileText({
      dataset: values.dataset,
      run: values.run,
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      ...(values.anchors === undefined ? {} : { anchors: Number(values.anchors) }),
    }),
  );
}
