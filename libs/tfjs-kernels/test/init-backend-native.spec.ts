import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { nativeLinalgStatus } from '@rlsa/linalg-native';
import { initTfjsBackend } from '../src/init-backend.ts';
import { NATIVE_KERNEL_NAMES } from '../src/native/register-native-kernels.ts';
import { WASM_TRAINING_KERNEL_NAMES } from '../src/register-wasm-kernels.ts';

const status = nativeLinalgStatus();

// Its own file, so its own process: the backend is chosen once per process.
describe.skipIf(!status.available)('initTfjsBackend on wasm with the native addon', () => {
  it('registers the native kernels over the wasm ones, with the threads asked for', async () => {
    const info = await initTfjsBackend('wasm', { threads: 2 });
    expect(info.backend).toBe('wasm');
    expect(info.kernels).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
    expect(info.native).toEqual({ active: true, threads: 2, simd: status.available ? status.cpuLevel : '', kernels: [...NATIVE_KERNEL_NAMES] });
    expect(info.threads).toBe(2);
    expect(info.threadsIgnoredReason).toBeUndefined();
    const y = tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid');
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4]);
  });

  it('refuses a thread count the kernels cannot take', async () => {
    await expect(initTfjsBackend('wasm', { threads: 65 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
