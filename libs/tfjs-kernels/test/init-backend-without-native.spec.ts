import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { initTfjsBackend } from '../src/init-backend.ts';
import { conv2DBackpropFilterConfig } from '../src/kernels/Conv2DBackpropFilter.ts';
import { FLOAT32_TOLERANCE, maxScaledError } from './testing/compare-backends.ts';
import { vanillaLossAndGrads } from './testing/training-steps.ts';

// The addon as it is where `npm ci` could not build it (no compiler, RLSA_NATIVE_SKIP_BUILD=1).
vi.mock('@rlsa/linalg-native', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@rlsa/linalg-native')>()),
  nativeLinalgStatus: () => ({ available: false, reason: 'the addon was not built (install step: RLSA_NATIVE_SKIP_BUILD=1)' }),
  nativeTrainingKernels: () => null,
}));

describe('initTfjsBackend on wasm without the native addon', () => {
  it('falls back to the project wasm kernels, which train as the cpu backend does', async () => {
    const info = await initTfjsBackend('wasm', { threads: 2 });
    expect(info.native).toEqual({
      active: false,
      reason: '@rlsa/linalg-native is unavailable: the addon was not built (install step: RLSA_NATIVE_SKIP_BUILD=1)',
    });
    expect(info.threads).toBe(1);
    expect(info.threadsIgnoredReason).toMatch(/asked for 2 threads, running 1/);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(conv2DBackpropFilterConfig.kernelFunc);
    const actual = await Promise.all(tf.tidy(vanillaLossAndGrads).map(async (t) => (await t.data()) as Float32Array));
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const expected = await Promise.all(tf.tidy(vanillaLossAndGrads).map(async (t) => (await t.data()) as Float32Array));
    expect(actual).toHaveLength(9);
    for (let i = 0; i < expected.length; i++) expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
  });
});

describe('RLSA_NATIVE_DISABLE=1 (a real process, the real addon loader)', () => {
  it('turns the native kernels off: the wasm kernels are registered instead, and the reason is reported', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const script = [
      "import { initTfjsBackend } from '@rlsa/tfjs-kernels';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "const info = await initTfjsBackend('wasm');",
      "const names = ['FusedConv2D', 'Conv2DBackpropFilter'].map((n) => tf.getKernel(n, 'wasm')?.kernelFunc.name);",
      'console.log(JSON.stringify({ native: info.native, threads: info.threads, names }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, RLSA_NATIVE_DISABLE: '1' },
      encoding: 'utf8',
    });
    const report = JSON.parse(out.trim().split('\n').pop()!) as { native: unknown; threads: number; names: string[] };
    expect(report.native).toEqual({ active: false, reason: '@rlsa/linalg-native is unavailable: turned off by RLSA_NATIVE_DISABLE=1' });
    expect(report.threads).toBe(1);
    // The stock fused convolution and the project's wasm filter gradient, not the native kernels' closure.
    expect(report.names).toEqual(['fusedConv2d', 'conv2DBackpropFilter']);
  });
});
