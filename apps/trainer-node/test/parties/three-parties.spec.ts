import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregatorClient, type AggregatorClient, type SpaceRows } from '@rlsa/client';
import { matrix, relativeProjection } from '@rlsa/core';
import { readMatrix, readNpy } from '@rlsa/npy';
import { startAggregatorProcess, runRlsa, type AggregatorProcess } from '../helpers.ts';
import { createAnchorSetRun, fileId, fixture, imageRow, PARTY_ENCODER, writeNpyFolder, writePng } from './party-files.ts';

// Three parties (and a fourth for content ids) on one run, as real processes over gRPC with the
// aggregator's SQLite and segment files: (a) an image folder of PNG files with a vanilla-cnn it
// trains; (b) an NPY folder with the fixtures' ONNX encoder; (c) embeddings computed in NumPy;
// (d) an image folder with the ONNX encoder holding byte-identical copies of three of (a)'s files
// and a re-encoded copy (same pixels, other bytes) of a fourth. They share images by content id,
// never by index. The anchors are 10 PNG files the operator uploads; the nodes fetch them.

/** Cosines of float32 embeddings computed in float32 by the node against float64 in NumPy. */
const FLOAT32_COSINE_TOLERANCE = 1e-5;
/**
 * ONNX Runtime against PyTorch on the same model: the embeddings agree to 1e-4 (issue 14's bound),
 * so do their cosines (an embedding's norm here is far above 1, so a 1e-4 change moves a cosine less).
 */
const ONNX_VS_TORCH_TOLERANCE = 1e-4;

const SIDE = 8;
const pool = fixture('pool');
const poolLabels = Array.from(fixture('pool_labels').data as Int32Array);
const onnxRelative = readMatrix(path.join(import.meta.dirname, 'fixtures', 'onnx_relative.npy'));
const numpyRelative = readMatrix(path.join(import.meta.dirname, 'fixtures', 'numpy_relative.npy'));
const ANCHORS = 10;

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
/** Which pool images each party holds (overlaps: a∩b 16–23, a∩c 4–5, a∩b∩c 20–21, b∩c 28–35, a∩d 0–2). */
const HOLDS = {
  a: range(0, 24),
  b: range(16, 36),
  c: [4, 5, 20, 21, ...range(28, 44)],
  dSame: [0, 1, 2],
  dReencoded: 3,
} as const;

let dir: string;
let aggregator: AggregatorProcess;
let admin: AggregatorClient;
/** Each pool image's content id (the PNG files the spec writes). */
const poolIds: bigint[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rlsa-parties-'));
  aggregator = await startAggregatorProcess(path.join(dir, 'aggregator'));
  admin = createAggregatorClient({ address: `127.0.0.1:${aggregator.port}` });
  for (let i = 0; i < pool.shape[0]!; i++) poolIds.push(await writePng(path.join(dir, 'pool', `pool-${String(i).padStart(2, '0')}.png`), imageRow(pool, i), SIDE));
  const anchors = fixture('anchors');
  for (let i = 0; i < ANCHORS; i++) await writePng(path.join(dir, 'anchors', `anchor-${String(i).padStart(2, '0')}.png`), imageRow(anchors, i), SIDE);
}, 120_000);

