import { existsSync } from 'node:fs';
import path from 'node:path';
import type { IdScheme } from '../content-id.ts';
import { SourceError } from '../errors.ts';
import { DEFAULT_HOLDOUT_FRACTION, DEFAULT_HOLDOUT_SEED } from '../holdout.ts';
import { rowPart, type RowReader } from '../row-part.ts';
import { NO_LABEL, sameShape, shapeText, type DataSource } from '../sample.ts';
import { PART_TEST, PART_TRAIN, pick, splitParts } from '../split-parts.ts';
import { uniqueSamples } from '../unique-samples.ts';
import { openSampleArray, readSampleRows, scanSampleRows, type SampleArrayFile } from './npy-array-file.ts';
import { readIds, readLabels } from './npy-vectors.ts';

/** The files of an NPY folder; only `x` is required (and `ids` where the options' `ids` is `file`). */
export interface NpyFolderFiles {
  /** Samples: N×H×W×C or N×H×W images (uint8 or floats), or N×F features. */
  readonly x: string;
  /** Labels, N integers; −1 marks an unlabelled row; the file missing = all unlabelled. */
  readonly y: string;
  /** User-given ids, N non-negative integers (uint64 or int64); missing = content ids. */
  readonly ids: string;
  /** The test part's samples; missing = a seeded held-out fraction of `x`. */
  readonly xTest: string;
  readonly yTest: string;
  readonly idsTest: string;
}

/** `npy:DIR`'s file names. */
export const NPY_FOLDER_FILES: NpyFolderFiles = {
  x: 'x.npy',
  y: 'y.npy',
  ids: 'ids.npy',
  xTest: 'x_test.npy',
  yTest: 'y_test.npy',
  idsTest: 'ids_test.npy',
};

export interface NpyFolderOptions {
  /** Other file names (the embeddings folder reads `embeddings.npy`, `ids.npy`, `labels.npy`). */
  readonly files?: NpyFolderFiles;
  /**
   * Where ids come from: `file` requires the ids files (content ids make no sense for
   * embeddings), `content` ignores them (every row named by its canonical bytes), unset: the ids
   * files where present, content ids otherwise. `filename` is refused (rows have no file names).
   */
  readonly ids?: IdScheme;
  /** Share of the samples held out for testing without a test part (default 0.2). */
  readonly holdoutFraction?: number;
  /** Seed of the held-out split (default 42). */
  readonly seed?: number;
  /** The word for the folder in the description (default `npy`). */
  readonly kind?: string;
}

/** One part's files as read: the open sample array, its ids (given or content) and labels. */
interface NpyPartFiles {
  readonly array: SampleArrayFile;
  readonly ids: BigUint64Array;
  /** Content ids of the rows (the same array as `ids` when no ids file is given). */
  readonly contents: BigUint64Array;
  readonly labels: Int32Array;
}

/**
 * Opens an NPY folder as a source: `x.npy`, optional `y.npy` and `ids.npy`, optional
 * `x_test.npy` (with its own `y_test.npy`, `ids_test.npy`). Files are read in row ranges
 * (`openNpy`): one scan computes every row's content id and checks floats are finite, batches
 * read only their rows. Refused, naming the files: lengths that differ, a test part of another
 * shape, NaN/Inf, negative ids, two contents with one given id.
 */
export function openNpyFolder(dir: string, options: NpyFolderOptions = {}): DataSource {
  const files = options.files ?? NPY_FOLDER_FILES;
  const at = (name: string) => path.join(dir, name);
  if (options.ids === 'filename') throw new SourceError('invalid_argument', 'NPY rows have no file names: --ids must be content or file', { file: dir });
  const opened: SampleArrayFile[] = [];
  try {
    const train = readPart(at(files.x), at(files.y), at(files.ids), options.ids, opened);
    const test = existsSync(at(files.xTest)) ? readPart(at(files.xTest), at(files.yTest), at(files.idsTest), options.ids, opened) : undefined;
    if (test !== undefined && (!sameShape(train.array.shape, test.array.shape) || train.array.bytes !== test.array.bytes)) {
      throw new SourceError(
        'bad_format',
        `rows are ${shapeText(test.array.shape)} ${test.array.reader.dtype} but ${files.x}'s are ${shapeText(train.array.shape)} ${train.array.reader.dtype}`,
        { file: at(files.xTest) },
      );
    }
    return npySource(dir, train, test, options);
  } catch (error) {
    for (const array of opened) array.reader.close();
    throw error;
  }
}

