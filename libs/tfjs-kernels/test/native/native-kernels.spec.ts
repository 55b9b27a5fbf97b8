import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeLinalgStatus, nativeTrainingKernels } from '@rlsa/linalg-native';
import * as tfl from '@tensorflow/tfjs-layers';
import { useFusedSiluGradients } from '../../src/fused-silu.ts';
import { NATIVE_KERNEL_NAMES } from '../../src/native/register-native-kernels.ts';
import { countingKernels, FLOAT32_TOLERANCE, maxScaledError, runOn, seededTensor, setUpBackends } from '../testing/compare-backends.ts';

type Pad = 'same' | 'valid' | number;
type Shape4 = [number, number, number, number];

const status = nativeLinalgStatus();
const available = status.available;

/** Odd shapes, strides, 'same'/'valid'/explicit padding, batch 1, and the VanillaCNN's own layers (one image: the cpu backend is slow). */
const CONVS: { x: Shape4; f: Shape4; s: number | [number, number]; pad: Pad }[] = [
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid' },
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [1, 8, 8, 5], f: [5, 5, 5, 2], s: 1, pad: 'same' },
  { x: [2, 9, 7, 2], f: [2, 4, 2, 3], s: [2, 1], pad: 'same' },
  { x: [2, 6, 6, 2], f: [3, 3, 2, 3], s: 2, pad: 1 },
  { x: [3, 13, 11, 7], f: [3, 2, 7, 37], s: [3, 2], pad: 'same' },
  { x: [1, 32, 32, 3], f: [5, 5, 3, 32], s: 1, pad: 'same' },
  { x: [1, 16, 16, 32], f: [5, 5, 32, 64], s: 1, pad: 'same' },
];

