import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { address, heapBuffer, setSimdKernelsEnabled, simdKernels, type SimdKernels } from '../../src/simd/simd-kernels.ts';
import { batchInner, im2colTransposed } from '../../src/kernels/Conv2DBackpropFilter.ts';
import { col2im } from '../../src/kernels/Conv2DBackpropInput.ts';
import { maxPoolGrad2x2 } from '../../src/kernels/MaxPoolGrad.ts';
import { sumMiddleAxis } from '../../src/kernels/Sum.ts';
import { siluGradValues } from '../../src/kernels/SiluGrad.ts';
import type { Conv2DGeometry } from '../../src/conv-geometry.ts';
import { FLOAT32_TOLERANCE, maxScaledError, seededValues, setUpBackends } from '../testing/compare-backends.ts';
import { disposeAll, heapF32 } from '../../src/wasm-kernel-utils.ts';

/**
 * Each SIMD loop against its JavaScript twin (the loops the kernels ran before, which their own
 * specs compare with the cpu backend), on sizes with remainders and on the edge values the
 * twins define (ties, -∞ windows, padding).
 */
describe('SIMD kernels on the wasm heap', () => {
  let backend: BackendWasm;
  let simd: SimdKernels;
  const held: tf.TensorInfo[] = [];

  beforeAll(async () => {
    await setUpBackends();
    await tf.setBackend('wasm');
    backend = tf.backend() as unknown as BackendWasm;
    const kernels = simdKernels(backend);
    // Node 20 has WebAssembly SIMD: the module must load here.
    expect(kernels).toBeDefined();
    simd = kernels!;
  });

  afterEach(() => {
    disposeAll(backend, ...held.splice(0));
    setSimdKernelsEnabled(true);
  });

  /** A heap tensor holding `values`; all allocations first, views after (a heap growth detaches views). */
  function tensors(...contents: (Float32Array | number)[]): tf.TensorInfo[] {
    const ts = contents.map((c) => backend.makeOutput([typeof c === 'number' ? c : c.length], 'float32'));
    held.push(...ts);
    contents.forEach((c, i) => {
      if (typeof c !== 'number') heapF32(backend, ts[i]!).set(c);
    });
    return ts;
  }

  it('is off when disabled, so the JavaScript loops run', () => {
    setSimdKernelsEnabled(false);
    expect(simdKernels(backend)).toBeUndefined();
    setSimdKernelsEnabled(true);
    expect(simdKernels(backend)).toBe(simd);
  });

  it('maxPoolGrad2x2 equals the JavaScript loop, ties to the first position, no gradient for -∞ windows', () => {
    const [n, oh, ow, c] = [3, 3, 5, 8];
    const xs = seededValues(n * oh * 2 * ow * 2 * c, 1);
    // Quantised values make ties frequent; some windows entirely -∞.
    for (let i = 0; i < xs.length; i++) xs[i] = Math.round(xs[i]! * 2) / 2;
    xs.fill(-Infinity, 0, c * 2);
    const row = ow * 2 * c;
    xs.fill(-Infinity, row, row + 2 * c);
    const dys = seededValues(n * oh * ow * c, 2);
    const [x, dy, dx] = tensors(xs, dys, xs.length);
    const info = tf.backend_util.computePool2DInfo([n, oh * 2, ow * 2, c], 2, 2, 1, 'valid');
    const expected = new Float32Array(xs.length);
    maxPoolGrad2x2(xs, dys, info, expected);
    simd.maxPoolGrad2x2(address(backend, x!), address(backend, dy!), address(backend, dx!), n * oh, ow, c);
    expect(Array.from(heapF32(backend, dx!))).toEqual(Array.from(expected));
    // the -∞ window of the first image gets nothing
    expect(Array.from(heapF32(backend, dx!).subarray(0, 2 * c)).every((v) => v === 0)).toBe(true);
  });

  it('sumRowsF64 equals the float64 JavaScript sums', () => {
    const [rows, q] = [37, 12];
    const xs = seededValues(rows * q, 3);
    const [x, acc] = tensors(xs, 2 * q);
    const sums = new Float64Array(heapBuffer(backend), address(backend, acc!), q);
    sums.fill(0);
    simd.sumRowsF64(address(backend, x!), address(backend, acc!), rows, q);
    const expected = new Float32Array(q);
    sumMiddleAxis(xs, 1, rows, q, expected);
    expect(maxScaledError(Float32Array.from(new Float64Array(heapBuffer(backend), address(backend, acc!), q)), expected)).toBeLessThan(1e-6);
  });

  it('copyRuns moves dy to [pixels, N, cout] like batchInner', () => {
    const [n, pixels, cout] = [3, 7, 8];
    const dys = seededValues(n * pixels * cout, 4);
    const [dy, out] = tensors(dys, dys.length);
    const run = cout * 4;
    simd.copyRuns(address(backend, dy!), address(backend, out!), n, pixels, run, pixels * run, run, run, n * run);
    const expected = new Float32Array(dys.length);
    batchInner(dys, n, pixels, cout, expected);
    expect(Array.from(heapF32(backend, out!))).toEqual(Array.from(expected));
  });

  const geometry = (over: Partial<Conv2DGeometry>): Conv2DGeometry => {
    const g: Conv2DGeometry = {
      batch: 3, inHeight: 9, inWidth: 11, inChannels: 4, outHeight: 0, outWidth: 0, outChannels: 2,
      filterHeight: 3, filterWidth: 5, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 2, ...over,
    };
    // 'same'-like sizes when padded, else 'valid'
    g.outHeight = g.inHeight + 2 * g.padTop - g.filterHeight + 1;
    g.outWidth = g.inWidth + 2 * g.padLeft - g.filterWidth + 1;
    return g;
  };

  for (const pads of [{ padTop: 0, padLeft: 0 }, { padTop: 1, padLeft: 2 }]) {
    it(`im2colRow builds the transposed im2col of images 1..2 like the JavaScript loop (pad ${pads.padTop}/${pads.padLeft})`, () => {
      const g = geometry(pads);
      const { batch, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = g;
      const xts = seededValues(cin * batch * H * W, 5);
      const [first, count] = [1, 2];
      const m = count * oh * ow;
      const [xt, cols] = tensors(xts, fh * fw * cin * m);
      heapF32(backend, cols!).fill(NaN);
      for (let i = 0; i < fh; i++) {
        for (let j = 0; j < fw; j++) {
          const xFirst = Math.min(ow, Math.max(0, g.padLeft - j));
          const xEnd = Math.max(xFirst, Math.min(ow, W - 1 + g.padLeft - j + 1));
          for (let ci = 0; ci < cin; ci++) {
            simd.im2colRow(
              address(backend, xt!) + (ci * batch * H * W + first * H * W) * 4,
              address(backend, cols!) + ((i * fw + j) * cin + ci) * m * 4,
              count, H, W, oh, ow, i - g.padTop, j - g.padLeft, xFirst, xEnd,
            );
          }
        }
      }
      const expected = new Float32Array(fh * fw * cin * m);
      im2colTransposed(xts, g, expected, first, count);
      expect(Array.from(heapF32(backend, cols!))).toEqual(Array.from(expected));
    });

    it(`col2im sums columns into the image like the JavaScript loop (pad ${pads.padTop}/${pads.padLeft})`, () => {
      const g = geometry({ ...pads, inChannels: 8 });
      const { batch, inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = g;
      const colValues = seededValues(batch * oh * ow * fh * fw * cin, 6);
      const [cols, dx] = tensors(colValues, batch * H * W * cin);
      heapF32(backend, dx!).fill(0);
      simd.col2im(address(backend, cols!), address(backend, dx!), batch, H, W, cin, oh, ow, fh, fw, g.padTop, g.padLeft);
      const expected = new Float32Array(batch * H * W * cin);
      col2im(colValues, g, expected);
      expect(maxScaledError(heapF32(backend, dx!), expected)).toBeLessThan(FLOAT32_TOLERANCE);
    });
  }

  it('gemmAccumulate adds A·B to C or overwrites C (strided rows, 4 × 8 tiles), as a float64 reference to float32 precision', () => {
    const [rows, inner, cols] = [8, 37, 16];
    // A and B as sub-matrices of wider buffers: row strides larger than the row lengths.
    const [lda, ldb, ldc] = [inner + 3, cols + 8, cols + 4];
    const av = seededValues(rows * lda, 9);
    const bv = seededValues(inner * ldb, 10);
    const cv = seededValues(rows * ldc, 11);
    const [a, b, c] = tensors(av, bv, cv);
    const expected = (overwrite: boolean) => {
      const out = Float32Array.from(cv);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let sum = overwrite ? 0 : cv[i * ldc + j]!;
          for (let t = 0; t < inner; t++) sum += av[i * lda + t]! * bv[t * ldb + j]!;
          out[i * ldc + j] = sum;
        }
      }
      return out;
    };
    simd.gemmAccumulate(address(backend, a!), address(backend, b!), address(backend, c!), rows, inner, cols, lda * 4, ldb * 4, ldc * 4, 0);
    expect(maxScaledError(heapF32(backend, c!), expected(false))).toBeLessThan(1e-5);
    // overwriting: C's old values (NaN here) are not read; the padding between rows stays as it was
    heapF32(backend, c!).set(cv);
    for (let i = 0; i < rows; i++) heapF32(backend, c!).fill(NaN, i * ldc, i * ldc + cols);
    simd.gemmAccumulate(address(backend, a!), address(backend, b!), address(backend, c!), rows, inner, cols, lda * 4, ldb * 4, ldc * 4, 1);
    expect(maxScaledError(heapF32(backend, c!), expected(true))).toBeLessThan(1e-5);
  });

  it('siluGrad and multiply equal the JavaScript formulas, tail elements included', () => {
    const n = 4 * 25 + 3;
    const dys = seededValues(n, 7);
    const xs = Float32Array.from(seededValues(n, 8), (v) => 6 * v);
    const ss = Float32Array.from(xs, (v) => 1 / (1 + Math.exp(-v)));
    const [dy, s, x, dx, y] = tensors(dys, ss, xs, n, n);
    simd.siluGrad(address(backend, dy!), address(backend, s!), address(backend, x!), address(backend, dx!), n);
    simd.multiply(address(backend, x!), address(backend, s!), address(backend, y!), n);
    const expected = new Float32Array(n);
    siluGradValues(dys, ss, xs, expected);
    expect(maxScaledError(heapF32(backend, dx!), expected)).toBeLessThan(1e-6);
    expect(maxScaledError(heapF32(backend, y!), Float32Array.from(xs, (v, i) => v * ss[i]!))).toBeLessThan(1e-6);
  });
});
