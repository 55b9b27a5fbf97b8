import { Command, Option } from 'commander';
import { relativeProjection, SIMILARITIES, takeRows, type Similarity } from '@rlsa/core';
import { writeNpy } from '@rlsa/npy';
import { about, checkAnchorNorms, chooseLinalg, readAnchorIndices, readEmbeddings } from './offline-inputs.ts';

interface RelativeOptions {
  anchorsIdx: string;
  out: string;
  similarity: Similarity;
  center: boolean;
}

/**
 * `rlsa relative --anchors-idx IDX.npy --out R.npy [--similarity cosine|euclidean|l1|angular] [--center] X.npy`:
 * the relative representation of the N×D embeddings X on the anchors X[IDX] (A rows), written
 * as an N×A float32 NPY file.
 */
export function registerRelativeCommand(program: Command): void {
  program
    .command('relative')
    .description('relative representation of X.npy on its rows IDX (the anchors): an N×A float32 NPY')
    .argument('<x>', 'N×D embeddings (NPY, C order)')
    .requiredOption('--anchors-idx <file>', 'NPY of the A row indices of X used as anchors')
    .requiredOption('--out <file>', 'where to write the N×A float32 result (NPY)')
    .addOption(new Option('--similarity <kind>', 'similarity to each anchor').choices(SIMILARITIES).default('cosine'))
    .option('--center', 'subtract the anchor mean from samples and anchors first', false)
    .action(async (xPath: string, options: RelativeOptions) => {
      const x = readEmbeddings(xPath);
      const idx = readAnchorIndices(options.anchorsIdx, x.rows, xPath);
      const anchors = takeRows(x, idx);
      checkAnchorNorms(anchors, idx, xPath, options.similarity, options.center);
      const { linalg } = await chooseLinalg(x.rows * anchors.rows * x.cols);
      const r = about(xPath, () => relativeProjection(x, anchors, { similarity: options.similarity, center: options.center, linalg }));
      writeNpy(options.out, { dtype: 'float32', shape: [r.rows, r.cols], data: r.data instanceof Float32Array ? r.data : Float32Array.from(r.data) });
    });
}
