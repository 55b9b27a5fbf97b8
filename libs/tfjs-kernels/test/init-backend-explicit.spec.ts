import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initTfjsBackend } from '../src/init-backend.ts';

function tfjsNodeWorks(): boolean {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

// Its own file, so its own process: the backend is chosen once per process.
describe('initTfjsBackend with an explicit preference', () => {
  it.skipIf(tfjsNodeWorks())('fails on node when tfjs-node is not installed, then a later choice works', async () => {
    await expect(initTfjsBackend('node')).rejects.toMatchObject({ code: 'backend_unavailable', message: /tfjs backend 'node' is unavailable/ });
    const info = await initTfjsBackend('cpu');
    expect(info).toMatchObject({ backend: 'cpu', tfjsBackend: 'cpu', kernels: [], skipped: [], lazyConvInputGradients: true });
    expect(tf.getBackend()).toBe('cpu');
    const y = tf.add(tf.scalar(2), tf.scalar(3));
    expect(await y.data()).toEqual(new Float32Array([5]));
  });
});
