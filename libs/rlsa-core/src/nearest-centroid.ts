import { RlsaError } from './errors.ts';
import { checkLabels, indicesByClass } from './labels.ts';
import { assertFinite, assertMatrix, type Matrix } from './matrix.ts';

/**
 * Nearest-centroid classification accuracy: class centroids μ_c = mean of the train rows of
 * class c (float64); each test row is assigned argmin_c ‖t − μ_c‖₂ (ties to the lower class);
 * returns the fraction of test rows whose assigned class equals their label (a test class
 * absent from train is always wrong). train N×D, test M×D (M ≥ 1).
 */
export function nearestCentroidAccuracy(train: Matrix, trainLabels: ArrayLike<number>, test: Matrix, testLabels: ArrayLike<number>): number {
  assertMatrix(train, 'train');
  assertMatrix(test, 'test');
  if (train.cols !== test.cols) throw new RlsaError('shape_mismatch', `train has ${train.cols} columns, test ${test.cols}`);
  if (train.rows === 0 || test.rows === 0) throw new RlsaError('invalid_argument', 'train and test need at least one row');
  assertFinite(train, 'train');
  assertFinite(test, 'test');
  const ytr = checkLabels(trainLabels, train.rows, 'trainLabels');
  const yte = checkLabels(testLabels, test.rows, 'testLabels');
  const d = train.cols;
  const groups = indicesByClass(ytr);
  const classes = [...groups.keys()];
  const centroids = new Float64Array(classes.length * d);
  classes.forEach((c, ci) => {
    const idx = groups.get(c)!;
    for (const i of idx) for (let k = 0; k < d; k++) centroids[ci * d + k]! += train.data[i * d + k]!;
    for (let k = 0; k < d; k++) centroids[ci * d + k]! /= idx.length;
  });
  let correct = 0;
  for (let i = 0; i < test.rows; i++) {
    let best = Infinity;
    let bestClass = -1;
    for (let ci = 0; ci < classes.length; ci++) {
      let sq = 0;
      for (let k = 0; k < d; k++) {
        const v = test.data[i * d + k]! - centroids[ci * d + k]!;
        sq += v * v;
      }
      if (sq < best) {
        best = sq;
        bestClass = classes[ci]!;
      }
    }
    if (bestClass === yte[i]) correct++;
  }
  return correct / test.rows;
}
