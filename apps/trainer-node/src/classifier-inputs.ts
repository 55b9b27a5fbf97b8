import { normalizedImages, type ImageDataset, type Split } from '@rlsa/data';
import { TrainerError } from './errors.ts';

/**
 * Labelled samples a classifier trains and predicts on, by row: a built-in data set's split (its
 * bytes normalised on the fly, as always) or a party's own data held in memory, normalised once.
 */
export interface ClassifierInputs {
  /** One sample's shape: [H, W, C] images (NHWC batches) or [F] features. */
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  /** Samples the rows index. */
  readonly count: number;
  /** Writes the normalised inputs of `rows`, in order, to the start of `out` (rows × size floats). */
  fill(rows: ArrayLike<number>, out: Float32Array): void;
  /** The class of a row, 0..numClasses − 1. */
  label(row: number): number;
}

/** Values in one sample of these inputs. */
export function inputSize(inputs: Pick<ClassifierInputs, 'sampleShape'>): number {
  return inputs.sampleShape.reduce((a, b) => a * b, 1);
}

/** A built-in data set's split: rows are its indices, inputs `normalizedImages` (the data set's channel statistics). */
export function datasetInputs(dataset: ImageDataset, split: Split): ClassifierInputs {
  return {
    sampleShape: dataset.shape,
    numClasses: dataset.numClasses,
    count: dataset[split].count,
    fill: (rows, out) => normalizedImages(dataset, split, rows, out),
    label: (row) => dataset[split].labels[row] as number,
  };
}

/**
 * Samples already normalised in memory: `values` is count × size floats (row-major), `labels` one
 * class per row, each in 0..numClasses − 1 (unlabelled rows are not classifier inputs).
 */
export function memoryInputs(values: Float32Array, labels: Int32Array, sampleShape: readonly number[], numClasses: number): ClassifierInputs {
  const size = inputSize({ sampleShape });
  if (values.length !== labels.length * size) throw new TrainerError('invalid_argument', `${values.length} input values for ${labels.length} samples of ${size}`);
  for (const label of labels) {
    if (!(label >= 0 && label < numClasses)) throw new TrainerError('invalid_argument', `label ${label} is not one of the ${numClasses} classes`);
  }
  return {
    sampleShape,
    numClasses,
    count: labels.length,
    fill: (rows, out) => {
      for (let k = 0; k < rows.length; k++) out.set(values.subarray((rows[k] as number) * size, ((rows[k] as number) + 1) * size), k * size);
    },
    label: (row) => labels[row] as number,
  };
}

/** The inputs of a built-in data set's split, or the given inputs (the training functions take either). */
export function asClassifierInputs(source: ImageDataset | ClassifierInputs, split: Split): ClassifierInputs {
  return 'fill' in source ? source : datasetInputs(source, split);
}
