import { floatScaledIndex, seededRng, shuffleInPlace, type Matrix } from '@rlsa/core';
import { isTestId, type LabelledSpace } from './metrics.ts';
import { pca2 } from '@rlsa/charts';
import type { ReportViews } from './report.ts';

/** Test samples each PCA plot shows at most (a seeded subsample, the same in every space). */
const PCA_POINTS = 1500;

/** The rows of `space` whose ids are in `chosen`, as a matrix, and their row numbers. */
function chosenRows(space: LabelledSpace, chosen: ReadonlySet<number>): { rows: number[]; matrix: Matrix } {
  const rows: number[] = [];
  for (let i = 0; i < space.sampleIds.length; i++) if (chosen.has(space.sampleIds[i]!)) rows.push(i);
  const cols = space.values.cols;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => {
    for (let c = 0; c < cols; c++) data[r * cols + c] = space.values.data[row * cols + c]!;
  });
  return { rows, matrix: { rows: rows.length, cols, data } };
}

/** 2-D PCA of (a seeded subsample of at most 1,500 of) the test samples of each space. */
export function pcaViews(numClasses: number, classNames: readonly string[], seed: number, spaces: readonly (readonly [string, LabelledSpace])[]): ReportViews {
  const first = spaces[0]?.[1];
  const order = Uint32Array.from(first ? Array.from(first.sampleIds).filter(isTestId) : []);
  shuffleInPlace(order, seededRng(Math.floor(seed)), floatScaledIndex);
  const chosen = new Set(order.subarray(0, Math.min(order.length, PCA_POINTS)));
  return {
    numClasses,
    classNames,
    pca: spaces.map(([title, space]) => {
      const { rows, matrix } = chosenRows(space, chosen);
      if (rows.length < 3) return { title, points: [], explained: [0, 0] as const };
      const p = pca2(matrix, { iterations: 200, tolerance: 1e-8 });
      return { title, explained: p.explained, points: rows.map((i, r) => ({ x: p.coords[2 * r]!, y: p.coords[2 * r + 1]!, label: space.labels[i]! })) };
    }),
  };
}
