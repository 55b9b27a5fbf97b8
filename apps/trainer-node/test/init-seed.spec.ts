import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import { buildModel, nodeInitSeed } from '../src/index.ts';

beforeAll(async () => {
  await initTfjsBackend('auto');
});

describe('nodeInitSeed', () => {
  it('is reproducible for a node and differs between the nodes of one run', () => {
    expect(nodeInitSeed(42, 'node-1')).toBe(nodeInitSeed(42, 'node-1'));
    const seeds = new Set(['node-1', 'node-2', 'node-3', 'reference'].map((id) => nodeInitSeed(42, id)));
    expect(seeds.size).toBe(4);
    expect(nodeInitSeed(42, 'node-1')).not.toBe(nodeInitSeed(43, 'node-1'));
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31).toBe(true);
  });

  it('gives two parties different initial weights', () => {
    const first = buildModel('mlp', [8, 8, 1], 3, nodeInitSeed(42, 'node-1'));
    const second = buildModel('mlp', [8, 8, 1], 3, nodeInitSeed(42, 'node-2'));
    const kernel = (model: typeof first): Float32Array => model.getWeights()[0]!.dataSync() as Float32Array;
    const a = kernel(first);
    const b = kernel(second);
    expect(a.length).toBe(b.length);
    let differing = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
    expect(differing).toBeGreaterThan(a.length * 0.9);
    tf.dispose([...first.getWeights(), ...second.getWeights()]);
  });
});
