import { Command, Option } from 'commander';
import { linearCka, rbfCka } from '@rlsa/core';
import { UsageError } from '../user-error.ts';
import { about, chooseLinalg, printJson, readEmbeddings } from './offline-inputs.ts';

interface CkaOptions {
  kernel: 'linear' | 'rbf';
  debiased: boolean;
}

/** Rows summed in float32 per product by the fast backend before float64 accumulation (see TfjsLinalg). */
const CKA_BLOCK_ROWS = 8192;

/**
 * `rlsa cka [--kernel linear|rbf] [--debiased] X.npy Y.npy`: centered kernel alignment of two
 * spaces of the same N samples, printed as one JSON object
 * `{"cka": c, "n": N, "kernel": "linear", "debiased": false, "dx": Dx, "dy": Dy}`.
 */
export function registerCkaCommand(program: Command): void {
  program
    .command('cka')
    .description('CKA similarity of two spaces of the same samples; prints JSON {"cka", "n", "kernel", "debiased", ...}')
    .argument('<x>', 'N×Dx embeddings (NPY)')
    .argument('<y>', 'N×Dy embeddings of the same samples (NPY)')
    .addOption(new Option('--kernel <kernel>', 'linear (feature space, any N) or rbf (median bandwidth, N ≤ 10,000)').choices(['linear', 'rbf']).default('linear'))
    .option('--debiased', 'unbiased HSIC estimator (Song et al. 2012) instead of the biased one', false)
    .action(async (xPath: string, yPath: string, options: CkaOptions) => {
      const x = readEmbeddings(xPath);
      const y = readEmbeddings(yPath);
      if (x.rows !== y.rows) throw new UsageError('invalid_value', `${yPath} has ${y.rows} rows but ${xPath} has ${x.rows}: CKA compares the same samples`);
      const source = `${xPath}, ${yPath}`;
      let cka: number;
      if (options.kernel === 'rbf') {
        cka = about(source, () => rbfCka(x, y, { debiased: options.debiased }));
      } else {
        const { linalg } = await chooseLinalg(x.rows * (x.cols + y.cols) ** 2);
        cka = about(source, () => linearCka(x, y, { debiased: options.debiased, linalg, blockRows: CKA_BLOCK_ROWS }));
      }
      printJson({ cka, n: x.rows, kernel: options.kernel, debiased: options.debiased, dx: x.cols, dy: y.cols });
    });
}
