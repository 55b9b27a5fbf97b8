import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isEncoderSpec, openEmbeddings, openModelEncoder, parseEncoderSpec } from '../src/index.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('encoder specs', () => {
  it('parse onnx:, tfjs: and embeddings: (the location may hold colons); anything else is refused', () => {
    expect(parseEncoderSpec('onnx:/models/a:b.onnx')).toEqual({ kind: 'onnx', location: '/models/a:b.onnx' });
    expect(parseEncoderSpec('embeddings:out')).toEqual({ kind: 'embeddings', location: 'out' });
    for (const bad of ['vanilla-cnn', 'onnx:', 'torch:model.pt']) expect(() => parseEncoderSpec(bad)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(isEncoderSpec('tfjs:m/model.json')).toBe(true);
    expect(isEncoderSpec('vanilla-cnn')).toBe(false);
  });

  it('open the kind they name, and refuse the other opener', async () => {
    const encoder = await openModelEncoder(parseEncoderSpec(`onnx:${path.join(FIXTURES, 'tiny-mlp.onnx')}`), { input: { kind: 'features', width: 5 } });
    expect([encoder.kind, encoder.width]).toEqual(['onnx', 4]);
    await encoder.dispose();
    await expect(openModelEncoder(parseEncoderSpec('embeddings:x'), { input: { kind: 'features', width: 5 } })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(() => openEmbeddings(parseEncoderSpec('onnx:x.onnx'))).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