function npySource(dir: string, train: NpyPartFiles, test: NpyPartFiles | undefined, options: NpyFolderOptions): DataSource {
  const trainRows = train.array.reader.rows;
  const all = test === undefined ? [train] : [train, test];
  const ids = concat(all.map((p) => p.ids), BigUint64Array);
  const contents = concat(all.map((p) => p.contents), BigUint64Array);
  const labels = concat(all.map((p) => p.labels), Int32Array);
  const name = (i: number) => (i < trainRows ? `${path.basename(train.array.file)}[${i}]` : `${path.basename(test!.array.file)}[${i - trainRows}]`);
  const { keep, duplicates } = uniqueSamples({ ids, contents, name }, dir);
  const parts = test === undefined ? undefined : Uint8Array.from({ length: ids.length }, (_, i) => (i < trainRows ? PART_TRAIN : PART_TEST));
  const split = splitParts(keep, parts, options.holdoutFraction ?? DEFAULT_HOLDOUT_FRACTION, options.seed ?? DEFAULT_HOLDOUT_SEED);
  const reader = combinedReader(all.map((p) => p.array));
  const trainPart = rowPart(reader, split.train, pick(ids, split.train), pick(labels, split.train));
  const testPart = rowPart(reader, split.test, pick(ids, split.test), pick(labels, split.test));
  let classes = 0;
  for (const label of labels) classes = Math.max(classes, label + 1);
  return {
    description: `${options.kind ?? 'npy'}:${dir} (${trainPart.count} train, ${testPart.count} test${test === undefined ? ' held out' : ''}, ${classes} classes, ${shapeText(reader.shape)})`,
    shape: reader.shape,
    classNames: Array.from({ length: classes }, (_, c) => String(c)),
    train: trainPart,
    test: testPart,
    testOrigin: test === undefined ? 'holdout' : 'source',
    duplicates,
    close: () => all.forEach((p) => p.array.reader.close()),
  };
}

function readPart(xFile: string, yFile: string, idsFile: string, scheme: IdScheme | undefined, opened: SampleArrayFile[]): NpyPartFiles {
  const array = openSampleArray(xFile);
  opened.push(array);
  const rows = array.reader.rows;
  const contents = scanSampleRows(array);
  let ids = contents;
  if (scheme !== 'content' && existsSync(idsFile)) ids = readIds(idsFile, rows, xFile);
  else if (scheme === 'file') throw new SourceError('not_found', `no such file: ${path.basename(idsFile)} is required beside ${path.basename(xFile)}`, { file: idsFile });
  const labels = existsSync(yFile) ? readLabels(yFile, rows, xFile) : new Int32Array(rows).fill(NO_LABEL);
  return { array, ids, contents, labels };
}

function concat<T extends BigUint64Array | Int32Array>(arrays: readonly T[], Type: new (n: number) => T): T {
  if (arrays.length === 1) return arrays[0]!;
  const out = new Type(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    (out as { set(a: T, o: number): void }).set(a, offset);
    offset += a.length;
  }
  return out;
}

/** Rows 0..n₀−1 from the first file, the next n₁ from the second: contiguous runs are read at once. */
function combinedReader(arrays: readonly SampleArrayFile[]): RowReader {
  const shape = arrays[0]!.shape;
  const size = rowSize(arrays[0]!);
  const starts = arrays.map((_, k) => arrays.slice(0, k).reduce((n, a) => n + a.reader.rows, 0));
  const bytes = arrays.every((a) => a.bytes);
  return {
    shape,
    read: (rows) => {
      const out = bytes ? new Uint8Array(rows.length * size) : new Float32Array(rows.length * size);
      let k = 0;
      while (k < rows.length) {
        let fileIndex = arrays.length - 1;
        while (starts[fileIndex]! > rows[k]!) fileIndex--;
        const array = arrays[fileIndex]!;
        const first = rows[k]! - starts[fileIndex]!;
        let run = 1;
        while (k + run < rows.length && rows[k + run] === rows[k]! + run && rows[k + run]! - starts[fileIndex]! < array.reader.rows) run++;
        out.set(readSampleRows(array, first, run), k * size);
        k += run;
      }
      return Promise.resolve(out);
    },
  };
}

function rowSize(array: SampleArrayFile): number {
  return array.reader.rowShape.reduce((a, b) => a * b, 1);
}
