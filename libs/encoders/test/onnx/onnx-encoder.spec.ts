import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SampleBatch, SampleShape } from '@rlsa/sources';
import { afterAll, describe, expect, it } from 'vitest';
import { openOnnxEncoder } from '../../src/onnx/onnx-encoder.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
/** PyTorch's outputs of the same models on the same inputs (fixtures/make_tiny_models.py). */
const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'tiny-models.json'), 'utf8')) as Record<string, number[]>;
/** ONNX Runtime and PyTorch run the same float32 model with other kernels: agreement to 1e-4. */
const TOLERANCE = 1e-4;
const IMAGE: SampleShape = { kind: 'image', height: 8, width: 8, channels: 3 };
const scratch = mkdtempSync(path.join(tmpdir(), 'onnx-encoder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function imageBatch(count = 4): SampleBatch {
  return {
    shape: IMAGE,
    count,
    values: Uint8Array.from(reference['images_hwc']!.slice(0, count * 192)),
    ids: BigUint64Array.from({ length: count }, (_, i) => BigInt(i)),
    labels: new Int32Array(count),
  };
}

function expectClose(actual: Float32Array, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)));
  expect(worst).toBeLessThan(TOLERANCE);
}

describe('openOnnxEncoder', () => {
  it("equals PyTorch's embeddings to 1e-4, with layout, statistics and output from the model's metadata", async () => {
    const encoder = await openOnnxEncoder({ file: path.join(FIXTURES, 'tiny-cnn.onnx'), input: IMAGE });
    expect(encoder.width).toBe(6);
    expectClose(await encoder.embed(imageBatch()), reference['embedding']!);
    expect(encoder.card.details).toMatchObject({ kind: 'onnx', file: 'tiny-cnn.onnx', input: '8×8×3 NCHW', output: 'embedding', normalization: 'mean 0.5,0.4,0.3 std 0.25,0.2,0.3' });
    expect(encoder.card.details['sha256']).toBe(sha256(path.join(FIXTURES, 'tiny-cnn.onnx')));
    await encoder.dispose();
  });

  it('gives an NHWC model of the same weights the same embeddings (the layout from its metadata)', async () => {
    const encoder = await openOnnxEncoder({ file: path.join(FIXTURES, 'tiny-cnn-nhwc.onnx'), input: IMAGE, threads: 2 });
    expect(encoder.card.details['input']).toBe('8×8×3 NHWC');
    expectClose(await encoder.embed(imageBatch()), reference['embedding']!);
    await encoder.dispose();
  });

  it('takes layout, statistics and output from options for a model without metadata; other outputs too', async () => {
    const file = path.join(FIXTURES, 'tiny-cnn-plain.onnx');
    const options = { file, input: IMAGE, normalization: { mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3] } };
    expectClose(await (await openOnnxEncoder({ ...options, embeddingOutput: 'embedding', batchSize: 3 })).embed(imageBatch()), reference['embedding']!);
    expectClose(await (await openOnnxEncoder({ ...options, embeddingOutput: 'logits' })).embed(imageBatch()), reference['logits']!);
    expectClose(await (await openOnnxEncoder({ file, input: IMAGE, embeddingOutput: 'embedding' })).embed(imageBatch()), reference['embedding_unnormalised']!);
  });

  it('embeds feature vectors with a features model, and the anchors like samples', async () => {
    const shape: SampleShape = { kind: 'features', width: 5 };
    const encoder = await openOnnxEncoder({ file: path.join(FIXTURES, 'tiny-mlp.onnx'), input: shape });
    const batch: SampleBatch = { shape, count: 3, values: Float32Array.from(reference['features']!), ids: new BigUint64Array(3), labels: new Int32Array(3) };
    expectClose(await encoder.embed(batch), reference['mlp_embedding']!);
    expectClose(await encoder.embedAnchors({ count: 3, batch: () => Promise.resolve(batch) }), reference['mlp_embedding']!);
  });
});

describe('openOnnxEncoder refuses a model that does not fit, naming the file', () => {
  it('images of another size (model_mismatch, saying the model wants NCHW 3×8×8)', async () => {
    const file = path.join(FIXTURES, 'tiny-cnn.onnx');
    await expect(openOnnxEncoder({ file, input: { kind: 'image', height: 32, width: 32, channels: 3 } })).rejects.toMatchObject({
      code: 'model_mismatch',
      file,
      message: expect.stringContaining('input "pixels" is [n, 3, 8, 8]'),
    });
    await expect(openOnnxEncoder({ file, input: { kind: 'image', height: 8, width: 8, channels: 1 } })).rejects.toMatchObject({ code: 'model_mismatch' });
    await expect(openOnnxEncoder({ file, input: { kind: 'features', width: 192 } })).rejects.toMatchObject({ code: 'model_mismatch' });
  });

  it('several outputs and none named; a named output that does not exist', async () => {
    const file = path.join(FIXTURES, 'tiny-cnn-plain.onnx');
    await expect(openOnnxEncoder({ file, input: IMAGE })).rejects.toMatchObject({ code: 'model_mismatch', message: expect.stringContaining('embedding, logits') });
    await expect(openOnnxEncoder({ file, input: IMAGE, embeddingOutput: 'features' })).rejects.toMatchObject({ code: 'model_mismatch', file });
  });

  it('a missing file, a file that is not a model', async () => {
    await expect(openOnnxEncoder({ file: path.join(scratch, 'none.onnx'), input: IMAGE })).rejects.toMatchObject({ code: 'not_found' });
    const garbage = path.join(scratch, 'garbage.onnx');
    writeFileSync(garbage, 'this is not a protobuf message at all');
    await expect(openOnnxEncoder({ file: garbage, input: IMAGE })).rejects.toMatchObject({ code: 'bad_format', file: garbage });
  });
});

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
