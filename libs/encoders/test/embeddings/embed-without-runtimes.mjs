// Child process of embeddings-folder.spec.ts: with tsx for the TypeScript sources and, after it,
// the hooks that refuse ML runtimes, opens `--model` (argv[2]) and embeds the folder's training
// and test rows and the anchors (argv[3] of them); prints the checksums as JSON.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./block-ml-runtimes.mjs', import.meta.url);
const { openEmbeddings, openModelEncoder, parseEncoderSpec } = await import('../../src/index.ts');
const spec = parseEncoderSpec(process.argv[2]);
if (spec.kind !== 'embeddings') await openModelEncoder(spec, { input: { kind: 'features', width: 3 } });
const { source, encoder } = openEmbeddings(spec);
let sum = 0;
for (const part of [source.train, source.test]) for await (const batch of part.batches(2)) for (const v of await encoder.embed(batch)) sum += v;
const anchors = await encoder.embedAnchors({ count: Number(process.argv[3]), batch: () => Promise.reject(new Error('no anchor inputs needed')) });
process.stdout.write(JSON.stringify({ sum, anchors: Array.from(anchors) }));
