import path from 'node:path';
import { readMatrix } from '@rlsa/npy';
import { openNpyFolder, shapeText, type DataSource, type NpyFolderFiles } from '@rlsa/sources';
import { checkFiniteRows, type Encoder } from '../encoder.ts';
import { EncoderError } from '../errors.ts';

/** The files of `embeddings:DIR` (all NPY, written by `numpy.save`). */
export const EMBEDDINGS_FILES = {
  /** N×D embeddings of the party's samples (float16/32/64; read as float32). */
  embeddings: 'embeddings.npy',
  /** N ids (uint64 or int64): required, the rows are merged by id with other parties'. */
  ids: 'ids.npy',
  /** N labels (−1 = none), optional: labelled rows are probed. */
  labels: 'labels.npy',
  /** A×D embeddings of the run's anchors, in the run's anchor order. */
  anchors: 'anchor_embeddings.npy',
  /** Optional test part, as the three above. */
  testEmbeddings: 'embeddings_test.npy',
  testIds: 'ids_test.npy',
  testLabels: 'labels_test.npy',
} as const;

const SOURCE_FILES: NpyFolderFiles = {
  x: EMBEDDINGS_FILES.embeddings,
  y: EMBEDDINGS_FILES.labels,
  ids: EMBEDDINGS_FILES.ids,
  xTest: EMBEDDINGS_FILES.testEmbeddings,
  yTest: EMBEDDINGS_FILES.testLabels,
  idsTest: EMBEDDINGS_FILES.testIds,
};

/** A party that brings embeddings computed anywhere: its samples (the embeddings) and the encoder that passes them through. */
export interface EmbeddingsFolder {
  readonly source: DataSource;
  readonly encoder: Encoder;
}

export interface EmbeddingsFolderOptions {
  /** Share held out for testing when there is no test part (default 0.2). */
  readonly holdoutFraction?: number;
  /** Seed of the held-out split (default 42). */
  readonly seed?: number;
}

/**
 * Opens `embeddings:DIR` (see `EMBEDDINGS_FILES`): the embeddings are read as an NPY source whose
 * samples are N×D feature rows (ids required; finite values; one id per content), and the
 * encoder returns them as they are: no ML runtime is loaded. `anchor_embeddings.npy` must be
 * finite and D wide (checked here) and have one row per run anchor (checked by `embedAnchors`).
 * Every refusal names the file.
 */
export function openEmbeddingsFolder(dir: string, options: EmbeddingsFolderOptions = {}): EmbeddingsFolder {
  const source = openNpyFolder(dir, { files: SOURCE_FILES, ids: 'file', kind: 'embeddings', ...options });
  const embeddingsFile = path.join(dir, EMBEDDINGS_FILES.embeddings);
  try {
    if (source.shape.kind !== 'features') {
      throw new EncoderError('bad_format', `rows are ${shapeText(source.shape)}; embeddings must be a 2-D array N×D`, { file: embeddingsFile });
    }
    const width = source.shape.width;
    const anchorsFile = path.join(dir, EMBEDDINGS_FILES.anchors);
    const anchors = readAnchorEmbeddings(anchorsFile, width, embeddingsFile);
    const encoder: Encoder = {
      kind: 'embeddings',
      width,
      card: {
        // The folder's name only: a card leaves the machine, paths do not.
        architecture: `embeddings ${path.basename(path.resolve(dir))} (${source.train.count + source.test.count} rows of ${width}, computed outside the node)`,
        embeddingWidth: width,
        details: { kind: 'embeddings', file: path.basename(path.resolve(dir)), input: `${width} features`, output: EMBEDDINGS_FILES.embeddings, runtime: 'none' },
      },
      embed: (batch) => {
        if (batch.shape.kind !== 'features' || batch.shape.width !== width || !(batch.values instanceof Float32Array)) {
          return Promise.reject(new EncoderError('model_mismatch', `an embeddings folder passes ${width}-wide float rows through, got ${shapeText(batch.shape)}`, { file: dir }));
        }
        return Promise.resolve(batch.values);
      },
      embedAnchors: (run) => {
        if (anchors.rows !== run.count) {
          return Promise.reject(new EncoderError('bad_format', `${anchors.rows} anchor embeddings, the run has ${run.count} anchors (one row per anchor, in the run's order)`, { file: anchorsFile }));
        }
        return Promise.resolve(anchors.data);
      },
      dispose: () => Promise.resolve(),
    };
    return { source, encoder };
  } catch (error) {
    source.close();
    throw error;
  }
}

function readAnchorEmbeddings(file: string, width: number, embeddingsFile: string): { rows: number; data: Float32Array } {
  let matrix: ReturnType<typeof readMatrix>;
  try {
    matrix = readMatrix(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new EncoderError(code === 'not_found' ? 'not_found' : 'bad_format', error instanceof Error ? error.message.replace(`${file}: `, '') : String(error), { file, cause: error });
  }
  if (matrix.cols !== width) {
    throw new EncoderError('bad_format', `anchor embeddings are ${matrix.cols} wide, ${path.basename(embeddingsFile)}'s are ${width}`, { file });
  }
  const data = matrix.data instanceof Float32Array ? matrix.data : Float32Array.from(matrix.data);
  checkFiniteRows(data, width, file, 'anchor embedding');
  return { rows: matrix.rows, data };
}
