import { Command, Option } from 'commander';
import { meanOverSpaces, relativeProjection, SIMILARITIES, takeRows, type Matrix, type Similarity, type Space } from '@rlsa/core';
import { writeNpy } from '@rlsa/npy';
import { UsageError } from '../user-error.ts';
import { about, checkAnchorNorms, chooseLinalg, readAnchorIndices, readEmbeddings } from './offline-inputs.ts';

interface MergeOptions {
  anchorsIdx: string;
  out: string;
  similarity: Similarity;
  center: boolean;
}

/**
 * `rlsa merge --anchors-idx IDX.npy --out M.npy [--similarity ...] X1.npy X2.npy ...`: every Xi
 * holds the same N samples (rows) in its own width Di; each is projected on its own rows IDX
 * and the N×A relative representations are averaged (RLSA), written as float32 NPY.
 */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('merge spaces of the same N samples: the mean of their relative representations on the rows IDX (N×A float32 NPY)')
    .argument('<spaces...>', 'N×Di embeddings of the same samples, one NPY per model')
    .requiredOption('--anchors-idx <file>', 'NPY of the A row indices used as anchors in every space')
    .requiredOption('--out <file>', 'where to write the N×A float32 merged space (NPY)')
    .addOption(new Option('--similarity <kind>', 'similarity to each anchor').choices(SIMILARITIES).default('cosine'))
    .option('--center', 'subtract the anchor mean from samples and anchors first', false)
    .action(async (paths: string[], options: MergeOptions) => {
      const spaces: { path: string; x: Matrix }[] = [];
      for (const path of paths) {
        const x = readEmbeddings(path);
        const first = spaces[0];
        if (first !== undefined && x.rows !== first.x.rows) {
          throw new UsageError('invalid_value', `${path} has ${x.rows} rows but ${first.path} has ${first.x.rows}: merge needs the same samples (rows) in every file`);
        }
        spaces.push({ path, x });
      }
      const n = spaces[0]!.x.rows;
      const idx = readAnchorIndices(options.anchorsIdx, n, 'every space');
      const work = spaces.reduce((sum, s) => sum + n * idx.length * s.x.cols, 0);
      const { linalg } = await chooseLinalg(work);
      const ids = Uint32Array.from({ length: n }, (_, i) => i);
      const relative: Space[] = spaces.map(({ path, x }) => {
        const anchors = takeRows(x, idx);
        checkAnchorNorms(anchors, idx, path, options.similarity, options.center);
        const values = about(path, () => relativeProjection(x, anchors, { similarity: options.similarity, center: options.center, linalg }));
        return { sampleIds: ids, values };
      });
      const merged = meanOverSpaces(relative);
      writeNpy(options.out, { dtype: 'float32', shape: [n, idx.length], data: merged.values.data instanceof Float32Array ? merged.values.data : Float32Array.from(merged.values.data) });
    });
}
