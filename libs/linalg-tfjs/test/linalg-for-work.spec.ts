import { jsLinalg } from '@rlsa/core';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import { OnnxLinalg } from '@rlsa/linalg-onnx';
import { describe, expect, it } from 'vitest';
import { linalgChoiceFromEnv, linalgForWork, TFJS_MIN_WORK } from '../src/index.ts';

describe('linalgForWork', () => {
  const native = nativeLinalgStatus();

  it('keeps small jobs on pure JS and sends large ones to the native kernels when built, else ONNX Runtime', async () => {
    expect((await linalgForWork(TFJS_MIN_WORK - 1)).linalg).toBe(jsLinalg);
    const large = await linalgForWork(TFJS_MIN_WORK);
    if (native.available) {
      expect(large.name).toBe(`native-${native.cpuLevel}`);
      expect(large.linalg).toBeInstanceOf(NativeLinalg);
    } else {
      expect(large.name).toBe('onnxruntime-cpu');
      expect(large.linalg).toBeInstanceOf(OnnxLinalg);
    }
    expect(large.threads).toBeGreaterThanOrEqual(1);
    expect((await linalgForWork(1, 'onnx')).name).toBe('onnxruntime-cpu');
    expect((await linalgForWork(TFJS_MIN_WORK, 'js')).linalg).toBe(jsLinalg);
  });

  it.runIf(native.available)('RLSA_LINALG=native forces the native kernels, even for small products', async () => {
    expect((await linalgForWork(1, 'native')).linalg).toBeInstanceOf(NativeLinalg);
  });

  it('reads RLSA_LINALG', () => {
    expect(linalgChoiceFromEnv({})).toBe('auto');
    expect(linalgChoiceFromEnv({ RLSA_LINALG: 'onnx' })).toBe('onnx');
    expect(linalgChoiceFromEnv({ RLSA_LINALG: 'native' })).toBe('native');
    expect(() => linalgChoiceFromEnv({ RLSA_LINALG: 'gpu' })).toThrow(/auto, js, native, tfjs or onnx/);
  });
});