afterAll(async () => {
  admin?.close();
  await aggregator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const poolFile = (i: number): string => path.join(dir, 'pool', `pool-${String(i).padStart(2, '0')}.png`);

/** Party (a): the pool files it holds, in one folder per class. */
function partyA(): string {
  const folder = path.join(dir, 'a');
  for (const i of HOLDS.a) copyFileSync(poolFile(i), path.join(mkdir(path.join(folder, `class-${poolLabels[i]}`)), path.basename(poolFile(i))));
  return folder;
}

/** Party (b): the same kind of pictures as an NPY array, named by the PNG files' content ids (as the guide says). */
function partyB(): string {
  const rows = HOLDS.b;
  const size = SIDE * SIDE * 3;
  const x = new Uint8Array(rows.length * size);
  rows.forEach((i, k) => x.set(imageRow(pool, i), k * size));
  return writeNpyFolder(path.join(dir, 'b'), {
    'x.npy': { dtype: 'uint8', shape: [rows.length, SIDE, SIDE, 3], data: x },
    'y.npy': { dtype: 'int64', shape: [rows.length], data: BigInt64Array.from(rows, (i) => BigInt(poolLabels[i]!)) },
    'ids.npy': { dtype: 'uint64', shape: [rows.length], data: BigUint64Array.from(rows, (i) => poolIds[i]!) },
  });
}

/** Party (c): embeddings computed in NumPy (fixtures), its anchors' embeddings in the set's order. */
function partyC(): string {
  const rows = HOLDS.c;
  const all = fixture('numpy_embeddings');
  const width = all.shape[1]!;
  const embeddings = new Float32Array(rows.length * width);
  rows.forEach((i, k) => embeddings.set((all.data as Float32Array).subarray(i * width, (i + 1) * width), k * width));
  return writeNpyFolder(path.join(dir, 'c'), {
    'embeddings.npy': { dtype: 'float32', shape: [rows.length, width], data: embeddings },
    'ids.npy': { dtype: 'uint64', shape: [rows.length], data: BigUint64Array.from(rows, (i) => poolIds[i]!) },
    'labels.npy': { dtype: 'int32', shape: [rows.length], data: Int32Array.from(rows, (i) => poolLabels[i]!) },
    'anchor_embeddings.npy': fixture('numpy_anchor_embeddings'),
  });
}

/** Party (d): copies of (a)'s files (the same bytes) and a re-encoded copy of one; returns the folder and the re-encoded file's id. */
async function partyD(): Promise<{ folder: string; reencodedId: bigint }> {
  const folder = path.join(dir, 'd');
  for (const i of HOLDS.dSame) copyFileSync(poolFile(i), path.join(mkdir(path.join(folder, `class-${poolLabels[i]}`)), path.basename(poolFile(i))));
  const i = HOLDS.dReencoded;
  const reencodedId = await writePng(path.join(folder, `class-${poolLabels[i]}`, 'reencoded.png'), imageRow(pool, i), SIDE, 9);
  return { folder, reencodedId };
}

function mkdir(folder: string): string {
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Each party's relative rows by sample id, as NumPy (fixtures) or the core (party (a), from its saved embeddings) computes them. */
type ExpectedRows = Map<bigint, Float64Array>;

function fixtureRows(relative: ReturnType<typeof readMatrix>, pairs: ReadonlyArray<readonly [bigint, number]>): ExpectedRows {
  const rows: ExpectedRows = new Map();
  for (const [id, i] of pairs) rows.set(id, Float64Array.from(relative.data.subarray(i * relative.cols, (i + 1) * relative.cols)));
  return rows;
}

/** Party (a)'s rows: its absolute embeddings and anchor embeddings (its --embeddings-out) projected with the core's cosine. */
function savedEmbeddingRows(folder: string): ExpectedRows {
  const absolute = readMatrix(path.join(folder, 'embeddings.npy'));
  const anchors = readMatrix(path.join(folder, 'anchor_embeddings.npy'));
  const ids = readNpy(path.join(folder, 'ids.npy')).data as BigUint64Array;
  const relative = relativeProjection(matrix(absolute.rows, absolute.cols, Float64Array.from(absolute.data)), matrix(anchors.rows, anchors.cols, Float64Array.from(anchors.data)), { similarity: 'cosine', center: false });
  const rows: ExpectedRows = new Map();
  ids.forEach((id, k) => rows.set(id, Float64Array.from(relative.data.subarray(k * ANCHORS, (k + 1) * ANCHORS))));
  return rows;
}

/** The largest |merged − mean of the parties' rows| over the given samples, checking each sample's contributor count. */
function maxMergeError(merged: SpaceRows, parties: readonly ExpectedRows[], ids: Iterable<bigint>): number {
  const index = new Map(Array.from(merged.sampleIds, (id, k) => [id, k] as const));
  let worst = 0;
  for (const id of ids) {
    const holders = parties.filter((rows) => rows.has(id));
    const k = index.get(id);
    expect(k, `sample ${id.toString(16)} is merged`).toBeDefined();
    expect(merged.counts[k!], `contributors of ${id.toString(16)}`).toBe(holders.length);
    for (let j = 0; j < ANCHORS; j++) {
      const mean = holders.reduce((sum, rows) => sum + rows.get(id)![j]!, 0) / holders.length;
      worst = Math.max(worst, Math.abs(merged.values.data[k! * ANCHORS + j]! - mean));
    }
  }
  return worst;
}

/** A node of the run; `nodeArgs` go to node itself (module hooks). */
const node = (nodeArgs: readonly string[], nodeId: string, ...args: string[]) =>
  runRlsa(['trainer', '--aggregator', `127.0.0.1:${aggregator.port}`, '--run', 'parties', '--node-id', nodeId, '--log-level', 'warn', ...args], {}, nodeArgs);
const trainer = (nodeId: string, ...args: string[]) => node([], nodeId, ...args);
/** Module hooks under which importing tfjs, ONNX Runtime or sharp fails the process. */
const WITHOUT_ML_RUNTIMES = ['--import', new URL('./block-ml-runtimes.mjs', import.meta.url).href];

describe('three parties with their own data and models on one run (real processes, gRPC, SQLite)', () => {
  it('merge the rows of shared images by content id, each party\'s rows as NumPy computes them from its own embeddings', async () => {
    await createAnchorSetRun(admin, 'parties', path.join(dir, 'anchors'));
    const a = partyA();
    const b = partyB();
    const c = partyC();
    const d = await partyD();
    const out = (name: string) => path.join(dir, 'out', name);
    const runs = await Promise.all([
      trainer('party-a', '--data', `imagefolder:${a}`, '--model', 'vanilla-cnn', '--epochs', '2', '--batch-size', '8', '--held-out', '0.25', '--embeddings-out', out('a')),
      trainer('party-b', '--data', `npy:${b}`, '--model', `onnx:${PARTY_ENCODER}`, '--embeddings-out', out('b')),
      // Embeddings computed elsewhere: the node runs under hooks that refuse every ML runtime and sharp.
      node(WITHOUT_ML_RUNTIMES, 'party-c', '--model', `embeddings:${c}`),
      trainer('party-d', '--data', `imagefolder:${d.folder}`, '--model', `onnx:${PARTY_ENCODER}`, '--held-out', '0'),
    ]);
    for (const run of runs) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    // Content ids: the same bytes give one id on two nodes (a and d); the re-encoded copy is another sample.
    const aIds = new Set(readNpy(path.join(out('a'), 'ids.npy')).data as BigUint64Array);
    expect([...aIds].sort()).toEqual(HOLDS.a.map((i) => fileId(poolFile(i))).sort());
    expect(d.reencodedId).not.toBe(poolIds[HOLDS.dReencoded]);

    // ONNX Runtime's embeddings of (b)'s rows against PyTorch's (fixtures).
    const bSaved = readMatrix(path.join(out('b'), 'embeddings.npy'));
    const bSavedIds = Array.from(readNpy(path.join(out('b'), 'ids.npy')).data as BigUint64Array);
    const torch = readMatrix(path.join(import.meta.dirname, 'fixtures', 'onnx_embeddings.npy'));
    let onnxVsTorch = 0;
    bSavedIds.forEach((id, k) => {
      const i = poolIds.indexOf(id);
      for (let j = 0; j < bSaved.cols; j++) onnxVsTorch = Math.max(onnxVsTorch, Math.abs(bSaved.data[k * bSaved.cols + j]! - torch.data[i * torch.cols + j]!));
    });
    expect(onnxVsTorch).toBeLessThanOrEqual(ONNX_VS_TORCH_TOLERANCE);

    const rowsA = savedEmbeddingRows(out('a'));
    const rowsB = fixtureRows(onnxRelative, HOLDS.b.map((i) => [poolIds[i]!, i] as const));
    const rowsC = fixtureRows(numpyRelative, HOLDS.c.map((i) => [poolIds[i]!, i] as const));
    const rowsD = fixtureRows(onnxRelative, [...HOLDS.dSame.map((i) => [poolIds[i]!, i] as const), [d.reencodedId, HOLDS.dReencoded] as const]);
    const parties = [rowsA, rowsB, rowsC, rowsD];
    const merged = await admin.readMerged('parties');
    const expectedIds = new Set(parties.flatMap((rows) => [...rows.keys()]));
    expect(merged.sampleIds.length).toBe(expectedIds.size);
    expect(new Set(merged.sampleIds)).toEqual(expectedIds);

    const only = (party: ExpectedRows) => [...party.keys()].filter((id) => parties.filter((rows) => rows.has(id)).length === 1);
    const shared = [...expectedIds].filter((id) => parties.filter((rows) => rows.has(id)).length > 1);
    const errors = {
      unsharedA: maxMergeError(merged, parties, only(rowsA)),
      unsharedB: maxMergeError(merged, parties, only(rowsB)),
      unsharedC: maxMergeError(merged, parties, only(rowsC)),
      unsharedD: maxMergeError(merged, parties, only(rowsD)),
      shared: maxMergeError(merged, parties, shared),
    };
    console.info(`three parties: max |merged − NumPy| ${JSON.stringify(errors)} (unshared ${[rowsA, rowsB, rowsC, rowsD].map((rows) => only(rows).length).join(", ")}), ONNX vs PyTorch embeddings ${onnxVsTorch.toExponential(2)}, ${shared.length} shared samples of ${expectedIds.size}`);
    expect(errors.unsharedA).toBeLessThanOrEqual(FLOAT32_COSINE_TOLERANCE);
    expect(errors.unsharedC).toBeLessThanOrEqual(FLOAT32_COSINE_TOLERANCE);
    expect(errors.unsharedB).toBeLessThanOrEqual(ONNX_VS_TORCH_TOLERANCE);
    expect(errors.unsharedD).toBeLessThanOrEqual(ONNX_VS_TORCH_TOLERANCE);
    expect(errors.shared).toBeLessThanOrEqual(ONNX_VS_TORCH_TOLERANCE);
    // The shared samples: a∩d 0–2, a∩c 4–5, a∩b 16–23 (20–21 with c too), b∩c 28–35.
    expect(shared.length).toBe(3 + 2 + 8 + 8);

    // Only relative rows left the nodes; the cards say what each used, without paths.
    const status = await admin.getRun('parties');
    const card = (id: string) => status.nodes.find((n) => n.nodeId === id)!.model!;
    expect(card('party-a')).toMatchObject({ architecture: 'vanilla-cnn', embeddingWidth: 128, details: { kind: 'trained' } });
    expect(card('party-b')).toMatchObject({ embeddingWidth: 10, details: { kind: 'onnx', file: 'party-encoder.onnx', output: 'embedding' } });
    expect(card('party-c')).toMatchObject({ embeddingWidth: 12, details: { kind: 'embeddings', runtime: 'none' } });
    for (const node of status.nodes) {
      expect(node.absoluteRows).toBe(0);
      expect(JSON.stringify(node.model)).not.toContain(dir);
    }
  }, 300_000);
});
