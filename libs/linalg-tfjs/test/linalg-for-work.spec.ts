import { jsLinalg } from '@rlsa/core';
import { OnnxLinalg } from '@rlsa/linalg-onnx';
import { describe, expect, it } from 'vitest';
import { linalgChoiceFromEnv, linalgForWork, TFJS_MIN_WORK } from '../src/index.ts';

describe('linalgForWork', () => {
  it('keeps small jobs on pure JS and sends large ones to ONNX Runtime when it loads', async () => {
    expect((await linalgForWork(TFJS_MIN_WORK - 1)).linalg).toBe(jsLinalg);
    const large = await linalgForWork(TFJS_MIN_WORK);
    expect(large.name).toBe('onnxruntime-cpu');
    expect(large.linalg).toBeInstanceOf(OnnxLinalg);
    expect(large.threads).toBeGreaterThanOrEqual(1);
    expect((await linalgForWork(1, 'onnx')).name).toBe('onnxruntime-cpu');
    expect((await linalgForWork(TFJS_MIN_WORK, 'js')).linalg).toBe(jsLinalg);
  });

  it('reads RLSA_LINALG', () => {
    expect(linalgChoiceFromEnv({})).toBe('auto');
    expect(linalgChoiceFromEnv({ RLSA_LINALG: 'onnx' })).toBe('onnx');
    expect(() => linalgChoiceFromEnv({ RLSA_LINALG: 'gpu' })).toThrow(/auto, js, tfjs or onnx/);
  });
});
