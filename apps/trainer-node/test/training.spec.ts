import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticDataset } from '@rlsa/data';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import { buildModel, evaluateClassifier, trainClassifier } from '../src/index.ts';

beforeAll(async () => {
  await initTfjsBackend('auto');
});

const range = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

describe('trainClassifier', () => {
  it('the MLP learns the synthetic classes: test accuracy far above chance (0.1)', async () => {
    const ds = syntheticDataset({ seed: 2, trainCount: 1500, testCount: 500, noise: 96 });
    const model = buildModel('mlp', ds.shape, ds.numClasses, 1);
    const before = evaluateClassifier(model, ds, 'test', range(500)).accuracy;
    const result = await trainClassifier(model, ds, range(1500), { epochs: 4, batchSize: 64, seed: 1 });
    const after = evaluateClassifier(model, ds, 'test', range(500));
    expect(before).toBeLessThan(0.4);
    expect(after.accuracy).toBeGreaterThan(0.8);
    expect(result.validationSamples).toBe(150);
    expect(result.trainSamples).toBe(1350);
    expect(result.epochs[0]!.trainLoss).toBeGreaterThan(result.epochs.at(-1)!.trainLoss);
    model.dispose();
  });

  it('the narrow VanillaCNN learns too (a short run)', async () => {
    const ds = syntheticDataset({ seed: 4, trainCount: 800, testCount: 300, noise: 64 });
    const model = buildModel('vanilla-cnn-narrow', ds.shape, ds.numClasses, 2);
    await trainClassifier(model, ds, range(800), { epochs: 6, batchSize: 64, seed: 2 });
    expect(evaluateClassifier(model, ds, 'test', range(300)).accuracy).toBeGreaterThan(0.8);
    model.dispose();
  });

  it('is deterministic for a seed and leaks no tensors', async () => {
    const ds = syntheticDataset({ seed: 5, trainCount: 300, testCount: 10 });
    const run = async () => {
      const model = buildModel('mlp-narrow', ds.shape, ds.numClasses, 3);
      const result = await trainClassifier(model, ds, range(300), { epochs: 2, batchSize: 32, seed: 3 });
      const weights = Array.from(model.getWeights()[0]!.dataSync());
      model.dispose();
      return { losses: result.epochs.map((e) => e.trainLoss), weights };
    };
    const first = await run();
    const tensors = tf.memory().numTensors;
    const second = await run();
    expect(second).toEqual(first);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('stops early after `patience` epochs without a better validation loss, keeping the best weights', async () => {
    // A step size far too large: the validation loss cannot keep improving.
    const ds = syntheticDataset({ seed: 6, trainCount: 400, testCount: 10, noise: 120 });
    const model = buildModel('mlp', ds.shape, ds.numClasses, 4);
    const result = await trainClassifier(model, ds, range(400), { epochs: 30, batchSize: 32, seed: 4, learningRate: 0.05, patience: 2 });
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochs.length).toBe(result.bestEpoch + 2);
    const best = result.epochs[result.bestEpoch - 1]!.valLoss;
    expect(Math.min(...result.epochs.map((e) => e.valLoss))).toBe(best);
    model.dispose();
  });
});
