import * as tfl from '@tensorflow/tfjs-layers';
import { TrainerError } from './errors.ts';
import { EMBEDDING_LAYER, MODEL_NAMES, MODEL_SPECS, isModelName, type CnnSpec, type MlpSpec } from './model-specs.ts';

export { EMBEDDING_LAYER, MODEL_NAMES, MODEL_SPECS, embeddingWidth, isModelName, type ModelName } from './model-specs.ts';

/**
 * Builds an uncompiled classifier whose output is logits (numClasses wide) and whose layer
 * `embedding` is the linear layer before the head.
 *
 * - `vanilla-cnn` (the paper's code, crisostomi/latent-aggregation `vanilla_cnn.py`): conv 5×5 'same'
 *   (32) → SiLU → max-pool 2×2 → conv 5×5 'same' (64) → SiLU → max-pool 2×2 → flatten → dense 128
 *   (the embedding, linear) → sigmoid → dense numClasses (linear head).
 *   `-narrow`: 16/32 filters, embedding 64; `-wide`: 64/128 filters, embedding 256.
 * - `mlp`: flatten → dense 256 SiLU → dense 128 (embedding) → head; `mlp-narrow` 128 → 64;
 *   `mlp-wide` 512 → 256 SiLU → 256.
 *
 * Input shape [H, W, C] (NHWC batches; the CNNs' two 2×2 pools need H and W of at least 4), or
 * [F] feature vectors (the MLPs only).
 * Kernels are Glorot-uniform with seeds derived from `seed` (biases zero): same seed → same weights.
 */
export function buildModel(
  name: string,
  inputShape: readonly [number, number, number] | readonly [number],
  numClasses: number,
  seed: number,
): tfl.Sequential {
  if (!isModelName(name)) {
    throw new TrainerError('invalid_argument', `unknown model "${name}" (expected one of ${MODEL_NAMES.join(', ')})`);
  }
  const spec: CnnSpec | MlpSpec = MODEL_SPECS[name];
  let layer = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: seed * 1009 + ++layer });
  const layers: tfl.layers.Layer[] = [];
  if (spec.kind === 'cnn') {
    if (inputShape.length !== 3) throw new TrainerError('invalid_argument', `${name} takes images, not ${inputShape[0]} features: train an mlp on features`);
    const [h, w, c] = inputShape;
    // Two 'same' 5×5 convolutions (the paper's padding 2) and two 2×2 pools: H / 4 must stay ≥ 1.
    if (Math.floor(h / 4) < 1 || Math.floor(w / 4) < 1) {
      throw new TrainerError('invalid_argument', `${name} needs inputs of at least 4×4, got ${h}×${w}`);
    }
    layers.push(
      tfl.layers.conv2d({ inputShape: [h, w, c], filters: spec.filters[0], kernelSize: 5, padding: 'same', activation: 'swish', kernelInitializer: init() }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: spec.filters[1], kernelSize: 5, padding: 'same', activation: 'swish', kernelInitializer: init() }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
    );
  } else {
    // Features are already flat (tfjs's flatten wants rank 3 or more): the first dense layer takes them.
    const features = inputShape.length === 1 ? { inputShape: [...inputShape] } : {};
    if (inputShape.length === 3) layers.push(tfl.layers.flatten({ inputShape: [...inputShape] }));
    spec.hidden.forEach((units, k) => layers.push(tfl.layers.dense({ units, activation: 'swish', kernelInitializer: init(), ...(k === 0 ? features : {}) })));
  }
  layers.push(tfl.layers.dense({ units: spec.embedding, name: EMBEDDING_LAYER, kernelInitializer: init() }));
  // The paper's VanillaCNN puts a sigmoid between the embedding and the head (its `final_activation`).
  if (spec.kind === 'cnn') layers.push(tfl.layers.activation({ activation: 'sigmoid' }));
  layers.push(tfl.layers.dense({ units: numClasses, name: 'classifier', kernelInitializer: init() }));
  return tfl.sequential({ layers });
}

/** A model sharing the classifier's weights whose output is the embedding layer's (N × embedding width). */
export function embeddingModel(model: tfl.LayersModel): tfl.LayersModel {
  const embedding = model.getLayer(EMBEDDING_LAYER);
  return tfl.model({ inputs: model.inputs, outputs: embedding.output as tfl.SymbolicTensor });
}
