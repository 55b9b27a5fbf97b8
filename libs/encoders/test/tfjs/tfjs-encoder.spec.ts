import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalizeBatch, type SampleBatch, type SampleShape } from '@rlsa/sources';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTfjsEncoder } from '../../src/tfjs/tfjs-encoder.ts';

const SHAPE: SampleShape = { kind: 'image', height: 6, width: 6, channels: 3 };
const STATS = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
const scratch = mkdtempSync(path.join(tmpdir(), 'tfjs-encoder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Saves a model as `LayersModel.save` does through a file handler: model.json + weights.bin. */
async function save(model: tfl.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData as ArrayBuffer;
      writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}

function classifier(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, name: 'embedding', kernelInitializer: init(2), biasInitializer: 'ones' }),
      tfl.layers.dense({ units: 2, name: 'classifier', kernelInitializer: init(3) }),
    ],
  });
}

const batch: SampleBatch = {
  shape: SHAPE,
  count: 3,
  values: Uint8Array.from({ length: 3 * 108 }, (_, i) => (i * 29) % 256),
  ids: new BigUint64Array(3),
  labels: new Int32Array(3),
};

let model: tfl.Sequential;
let file: string;
beforeAll(async () => {
  await initTfjsBackend('cpu');
  model = classifier();
  model.setUserDefinedMetadata({ 'rlsa.mean': STATS.mean.join(','), 'rlsa.std': STATS.std.join(',') });
  file = await save(model, path.join(scratch, 'saved'));
});

describe('openTfjsEncoder', () => {
  it("gives the saved model's embedding layer output on normalised inputs (statistics from the model's metadata)", async () => {
    const encoder = await openTfjsEncoder({ file, input: SHAPE, backend: 'cpu', batchSize: 2 });
    const cut = tfl.model({ inputs: model.inputs, outputs: model.getLayer('embedding').output as tfl.SymbolicTensor });
    const expected = (cut.predict(tf.tensor(normalizeBatch(batch, STATS), [3, 6, 6, 3])) as tf.Tensor).dataSync();
    expect(encoder.width).toBe(5);
    expect(await encoder.embed(batch)).toEqual(expected);
    expect(encoder.card.details).toMatchObject({ kind: 'tfjs', output: 'embedding', input: '6×6×3 NHWC', normalization: 'mean 0.4,0.5,0.6 std 0.2,0.25,0.3' });
    expect(encoder.card.details['sha256']).toMatch(/^[0-9a-f]{64}$/);
    const logits = await openTfjsEncoder({ file, input: SHAPE, backend: 'cpu', embeddingLayer: 'classifier' });
    expect(logits.width).toBe(2);
  });
});

describe('layersModelEncoder (@rlsa/encoders/tfjs)', () => {
  it("wraps a model in memory (one the node trained) with the same embeddings, and names no path in its card", async () => {
    const { layersModelEncoder } = await import('@rlsa/encoders/tfjs');
    const encoder = layersModelEncoder(model, { input: SHAPE, embeddingLayer: 'embedding', normalization: STATS, name: 'vanilla-cnn trained on this node', backend: 'cpu' });
    const saved = await openTfjsEncoder({ file, input: SHAPE, backend: 'cpu' });
    expect(await encoder.embed(batch)).toEqual(await saved.embed(batch));
    expect(encoder.card.architecture).toBe('tfjs vanilla-cnn trained on this node, input 6×6×3 NHWC, layer "embedding" 5');
    expect(saved.card.architecture).not.toContain(scratch);
  });
});

describe('openTfjsEncoder refuses what does not fit, naming the file', () => {
  it('a layer that does not exist (listing the layers), another input size', async () => {
    await expect(openTfjsEncoder({ file, input: SHAPE, backend: 'cpu', embeddingLayer: 'penultimate' })).rejects.toMatchObject({
      code: 'model_mismatch',
      file,
      message: expect.stringContaining('embedding, classifier'),
    });
    await expect(openTfjsEncoder({ file, input: { kind: 'image', height: 8, width: 8, channels: 3 }, backend: 'cpu' })).rejects.toMatchObject({ code: 'model_mismatch', file });
  });

  it('a missing model, a missing weights file, a graph model, invalid JSON', async () => {
    await expect(openTfjsEncoder({ file: path.join(scratch, 'none', 'model.json'), input: SHAPE, backend: 'cpu' })).rejects.toMatchObject({ code: 'not_found' });
    const noWeights = await save(classifier(), path.join(scratch, 'no-weights'));
    rmSync(path.join(scratch, 'no-weights', 'weights.bin'));
    await expect(openTfjsEncoder({ file: noWeights, input: SHAPE, backend: 'cpu' })).rejects.toMatchObject({ code: 'not_found', file: path.join(scratch, 'no-weights', 'weights.bin') });
    const graph = path.join(scratch, 'graph.json');
    writeFileSync(graph, JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }));
    await expect(openTfjsEncoder({ file: graph, input: SHAPE, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad_format', file: graph });
    const broken = path.join(scratch, 'broken.json');
    writeFileSync(broken, '{"modelTopology": ');
    await expect(openTfjsEncoder({ file: broken, input: SHAPE, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad_format', file: broken });
  });
});
