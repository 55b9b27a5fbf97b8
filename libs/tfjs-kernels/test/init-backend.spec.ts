import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initTfjsBackend } from '../src/init-backend.ts';
import { TfjsKernelsError } from '../src/errors.ts';
import { WASM_TRAINING_KERNEL_NAMES } from '../src/register-wasm-kernels.ts';

describe('initTfjsBackend', () => {
  it('rejects an unknown preference', async () => {
    await expect(initTfjsBackend('gpu' as 'cpu')).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('picks one backend for the process, with the project kernels on wasm', async () => {
    // Without the native kernels (their own spec covers them): the wasm backend alone runs one thread.
    const info = await initTfjsBackend('auto', { threads: 2, native: false });
    const nodeSkipped = info.skipped.some((s) => s.backend === 'node');
    // tfjs-node is an optional dependency that cannot install without internet: then auto is wasm.
    expect(info.backend).toBe(nodeSkipped ? 'wasm' : 'node');
    expect(tf.getBackend()).toBe(info.tfjsBackend);
    if (info.backend === 'wasm') {
      expect(info.kernels).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
      expect(info.threads).toBe(1);
      expect(info.threadsIgnoredReason).toMatch(/asked for 2 threads, running 1/);
      expect(info.lazyConvInputGradients).toBe(true);
      expect(info.native).toEqual({ active: false, reason: 'turned off (native: false)' });
      // The wasm binaries come from the installed package, so a product works offline.
      const y = tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [1, 2]), false, true);
      expect(Array.from(await y.data())).toEqual([11]);
    }
  });

  it('returns the first choice again and refuses to switch', async () => {
    const first = await initTfjsBackend('auto');
    await expect(initTfjsBackend('auto')).resolves.toBe(first);
    await expect(initTfjsBackend(first.backend)).resolves.toBe(first);
    const other = first.backend === 'cpu' ? 'wasm' : 'cpu';
    const error = await initTfjsBackend(other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfjsKernelsError);
    expect(error).toMatchObject({ code: 'backend_already_chosen', userFacing: true });
  });
});
