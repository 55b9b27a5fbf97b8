/**
 * Writes a run file for `rlsa aggregator --run-file`: the run id, the anchors (the data set's default
 * anchors: 256 of the seed-42 anchor pool) and their fingerprint, which every node recomputes from its
 * own copy of the data set and must match to join.
 *
 *   npx tsx deploy/scripts/make-run-file.ts --dataset fashion-mnist [--data-dir DIR] --run demo [--anchors 256] > run.yaml
 *   npx tsx deploy/scripts/make-run-file.ts --update-deploy   # rewrites the demo run in deploy/compose and deploy/k8s
 *
 * The operator runs it once, on any machine with the same data set files as the parties.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { anchorFingerprint, defaultAnchorIds, loadDataset } from '@rlsa/data';

/** The run file's content (the aggregator's run-file format: runId, dataset, anchorIds, anchorFingerprint, similarity). */
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
    `dataset: ${JSON.stringify(dataset.name)}`,
    `anchorFingerprint: ${JSON.stringify(anchorFingerprint(dataset, anchorIds))}`,
    'anchorIds: [',
    rows.join(',\n'),
    ']',
    '',
  ].join('\n');
}

/**
 * Rewrites the demo run (synthetic data, run `demo`) where the deployment files hold it: deploy/compose/run.yaml
 * and the `run.yaml` key of the ConfigMap in deploy/k8s/aggregator-configmap.yaml (the last key of that file).
 */
export function updateDeployRunFiles(): void {
  const text = runFileText({ dataset: 'synthetic', run: 'demo' });
  const deploy = join(import.meta.dirname, '..');
  writeFileSync(join(deploy, 'compose', 'run.yaml'), text);
  const configMapPath = join(deploy, 'k8s', 'aggregator-configmap.yaml');
  const configMap = readFileSync(configMapPath, 'utf8');
  const start = configMap.indexOf('  run.yaml: |\n');
  if (start < 0) throw new Error(`${configMapPath} has no "  run.yaml: |" key`);
  const indented = text.split('\n').map((line) => (line === '' ? line : `    ${line}`)).join('\n');
  writeFileSync(configMapPath, `${configMap.slice(0, start)}  run.yaml: |\n${indented}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      run: { type: 'string' },
      anchors: { type: 'string' },
      'update-deploy': { type: 'boolean' },
    },
  });
  if (values['update-deploy'] === true) {
    updateDeployRunFiles();
    process.exit(0);
  }
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
