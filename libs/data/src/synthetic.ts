import { normalSampler, randomFloat, randomInt, seededRng, type Rng } from '@rlsa/core';
import type { ImageDataset, ImageSplit } from './dataset.ts';
import { DataError } from './errors.ts';

export interface SyntheticOptions {
  /** Number of classes (default 10, at most 255). */
  readonly numClasses?: number;
  /** [height, width, channels] (default [16, 16, 1]). */
  readonly shape?: readonly [number, number, number];
  /** Training images (default 2,000). */
  readonly trainCount?: number;
  /** Test images (default 500). */
  readonly testCount?: number;
  /** Standard deviation of the pixel noise, in bytes (default 48: the classes overlap a little). */
  readonly noise?: number;
  readonly seed?: number;
}

/** Three random plane waves per class and channel, summed and scaled into [-1, 1]. */
function prototype(rng: Rng, h: number, w: number, c: number): Float32Array {
  const proto = new Float32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) {
    const waves = Array.from({ length: 3 }, () => ({
      fy: 0.5 + randomFloat(rng) * 2.5,
      fx: 0.5 + randomFloat(rng) * 2.5,
      phase: randomFloat(rng) * 2 * Math.PI,
      amp: 0.5 + randomFloat(rng),
    }));
    const total = waves.reduce((s, wv) => s + wv.amp, 0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (const wv of waves) v += wv.amp * Math.sin(2 * Math.PI * ((wv.fy * y) / h + (wv.fx * x) / w) + wv.phase);
        proto[(y * w + x) * c + ch] = v / total;
      }
    }
  }
  return proto;
}

function sampleSplit(protos: readonly Float32Array[], count: number, noise: number, rng: Rng, normal: () => number): ImageSplit {
  const size = (protos[0] as Float32Array).length;
  const k = protos.length;
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // Classes drawn uniformly at random (seeded).
    const label = randomInt(rng, 0, k - 1);
    labels[i] = label;
    const proto = protos[label] as Float32Array;
    // A per-image contrast and brightness jitter so that no single pixel identifies the class.
    const contrast = 70 + randomFloat(rng) * 50;
    const brightness = 128 + (randomFloat(rng) - 0.5) * 40;
    for (let p = 0; p < size; p++) {
      const v = brightness + contrast * (proto[p] as number) + noise * normal();
      images[i * size + p] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return { images, labels, count };
}

/**
 * A seeded synthetic image data set for fast tests: each class has a prototype (a sum of random
 * plane waves per channel); an image is its class prototype under a random contrast and brightness,
 * plus Gaussian pixel noise. Learnable by both the MLP and the CNN in a few epochs, any size and shape.
 * Same options and seed → byte-identical data.
 */
export function syntheticDataset(options: SyntheticOptions = {}): ImageDataset {
  const numClasses = options.numClasses ?? 10;
  const shape = options.shape ?? [16, 16, 1];
  const trainCount = options.trainCount ?? 2000;
  const testCount = options.testCount ?? 500;
  const noise = options.noise ?? 48;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 255) {
    throw new DataError('invalid_argument', `synthetic data: numClasses must be an integer in 2..255, got ${numClasses}`);
  }
  if (!shape.every((d) => Number.isInteger(d) && d > 0) || shape.length !== 3) {
    throw new DataError('invalid_argument', `synthetic data: shape must be three positive integers, got [${shape.join(', ')}]`);
  }
  if (!Number.isInteger(trainCount) || trainCount < 1 || !Number.isInteger(testCount) || testCount < 1) {
    throw new DataError('invalid_argument', 'synthetic data: trainCount and testCount must be positive integers');
  }
  const [h, w, c] = shape;
  const rng = seededRng(Math.floor(seed));
  // One normal sampler over the same stream for both splits: its spare draw carries over.
  const normal = normalSampler(rng);
  const protos = Array.from({ length: numClasses }, () => prototype(rng, h, w, c));
  const train = sampleSplit(protos, trainCount, noise, rng, normal);
  const test = sampleSplit(protos, testCount, noise, rng, normal);
  return {
    name: 'synthetic',
    shape: [h, w, c],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => `pattern ${i}`),
    train,
    test,
    fileLayout: 'hwc',
    source: `synthetic(seed=${seed}, ${h}x${w}x${c}, ${numClasses} classes, ${trainCount}+${testCount}, noise=${noise})`,
  };
}
