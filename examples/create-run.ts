/**
 * The operator's side of docs/join-a-run.md's offline walk-through: uploads a folder of anchor
 * images to the aggregator as an anchor set (its canonical encoding, streamed in chunks; the
 * fingerprint is its SHA-256) and creates a run on it; with --status, prints the run instead
 * (its nodes, their model cards, rows and the merged samples several parties share).
 *
 *   npx tsx examples/create-run.ts --run demo --anchors examples/data/anchors [--aggregator 127.0.0.1:50051]
 *   npx tsx examples/create-run.ts --run demo --status
 *
 * The address comes from --aggregator, else RLSA_AGGREGATOR; a token from RLSA_TOKEN when the
 * aggregator asks for one. (The operator command line, `rlsa run create`, does the same.)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAggregatorClient, type AggregatorClient } from '@rlsa/client';
import { anchorSetSummaryOf } from '@rlsa/aggregator';
import { encodeAnchorSet, readAnchorSet, sha256Hex } from '@rlsa/sources';

/** Uploads the anchor set read from `anchors` (a folder of images, an array, an encoded set) and creates `runId` on it; returns the fingerprint. */
export async function createRun(client: AggregatorClient, runId: string, anchors: string): Promise<string> {
  const set = await readAnchorSet(anchors);
  const encoded = encodeAnchorSet(set);
  const fingerprint = sha256Hex(encoded);
  const summary = anchorSetSummaryOf(set, encoded.byteLength);
  await client.uploadAnchorSet({ fingerprint, summary, bytes: encoded });
  await client.createRun({ runId, anchors: { kind: 'anchor-set', fingerprint, summary }, similarity: 'cosine' });
  return fingerprint;
}

/** One line per node (its card and rows) and the merged samples, with how many parties each came from. */
export async function runStatusLines(client: AggregatorClient, runId: string): Promise<string[]> {
  const status = await client.getRun(runId);
  const lines = status.nodes.map((node) => `${node.nodeId}: ${node.model?.architecture ?? '?'} (${node.model?.embeddingWidth ?? '?'} wide), ${node.relativeRows} relative rows${node.finished ? ', finished' : ''}`);
  const merged = await client.readMerged(runId);
  const shared = Array.from(merged.counts).filter((count) => count > 1).length;
  lines.push(`merged: ${merged.sampleIds.length} samples, ${shared} of them from more than one party`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { aggregator: { type: 'string' }, run: { type: 'string' }, anchors: { type: 'string' }, status: { type: 'boolean', default: false } } });
  const address = values.aggregator ?? process.env['RLSA_AGGREGATOR'];
  if (address === undefined || values.run === undefined || (!values.status && values.anchors === undefined)) {
    process.stderr.write('create-run: give --run and --anchors DIR (or --status), and --aggregator or RLSA_AGGREGATOR\n');
    process.exit(2);
  }
  const token = process.env['RLSA_TOKEN'];
  const client = createAggregatorClient({ address, ...(token !== undefined ? { token } : {}) });
  try {
    if (values.status) process.stdout.write(`${(await runStatusLines(client, values.run)).join('\n')}\n`);
    else process.stdout.write(`run ${values.run} created on anchor set ${await createRun(client, values.run, values.anchors!)}\n`);
  } finally {
    client.close();
  }
}
