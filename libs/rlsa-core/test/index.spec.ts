import { describe, expect, it } from 'vitest';
import * as core from '../src/index.ts';

// The names of /tmp/team/core-api.md that other packages code against: renaming one breaks them.
describe('@rlsa/core public API', () => {
  it('exports every value of the contract', () => {
    const values = [
      'matrix', 'takeRows', 'relativeProjection', 'jsLinalg', 'meanOverSpaces', 'weightedMeanOverSpaces', 'MergeAccumulator',
      'jumble', 'absoluteMean', 'linearCka', 'RBF_CKA_MAX_ROWS', 'rbfCka', 'LinearCkaAccumulator', 'separability',
      'mutualKnnAlignment', 'nearestCentroidAccuracy', 'selectAnchors', 'anchorPool', 'partitionTasks', 'RlsaError',
    ];
    for (const name of values) expect(core, name).toHaveProperty(name);
    expect(typeof core.jsLinalg.matmulABt).toBe('function');
    expect(typeof core.jsLinalg.matmulAtB).toBe('function');
    expect(core.RBF_CKA_MAX_ROWS).toBe(10_000);
  });
});
