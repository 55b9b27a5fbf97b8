import { describe, expect, it } from 'vitest';
import { assembleModule } from '../../src/simd/assemble.ts';

interface Api {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, (...a: number[]) => number> };
}
const wasm = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;

function instantiate(bytes: Uint8Array) {
  const memory = new wasm.Memory({ initial: 1 });
  return { memory, exports: new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports };
}

describe('assembleModule (flat text format subset → binary)', () => {
  it('assembles named locals, loops and branches', () => {
    // Σ_{i < n} i, with a loop counting down.
    const { exports } = instantiate(
      assembleModule([
        {
          name: 'triangle',
          params: [['n', 'i32']],
          locals: [['acc', 'i32']],
          results: ['i32'],
          body: `
            block $done
              local.get $n i32.eqz br_if $done
              loop $next
                local.get $n i32.const 1 i32.sub local.tee $n
                local.get $acc i32.add local.set $acc
                local.get $n br_if $next   ;; until n = 0
              end
            end
            local.get $acc`,
        },
      ]),
    );
    expect(exports['triangle']!(0)).toBe(0);
    expect(exports['triangle']!(5)).toBe(10);
    expect(exports['triangle']!(1000)).toBe(499500);
  });

  it('encodes negative constants, memory offsets and SIMD lanes on the imported memory', () => {
    const { memory, exports } = instantiate(
      assembleModule([
        {
          name: 'scale',
          params: [['p', 'i32']],
          // v[p + 16 .. p + 32) = v[p .. p + 16) · -2.5, 4 floats at once
          body: `
            local.get $p
            local.get $p v128.load f32.const -2.5 f32x4.splat f32x4.mul
            v128.store offset=16`,
        },
        { name: 'neg', params: [], results: ['i32'], body: 'i32.const -300' },
      ]),
    );
    const floats = new Float32Array(memory.buffer, 64, 8);
    floats.set([1, -2, 0.5, 4]);
    exports['scale']!(64);
    expect(Array.from(floats.subarray(4))).toEqual([-2.5, 5, -1.25, -10]);
    expect(exports['neg']!()).toBe(-300);
  });

  it('rejects unknown instructions, locals and labels, and unclosed blocks', () => {
    const fn = (body: string) => () => assembleModule([{ name: 'f', params: [['a', 'i32']], body }]);
    expect(fn('local.get $a i32.frobnicate')).toThrow(/unknown instruction 'i32.frobnicate'/);
    expect(fn('local.get $b drop')).toThrow(/unknown local \$b/);
    expect(fn('block $x br $y end')).toThrow(/unknown label \$y/);
    expect(fn('block $x')).toThrow(/unclosed block/);
  });
});
