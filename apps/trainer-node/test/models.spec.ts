import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import { MODEL_NAMES, TrainerError, buildModel, embeddingModel, embeddingWidth, logitMetrics } from '../src/index.ts';

beforeAll(async () => {
  await initTfjsBackend('auto');
});

describe('buildModel', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: logits of numClasses, an embedding of its width, on 28×28×1 and 32×32×3`, () => {
      for (const shape of [
        [28, 28, 1],
        [32, 32, 3],
      ] as const) {
        const model = buildModel(name, shape, 7, 1);
        const embedder = embeddingModel(model);
        const out = tf.tidy(() => {
          const x = tf.randomNormal([3, ...shape], 0, 1, 'float32', 5);
          const logits = model.predict(x) as tf.Tensor;
          const emb = embedder.predict(x) as tf.Tensor;
          return { logits: logits.shape, emb: emb.shape };
        });
        expect(out.logits).toEqual([3, 7]);
        expect(out.emb).toEqual([3, embeddingWidth(name)]);
        model.dispose();
      }
    });
  }

  it("the paper's VanillaCNN: two 'same' 5×5 convs with SiLU and 2×2 pools, a 128-wide linear embedding, a sigmoid, a linear head", () => {
    const model = buildModel('vanilla-cnn', [32, 32, 3], 10, 0);
    const summary = model.layers.map((l) => [l.getClassName(), l.outputShape]);
    // As the paper's code: padding 2 keeps 32×32, so the embedding reads 8·8·64 = 4,096 features.
    expect(summary).toEqual([
      ['Conv2D', [null, 32, 32, 32]],
      ['MaxPooling2D', [null, 16, 16, 32]],
      ['Conv2D', [null, 16, 16, 64]],
      ['MaxPooling2D', [null, 8, 8, 64]],
      ['Flatten', [null, 4096]],
      ['Dense', [null, 128]],
      ['Activation', [null, 128]],
      ['Dense', [null, 10]],
    ]);
    expect((model.layers[0]!.getConfig() as { activation: string }).activation).toBe('swish');
    expect((model.layers[5]!.getConfig() as { activation: string; name: string }).activation).toBe('linear');
    expect(model.layers[5]!.name).toBe('embedding');
    expect((model.layers[6]!.getConfig() as { activation: string }).activation).toBe('sigmoid');
    expect((model.layers[7]!.getConfig() as { activation: string }).activation).toBe('linear');
    // The embedding model stops before the sigmoid: it returns the linear layer's output.
    const embedder = embeddingModel(model);
    const [emb, lin] = tf.tidy(() => {
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
      return [embedder.predict(x) as tf.Tensor, tf.sigmoid(embedder.predict(x) as tf.Tensor)];
    });
    expect(tf.min(emb!).dataSync()[0]).toBeLessThan(0);
    expect(tf.min(lin!).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([emb!, lin!]);
    model.dispose();
  });

  it('the same seed gives the same weights, another seed others', () => {
    const weights = (seed: number) => {
      const m = buildModel('mlp', [8, 8, 1], 3, seed);
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    expect(weights(4)).toEqual(weights(4));
    expect(weights(4)[0]).not.toEqual(weights(5)[0]);
  });

  it('refuses an unknown model and an input too small for the CNN', () => {
    expect(() => buildModel('resnet', [28, 28, 1], 10, 0)).toThrow(TrainerError);
    expect(() => buildModel('resnet', [28, 28, 1], 10, 0)).toThrow(/unknown model "resnet"/);
    expect(() => buildModel('vanilla-cnn', [3, 8, 1], 10, 0)).toThrow(/at least 4×4, got 3×8/);
  });
});

describe('logitMetrics', () => {
  it('mean softmax cross-entropy and accuracy, checked by hand', () => {
    // Row 0: logits [0, ln 3] → p(1) = 3/4; row 1: [0, 0] → p = 1/2 each, argmax 0 (first max).
    const logits = Float32Array.from([0, Math.log(3), 0, 0]);
    const { loss, accuracy } = logitMetrics(logits, 2, [1, 1]);
    expect(loss).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 6);
    expect(accuracy).toBe(0.5);
  });
});