describe.skipIf(!available)('the native kernels on the wasm backend', () => {
  const counted = available ? countingKernels(nativeTrainingKernels({ threads: 2 })!) : undefined;
  const calls = (name: string) => counted!.calls.get(name) ?? 0;

  beforeAll(async () => {
    await setUpBackends('all', counted!.kernels);
  });

  it('are registered for wasm over the project wasm kernels', () => {
    expect(NATIVE_KERNEL_NAMES).toEqual([
      'FusedConv2D', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'RlsaSilu', 'RlsaSiluGrad', 'MaxPool', 'MaxPoolGrad', 'Sum',
    ]);
    for (const name of NATIVE_KERNEL_NAMES) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  for (const c of CONVS) {
    const label = `x ${c.x.join('×')}, filter ${c.f.join('×')}, stride ${String(c.s)}, pad ${c.pad}`;
    it(`convolve and give both gradients as the cpu backend does: ${label}`, async () => {
      const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
      const run = () => {
        const x = seededTensor(c.x, 1) as tf.Tensor4D;
        const filter = seededTensor(c.f, 2) as tf.Tensor4D;
        const dy = seededTensor(outShape, 3) as tf.Tensor4D;
        const bias = seededTensor([c.f[3]], 4) as tf.Tensor1D;
        return [
          tf.conv2d(x, filter, c.s, c.pad),
          tf.fused.conv2d({ x, filter, bias, strides: c.s, pad: c.pad }),
          tf.conv2dTranspose(dy, filter, c.x, c.s, c.pad),
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f }) as tf.Tensor,
        ];
      };
      const expected = await runOn('cpu', run);
      const before = ['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'].map(calls);
      const actual = await runOn('wasm', run);
      // Each of the four ran natively: two forward convolutions, one of each gradient.
      expect(['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'].map((n, i) => calls(n) - before[i]!)).toEqual([2, 1, 1]);
      for (let i = 0; i < expected.length; i++) expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
    });
  }

  it('multiply (batched, transposed, broadcast, fused with a bias) as the cpu backend does', async () => {
    const run = () => {
      const out: tf.Tensor[] = [];
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = seededTensor(ta ? [41, 13] : [13, 41], 5) as tf.Tensor2D;
        const b = seededTensor(tb ? [35, 41] : [41, 35], 6) as tf.Tensor2D;
        out.push(tf.matMul(a, b, ta, tb));
        out.push(tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: seededTensor([35], 7) }));
      }
      out.push(tf.matMul(seededTensor([3, 7, 9], 8), seededTensor([3, 9, 5], 9)));
      out.push(tf.matMul(seededTensor([1, 7, 9], 10), seededTensor([4, 9, 5], 11)));
      out.push(tf.matMul(seededTensor([2, 3, 7, 9], 12), seededTensor([9, 5], 13)));
      out.push(tf.matMul(seededTensor([1, 1], 14), seededTensor([1, 1], 15)));
      return out;
    };
    const expected = await runOn('cpu', run);
    const before = calls('matmul');
    const actual = await runOn('wasm', run);
    expect(calls('matmul') - before).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
  });

  it("pool, take the SiLU (tfjs-layers' swish, fused) and sum bias gradients as the cpu backend does, with gradients", async () => {
    const swish = tfl.layers.activation({ activation: 'swish' });
    const run = () => {
      const x = tf.mul(seededTensor([3, 8, 6, 5], 23), 4) as tf.Tensor4D;
      const pooled = (t: tf.Tensor4D) => tf.maxPool(t, 2, 2, 'valid');
      const overlapping = (t: tf.Tensor4D) => tf.maxPool(t, 3, 1, 'same');
      const silu = (t: tf.Tensor) => swish.apply(t) as tf.Tensor;
      const dy = seededTensor([3, 8, 6, 5], 24);
      return [
        pooled(x),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pooled(t as tf.Tensor4D), 1.5)))(x),
        overlapping(x),
        tf.grad((t: tf.Tensor) => tf.sum(overlapping(t as tf.Tensor4D)))(x),
        silu(x),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(silu(t), dy)))(x),
        tf.sum(x, [0, 1, 2]),
        tf.sum(x, [0, 1], true),
        tf.sum(x),
      ];
    };
    const expected = await runOn('cpu', run);
    const restore = useFusedSiluGradients();
    try {
      const before = ['maxPool', 'maxPoolGrad', 'silu', 'siluGrad', 'sumRows'].map(calls);
      const actual = await runOn('wasm', run);
      const ran = ['maxPool', 'maxPoolGrad', 'silu', 'siluGrad', 'sumRows'].map((n, i) => calls(n) - before[i]!);
      expect(ran.slice(0, 4)).toEqual([4, 2, 2, 1]);
      expect(ran[4]).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < expected.length; i++) expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
    } finally {
      restore?.();
    }
  });

  it('leave the cases they do not cover (an activation, dilation, batches broadcast both ways, a middle axis) to the kernels they replaced, with the same values', async () => {
    const run = () => {
      const x = seededTensor([2, 9, 9, 3], 16) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 3, 4], 17) as tf.Tensor4D;
      return [
        tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: seededTensor([4], 18), activation: 'relu' }),
        tf.conv2d(x, filter, 1, 'same', 'NHWC', 2),
        tf.fused.matMul({ a: seededTensor([5, 6], 19) as tf.Tensor2D, b: seededTensor([6, 3], 20) as tf.Tensor2D, activation: 'relu' }),
        tf.matMul(seededTensor([2, 1, 7, 9], 21), seededTensor([1, 3, 9, 5], 22)),
        tf.sum(seededTensor([4, 5, 6], 25), 1),
      ];
    };
    const expected = await runOn('cpu', run);
    const before = [calls('conv2d'), calls('matmul'), calls('sumRows')];
    const actual = await runOn('wasm', run);
    expect([calls('conv2d'), calls('matmul'), calls('sumRows')]).toEqual(before);
    for (let i = 0; i < expected.length; i++) expect(maxScaledError(actual[i]!, expected[i]!), `output ${i}`).toBeLessThan(FLOAT32_TOLERANCE);
  });
});
