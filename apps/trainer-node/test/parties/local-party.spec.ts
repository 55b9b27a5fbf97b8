import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { matrix, relativeProjection } from '@rlsa/core';
import { readMatrix, readNpy } from '@rlsa/npy';
import { npyRowHeader, npyRowId } from '@rlsa/sources';
import { dataChoice, modelChoice, runTrainerNode, silentProgress, type TrainerNodeOptions } from '../../src/index.ts';
import { writeNpyFolder } from './party-files.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rlsa-local-party-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

/** Two classes of 6-feature rows: class c is centred on ±1 in every feature, with seeded noise. */
function twoClasses(n: number, seed: number): { x: Float32Array; y: BigInt64Array } {
  let state = seed;
  const noise = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.8;
  const x = new Float32Array(n * 6);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = BigInt(i % 2);
    for (let f = 0; f < 6; f++) x[i * 6 + f] = (i % 2 === 0 ? -1 : 1) + noise();
  }
  return { x, y };
}

function options(extra: Partial<TrainerNodeOptions> & { data: TrainerNodeOptions['data']; model: string }): TrainerNodeOptions {
  return {
    node: { run: 'local', nodeId: 'party', role: 'trainer', task: 0 },
    partition: { scenario: 'shared-classes', tasks: 2, seed: 42, testSplit: 'classes' },
    training: { model: extra.model, epochs: 8, batchSize: 16, patience: 3, validationFraction: 0.1, learningRate: 1e-2, backend: 'auto' },
    upload: { encoding: 'float32', uploadAbsolute: false, chunkRows: 100 },
    progress: silentProgress,
    ...extra,
  };
}

describe("a party's node without an aggregator (train, embed, report)", () => {
  it('trains an mlp on NPY feature rows, projects on a local array anchor set, and writes its embeddings folder', async () => {
    const { x, y } = twoClasses(120, 3);
    const data = writeNpyFolder(path.join(dir, 'features'), { 'x.npy': { dtype: 'float32', shape: [120, 6], data: x }, 'y.npy': { dtype: 'int64', shape: [120], data: y } });
    const anchorRows = twoClasses(8, 11).x;
    const anchors = writeNpyFolder(path.join(dir, 'anchors'), { 'x.npy': { dtype: 'float32', shape: [8, 6], data: anchorRows } });
    const out = path.join(dir, 'out');
    const result = await runTrainerNode(
      options({ model: 'mlp', data: { data: `npy:${data}`, heldOut: 0.25 }, anchors: { anchors }, output: { embeddingsOut: out } }),
      logger,
    );
    expect(result).toMatchObject({ dataset: 'npy:features', model: 'mlp', embeddingWidth: 128, trainSamples: 90, testSamples: 30, anchors: 8, upload: null, task: null, classes: [0, 1] });
    expect(result.taskAccuracy).toBeGreaterThan(0.9);
    expect(result.training?.epochs.length).toBeGreaterThanOrEqual(1);
    // The embeddings folder: every row once, content ids of the rows (no ids.npy given), the anchors in order.
    const ids = readNpy(path.join(out, 'ids.npy')).data as BigUint64Array;
    const header = npyRowHeader('float32', [6]);
    const contentIds = Array.from({ length: 120 }, (_, i) => npyRowId(header, new Uint8Array(x.buffer, i * 24, 24)));
    expect([...ids].sort()).toEqual(contentIds.sort());
    expect(readMatrix(path.join(out, 'embeddings.npy'))).toMatchObject({ rows: 120, cols: 128 });
    const anchorEmbeddings = readMatrix(path.join(out, 'anchor_embeddings.npy'));
    expect(anchorEmbeddings).toMatchObject({ rows: 8, cols: 128 });
    // Anchors of one class embed closer to each other than to the other class's (the model learnt the classes).
    const anchorMatrix = matrix(8, 128, Float64Array.from(anchorEmbeddings.data));
    const cosines = relativeProjection(anchorMatrix, anchorMatrix, { similarity: 'cosine', center: false }).data;
    expect(cosines[0 * 8 + 2]!).toBeGreaterThan(cosines[0 * 8 + 1]!);
  }, 120_000);

  it('refuses a party without --anchors and without an aggregator (nothing to project on), and a vanilla-cnn on features', async () => {
    const data = writeNpyFolder(path.join(dir, 'few'), { 'x.npy': { dtype: 'float32', shape: [10, 6], data: twoClasses(10, 5).x }, 'y.npy': { dtype: 'int64', shape: [10], data: twoClasses(10, 5).y } });
    await expect(runTrainerNode(options({ model: 'mlp', data: { data: `npy:${data}` } }), logger)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/--anchors is required without --aggregator/) });
    await expect(runTrainerNode(options({ model: 'vanilla-cnn', data: { data: `npy:${data}` }, anchors: { anchors: path.join(dir, 'anchors') } }), logger)).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/vanilla-cnn takes images, not 6 features/),
    });
  });
});

describe('--data, --dataset and --model', () => {
  it('name one source and one model, or are refused in one line', () => {
    expect(modelChoice('vanilla-cnn')).toEqual({ kind: 'trained', name: 'vanilla-cnn' });
    expect(modelChoice('onnx:m.onnx')).toEqual({ kind: 'pretrained', spec: { kind: 'onnx', location: 'm.onnx' } });
    expect(modelChoice('embeddings:out')).toEqual({ kind: 'embeddings', spec: { kind: 'embeddings', location: 'out' } });
    expect(() => modelChoice('resnet')).toThrow(/--model must be one of vanilla-cnn, .*, or onnx:FILE.onnx, tfjs:DIR\/model.json, embeddings:DIR, got "resnet"/);
    const trained = modelChoice('mlp');
    expect(dataChoice({ dataset: 'synthetic' }, trained)).toEqual({ kind: 'builtin', dataset: 'synthetic' });
    expect(dataChoice({ data: 'builtin:synthetic', dataset: 'synthetic' }, trained)).toEqual({ kind: 'builtin', dataset: 'synthetic' });
    expect(dataChoice({ data: 'imagefolder:/x' }, trained)).toEqual({ kind: 'imagefolder', dir: '/x' });
    expect(dataChoice({}, modelChoice('embeddings:e'))).toEqual({ kind: 'embeddings', dir: 'e' });
    expect(() => dataChoice({}, trained)).toThrow(/--data \(imagefolder:DIR, npy:DIR, builtin:NAME\) or --dataset is required/);
    expect(() => dataChoice({ data: 'builtin:imagenet' }, trained)).toThrow(/--data builtin:NAME must name one of/);
    expect(() => dataChoice({ data: 'builtin:cifar10', dataset: 'synthetic' }, trained)).toThrow(/name two data sets/);
    expect(() => dataChoice({ data: 'npy:/x', dataset: 'synthetic' }, trained)).toThrow(/name two sources/);
    expect(() => dataChoice({ data: 'npy:/x' }, modelChoice('embeddings:e'))).toThrow(/brings its own samples/);
    expect(() => dataChoice({ data: 'folder:/x' }, trained)).toThrow(/--data must be one of imagefolder:DIR, npy:DIR, builtin:NAME/);
  });
});
