/**
 * Runs inside a test network namespace (`ip netns exec NS node --import tsx netns-client.ts ...`) and
 * prints one JSON line: what an operator or an intruder at that address gets from the aggregator.
 *
 *   netns-client.ts status   ADDRESS RUN PKI_DIR ADMIN_TOKEN_FILE
 *   netns-client.ts refusals ADDRESS RUN PKI_DIR FOREIGN_PKI_DIR NODE_TOKEN_FILE
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAggregatorClient, type AggregatorClient } from '@rlsa/client';

const [mode, address, runId, pki, fourth, fifth] = process.argv.slice(2) as [string, string, string, string, string, string?];
const read = (path: string): Buffer => readFileSync(path);
const token = (path: string): string => readFileSync(path, 'utf8').trim();

/** The gRPC status name of a failed call, or 'OK'. */
async function outcome(client: AggregatorClient, call: (client: AggregatorClient) => Promise<unknown>): Promise<string> {
  try {
    await call(client);
    return 'OK';
  } catch (error: unknown) {
    return String((error as { code?: unknown }).code ?? (error as Error).message);
  } finally {
    client.close();
  }
}

if (mode === 'status') {
  const client = createAggregatorClient({
    address,
    token: token(fourth),
    tls: { ca: read(join(pki, 'ca.crt')), cert: read(join(pki, 'operator.crt')), key: read(join(pki, 'operator.key')) },
  });
  const run = await client.getRun(runId);
  const merged = await client.readMerged(runId);
  const evaluation = await client.evaluate(runId);
  client.close();
  process.stdout.write(
    `${JSON.stringify({
      nodes: run.nodes.map((node) => ({ nodeId: node.nodeId, role: node.role, finished: node.finished, relativeRows: Number(node.relativeRows) })),
      mergedSamples: merged.sampleIds.length,
      width: merged.values.cols,
      evaluation,
    })}\n`,
  );
} else if (mode === 'refusals') {
  const foreign = fourth;
  const nodeToken = token(fifth ?? '');
  const ca = read(join(pki, 'ca.crt'));
  const node1 = { ca, cert: read(join(pki, 'node-1.crt')), key: read(join(pki, 'node-1.key')) };
  const join_ = (nodeId: string) => (client: AggregatorClient) =>
    client.join({ runId, nodeId, role: 'trainer', taskId: '0', model: { architecture: 'intruder', embeddingWidth: 4 }, anchorFingerprint: '00'.repeat(32), relativeWidth: 256 });
  const result = {
    // mTLS: no client certificate, or one from another CA: the handshake fails.
    noClientCert: await outcome(createAggregatorClient({ address, token: nodeToken, tls: { ca } }), join_('node-1')),
    foreignClientCert: await outcome(
      createAggregatorClient({ address, token: nodeToken, tls: { ca, cert: read(join(foreign, 'node-1.crt')), key: read(join(foreign, 'node-1.key')) } }),
      join_('node-1'),
    ),
    plaintext: await outcome(createAggregatorClient({ address, token: nodeToken }), join_('node-1')),
    // A valid certificate but no token, or a wrong one.
    noToken: await outcome(createAggregatorClient({ address, tls: node1 }), join_('node-1')),
    wrongToken: await outcome(createAggregatorClient({ address, token: 'x'.repeat(43), tls: node1 }), join_('node-1')),
    // node-1's token writing as node-2.
    impersonation: await outcome(createAggregatorClient({ address, token: nodeToken, tls: node1 }), join_('node-2')),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
