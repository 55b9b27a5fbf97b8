import { Command } from 'commander';
import { separability } from '@rlsa/core';
import { readIntegers } from '@rlsa/npy';
import { UsageError } from '../user-error.ts';
import { about, printJson, readEmbeddings } from './offline-inputs.ts';

interface SeparabilityOptions {
  labels: string;
  subset?: number[];
}

/** Parses `--subset 1,2,3` into class labels. */
function parseSubset(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const classes = parts.map(Number);
  if (parts.some((p) => p === '') || !classes.every(Number.isSafeInteger)) {
    throw new UsageError('invalid_value', `--subset must be a comma-separated list of integer class labels, got '${value}'`);
  }
  return [...new Set(classes)];
}

/**
 * `rlsa separability --labels y.npy [--subset 1,2,3] X.npy`: the paper's class separability of
 * the N×D space X with N integer labels, printed as one JSON object
 * `{"score": s, "pairs": P, "n": N, "classes": C, "subset": [..] | null}`.
 */
export function registerSeparabilityCommand(program: Command): void {
  program
    .command('separability')
    .description('class separability of a space (mean over class pairs of centroid distance / mean spread); prints JSON')
    .argument('<x>', 'N×D embeddings (NPY)')
    .requiredOption('--labels <file>', 'NPY of N integer class labels')
    .option('--subset <classes>', 'only pairs with at least one of these classes (comma-separated)', parseSubset)
    .action((xPath: string, options: SeparabilityOptions) => {
      const x = readEmbeddings(xPath);
      const labels = readIntegers(options.labels, { what: 'labels' });
      if (labels.length !== x.rows) throw new UsageError('invalid_value', `${options.labels} has ${labels.length} labels but ${xPath} has ${x.rows} rows`);
      const subset = options.subset ?? null;
      const result = about(xPath, () => separability(x, labels, subset === null ? {} : { subset }));
      printJson({ score: result.score, pairs: result.pairs, n: x.rows, classes: new Set(labels).size, subset });
    });
}
