import type { Command } from 'commander';
import type { NearestQuery } from '@rlsa/client';
import { readMatrix } from '@rlsa/npy';
import { addOptions, defineOptions, integer, resolveOptions, text, UsageError } from '@rlsa/options';
import { operatorCommand } from './run-connection.ts';
import { formatTable, printJson } from './run-output.ts';

export const NEAREST_OPTIONS = defineOptions({
  query: {
    heading: 'Query (one of):',
    options: {
      sample: text('--sample <id>', 'a merged sample id (unsigned 64-bit, decimal)', { env: false }),
      vector: text('--vector <file.npy>', 'a relative vector (the run\'s width, as W or 1×W values)', { env: false }),
      k: integer('-k, --k <n>', 'neighbours', { min: 1, default: 10, env: false }),
    },
  },
});

const UINT64 = /^(0|[1-9]\d{0,19})$/;

/** The query the flags name: a sample id or a vector read from an NPY file. */
async function queryOf(sample: string | undefined, vector: string | undefined): Promise<NearestQuery> {
  if ((sample === undefined) === (vector === undefined)) throw new UsageError('conflicting_options', 'give --sample ID or --vector FILE.npy, one of them');
  if (sample !== undefined) {
    if (!UINT64.test(sample) || BigInt(sample) >= 1n << 64n) throw new UsageError('invalid_value', `--sample must be an unsigned 64-bit integer, got ${JSON.stringify(sample)}`);
    return { sampleId: BigInt(sample) };
  }
  const m = readMatrix(vector as string, { finite: true });
  if (m.rows !== 1 && m.cols !== 1) throw new UsageError('invalid_value', `${vector}: a vector is W or 1×W values, this is ${m.rows}×${m.cols}`);
  return { vector: m.data };
}

/** `rlsa nearest RUN --sample ID | --vector FILE.npy -k 10`: the k nearest merged samples by cosine similarity. */
export function registerNearestCommand(program: Command): void {
  const command = program.command('nearest').description('the nearest merged samples of a run (cosine similarity)').argument('<run>', 'run id');
  addOptions(command, NEAREST_OPTIONS);
  operatorCommand(command, async (client, settings, [runId]: [string], cmd) => {
    const { sample, vector, k } = resolveOptions(cmd, NEAREST_OPTIONS).query;
    const neighbors = await client.nearest(runId, await queryOf(sample, vector), k);
    if (settings.output.json) return printJson(neighbors);
    const rows = neighbors.map((n, i) => [i + 1, n.sampleId.toString(), n.similarity.toFixed(6), n.label < 0 ? '-' : String(n.label)]);
    process.stdout.write(formatTable(['RANK', 'SAMPLE', 'SIMILARITY', 'LABEL'], rows));
  });
}
