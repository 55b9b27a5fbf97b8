import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import { assembleModule, type WasmFunctionSource } from './assemble.ts';

/**
 * Loops the wasm backend has no kernel for, in WebAssembly SIMD (128-bit, 4 floats a lane group),
 * run in place on the backend's own heap: the module imports the backend's memory, so arguments
 * are byte addresses of tensors (`address`). Most replace a JavaScript loop of the project's kernels
 * that moves or combines whole activations (several times faster: V8 does not vectorise), and each
 * of those has a plain JavaScript twin that the specs compare it with and that runs where SIMD is
 * off; `gemmAccumulate` replaces XNNPACK's product where XNNPACK would pack a new operand per call.
 * The module is assembled at load time from the text below (`assemble.ts`): no toolchain, no binary
 * in the repository.
 *
 * All sizes are in elements unless named `...Bytes`; functions that need channel counts that are
 * multiples of 4 say so, and their callers check it.
 */
export interface SimdKernels {
  /**
   * 2×2 max-pool gradient, stride 2, no padding, H = 2·oh, W = 2·ow, C % 4 = 0: dx gets dy at the
   * first strict maximum of each window (row-major order), 0 elsewhere; windows of only -∞ get none.
   * `rows` = N·oh.
   */
  maxPoolGrad2x2(x: number, dy: number, dx: number, rows: number, ow: number, channels: number): void;
  /** acc[c] += Σ_r x[r, c] in float64; x: [rows, q] float32, acc: q float64 (zeroed by the caller), q % 4 = 0. */
  sumRowsF64(x: number, acc: number, rows: number, q: number): void;
  /**
   * Block copy: for o < outer, i < inner: runBytes bytes from src + o·srcOuter + i·srcInner to
   * dst + o·dstOuter + i·dstInner (strides in bytes), runBytes % 16 = 0.
   */
  copyRuns(src: number, dst: number, outer: number, inner: number, runBytes: number, srcOuter: number, srcInner: number, dstOuter: number, dstInner: number): void;
  /**
   * One row of a transposed im2col matrix for a stride-1 tap: for each image n and output row y,
   * dst gets ow floats: plane[n, y + rowOffset, x + colOffset] for x in [xFirst, xEnd), 0 elsewhere
   * and for rows outside [0, H). plane: one channel of x, [N, H, W].
   */
  im2colRow(plane: number, dst: number, batch: number, height: number, width: number, outHeight: number, outWidth: number, rowOffset: number, colOffset: number, xFirst: number, xEnd: number): void;
  /**
   * col2im for stride 1, cin % 4 = 0: dx[n, y + i - pt, x + j - pl, :] += cols[(n, y, x), (i, j), :]
   * over taps inside the image. dx must be zeroed by the caller.
   */
  col2im(cols: number, dx: number, batch: number, height: number, width: number, cin: number, outHeight: number, outWidth: number, fh: number, fw: number, pt: number, pl: number): void;
  /**
   * C += A·B (C = A·B when `overwrite` is 1: C is not read) for A: [rows, inner] (row stride lda
   * bytes), B: [inner, cols] (row stride ldb bytes), C: [rows, cols] (row stride ldc bytes);
   * rows % 4 = 0, cols % 8 = 0. Register tiles of 4 × 8,
   * float32 accumulation in inner order. Unlike XNNPACK's products, B is read in place (no packing):
   * for filter gradients B is a fresh dy every step, whose packing cost a third of the product.
   */
  gemmAccumulate(a: number, b: number, c: number, rows: number, inner: number, cols: number, lda: number, ldb: number, ldc: number, overwrite: number): void;
  /** SiLU gradient from the saved sigmoid: dx = dy · s · (1 + x · (1 - s)), n elements. */
  siluGrad(dy: number, s: number, x: number, dx: number, n: number): void;
  /** y = x · s, n elements (the SiLU's output from its sigmoid). */
  multiply(x: number, s: number, y: number, n: number): void;
}

const I32 = 'i32' as const;
const V128 = 'v128' as const;

const SOURCES: WasmFunctionSource[] = [
  {
    name: 'maxPoolGrad2x2',
    params: [['x', I32], ['dy', I32], ['dx', I32], ['rows', I32], ['ow', I32], ['c', I32]],
    locals: [
      ['down', I32], ['cb', I32], ['o', I32], ['xo', I32], ['kEnd', I32], ['pa', I32], ['pb', I32], ['qa', I32], ['qb', I32],
      ['a0', V128], ['a1', V128], ['a2', V128], ['a3', V128], ['g', V128], ['w1', V128], ['w3', V128], ['m01', V128], ['m23', V128], ['up', V128],
    ],
    body: `
      local.get $ow local.get $c i32.mul i32.const 3 i32.shl local.set $down   ;; one input row, bytes
      local.get $c i32.const 2 i32.shl local.set $cb                           ;; one pixel, bytes
      block $done
        local.get $rows i32.eqz br_if $done
        local.get $ow i32.eqz br_if $done
        local.get $c i32.eqz br_if $done
        loop $row
          local.get $ow local.set $xo
          loop $window
            local.get $o local.get $cb i32.add local.set $kEnd
            loop $vec
              local.get $x local.get $o i32.add local.tee $pa v128.load local.set $a0
              local.get $pa local.get $cb i32.add v128.load local.set $a1
              local.get $pa local.get $down i32.add local.tee $pb v128.load local.set $a2
              local.get $pb local.get $cb i32.add v128.load local.set $a3
              local.get $a1 local.get $a0 f32x4.gt local.set $w1
              local.get $a1 local.get $a0 local.get $w1 v128.bitselect local.set $m01
              local.get $a3 local.get $a2 f32x4.gt local.set $w3
              local.get $a3 local.get $a2 local.get $w3 v128.bitselect local.set $m23
              local.get $m23 local.get $m01 f32x4.gt local.set $up
              ;; no gradient for a window of only -inf
              local.get $dy v128.load
              local.get $m01 local.get $m23 f32x4.max f32.const -inf f32x4.splat f32x4.gt
              v128.and local.set $g
              local.get $dx local.get $o i32.add local.tee $qa
              local.get $g local.get $w1 v128.andnot local.get $up v128.andnot v128.store
              local.get $qa local.get $cb i32.add
              local.get $g local.get $w1 v128.and local.get $up v128.andnot v128.store
              local.get $qa local.get $down i32.add local.tee $qb
              local.get $g local.get $w3 v128.andnot local.get $up v128.and v128.store
              local.get $qb local.get $cb i32.add
              local.get $g local.get $w3 v128.and local.get $up v128.and v128.store
              local.get $dy i32.const 16 i32.add local.set $dy
              local.get $o i32.const 16 i32.add local.tee $o
              local.get $kEnd i32.lt_u br_if $vec
            end
            ;; o is one pixel past the window's left column: the next window starts a pixel later
            local.get $o local.get $cb i32.add local.set $o
            local.get $xo i32.const 1 i32.sub local.tee $xo
            br_if $window
          end
          ;; skip the second input row of the pair
          local.get $o local.get $down i32.add local.set $o
          local.get $rows i32.const 1 i32.sub local.tee $rows
          br_if $row
        end
      end`,
  },
  {
    name: 'sumRowsF64',
    params: [['x', I32], ['acc', I32], ['rows', I32], ['q', I32]],
    locals: [['qb', I32], ['k', I32], ['a', I32], ['v', V128]],
    body: `
      local.get $q i32.const 2 i32.shl local.set $qb
      block $done
        local.get $rows i32.eqz br_if $done
        local.get $q i32.eqz br_if $done
        loop $row
          i32.const 0 local.set $k
          loop $vec
            local.get $x local.get $k i32.add v128.load local.set $v
            local.get $acc local.get $k i32.const 1 i32.shl i32.add local.tee $a
            local.get $a v128.load local.get $v f64x2.promote_low_f32x4 f64x2.add v128.store
            local.get $a
            local.get $a v128.load offset=16
            local.get $v local.get $v i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
            f64x2.add v128.store offset=16
            local.get $k i32.const 16 i32.add local.tee $k
            local.get $qb i32.lt_u br_if $vec
          end
          local.get $x local.get $qb i32.add local.set $x
          local.get $rows i32.const 1 i32.sub local.tee $rows
          br_if $row
        end
      end`,
  },
  {
    name: 'copyRuns',
    params: [['src', I32], ['dst', I32], ['outer', I32], ['inner', I32], ['run', I32], ['sOut', I32], ['sIn', I32], ['dOut', I32], ['dIn', I32]],
    locals: [['s', I32], ['d', I32], ['j', I32], ['k', I32]],
    body: `
      block $done
        local.get $outer i32.eqz br_if $done
        local.get $inner i32.eqz br_if $done
        local.get $run i32.eqz br_if $done
        loop $o
          local.get $src local.set $s
          local.get $dst local.set $d
          local.get $inner local.set $j
          loop $i
            i32.const 0 local.set $k
            loop $v
              local.get $d local.get $k i32.add
              local.get $s local.get $k i32.add v128.load
              v128.store
              local.get $k i32.const 16 i32.add local.tee $k
              local.get $run i32.lt_u br_if $v
            end
            local.get $s local.get $sIn i32.add local.set $s
            local.get $d local.get $dIn i32.add local.set $d
            local.get $j i32.const 1 i32.sub local.tee $j
            br_if $i
          end
          local.get $src local.get $sOut i32.add local.set $src
          local.get $dst local.get $dOut i32.add local.set $dst
          local.get $outer i32.const 1 i32.sub local.tee $outer
          br_if $o
        end
      end`,
  },
  {
    name: 'im2colRow',
    params: [
      ['src', I32], ['dst', I32], ['batch', I32], ['H', I32], ['W', I32], ['oh', I32], ['ow', I32],
      ['rowOff', I32], ['colOff', I32], ['xFirst', I32], ['xEnd', I32],
    ],
    locals: [['y', I32], ['row', I32], ['s', I32], ['d', I32], ['e', I32], ['owb', I32]],
    body: `
      local.get $ow i32.const 2 i32.shl local.set $owb
      block $done
        local.get $batch i32.eqz br_if $done
        local.get $oh i32.eqz br_if $done
        loop $image
          i32.const 0 local.set $y
          loop $rows
            local.get $dst local.set $d
            local.get $y local.get $rowOff i32.add local.tee $row
            local.get $H i32.lt_u
            if
              local.get $src
              local.get $row local.get $W i32.mul local.get $xFirst i32.add local.get $colOff i32.add
              i32.const 2 i32.shl i32.add local.set $s
              ;; zeros before xFirst
              local.get $dst local.get $xFirst i32.const 2 i32.shl i32.add local.set $e
              block $z1 loop $z1l
                local.get $d local.get $e i32.ge_u br_if $z1
                local.get $d f32.const 0 f32.store
                local.get $d i32.const 4 i32.add local.set $d
                br $z1l
              end end
              ;; the copied run, 4 floats at a time, then the rest
              local.get $dst local.get $xEnd i32.const 2 i32.shl i32.add local.set $e
              block $c1 loop $c1l
                local.get $d i32.const 16 i32.add local.get $e i32.gt_u br_if $c1
                local.get $d local.get $s v128.load align=4 v128.store align=4
                local.get $d i32.const 16 i32.add local.set $d
                local.get $s i32.const 16 i32.add local.set $s
                br $c1l
              end end
              block $c2 loop $c2l
                local.get $d local.get $e i32.ge_u br_if $c2
                local.get $d local.get $s f32.load f32.store
                local.get $d i32.const 4 i32.add local.set $d
                local.get $s i32.const 4 i32.add local.set $s
                br $c2l
              end end
            end
            ;; zeros to the end of the row (all of it for rows outside the image)
            local.get $dst local.get $owb i32.add local.set $e
            block $z2 loop $z2l
              local.get $d local.get $e i32.ge_u br_if $z2
              local.get $d f32.const 0 f32.store
              local.get $d i32.const 4 i32.add local.set $d
              br $z2l
            end end
            local.get $e local.set $dst
            local.get $y i32.const 1 i32.add local.tee $y
            local.get $oh i32.lt_u br_if $rows
          end
          local.get $src local.get $H local.get $W i32.mul i32.const 2 i32.shl i32.add local.set $src
          local.get $batch i32.const 1 i32.sub local.tee $batch
          br_if $image
        end
      end`,
  },
  {
    name: 'col2im',
    params: [
      ['cols', I32], ['dx', I32], ['batch', I32], ['H', I32], ['W', I32], ['cin', I32], ['oh', I32], ['ow', I32],
      ['fh', I32], ['fw', I32], ['pt', I32], ['pl', I32],
    ],
    locals: [['kb', I32], ['img', I32], ['y', I32], ['x', I32], ['i', I32], ['j', I32], ['row', I32], ['col', I32], ['s', I32], ['d', I32], ['k', I32], ['tap', I32]],
    body: `
      local.get $cin i32.const 2 i32.shl local.set $kb
      block $done
        local.get $batch i32.eqz br_if $done
        local.get $oh i32.eqz br_if $done
        local.get $ow i32.eqz br_if $done
        local.get $cin i32.eqz br_if $done
        local.get $dx local.set $img
        loop $image
          i32.const 0 local.set $y
          loop $ys
            i32.const 0 local.set $x
            loop $xs
              i32.const 0 local.set $i
              local.get $cols local.set $tap
              loop $is
                local.get $y local.get $i i32.add local.get $pt i32.sub local.tee $row
                local.get $H i32.lt_u
                if
                  i32.const 0 local.set $j
                  loop $js
                    local.get $x local.get $j i32.add local.get $pl i32.sub local.tee $col
                    local.get $W i32.lt_u
                    if
                      local.get $img local.get $row local.get $W i32.mul local.get $col i32.add local.get $kb i32.mul i32.add local.set $d
                      local.get $tap local.get $j local.get $kb i32.mul i32.add local.set $s
                      i32.const 0 local.set $k
                      loop $v
                        local.get $d local.get $k i32.add
                        local.get $d local.get $k i32.add v128.load
                        local.get $s local.get $k i32.add v128.load
                        f32x4.add v128.store
                        local.get $k i32.const 16 i32.add local.tee $k
                        local.get $kb i32.lt_u br_if $v
                      end
                    end
                    local.get $j i32.const 1 i32.add local.tee $j
                    local.get $fw i32.lt_u br_if $js
                  end
                end
                local.get $tap local.get $fw local.get $kb i32.mul i32.add local.set $tap
                local.get $i i32.const 1 i32.add local.tee $i
                local.get $fh i32.lt_u br_if $is
              end
              local.get $tap local.set $cols
              local.get $x i32.const 1 i32.add local.tee $x
              local.get $ow i32.lt_u br_if $xs
            end
            local.get $y i32.const 1 i32.add local.tee $y
            local.get $oh i32.lt_u br_if $ys
          end
          local.get $img local.get $H local.get $W i32.mul local.get $kb i32.mul i32.add local.set $img
          local.get $batch i32.const 1 i32.sub local.tee $batch
          br_if $image
        end
      end`,
  },
  {
    name: 'gemmAccumulate',
    params: [['a', I32], ['b', I32], ['c', I32], ['rows', I32], ['inner', I32], ['cols', I32], ['lda', I32], ['ldb', I32], ['ldc', I32], ['overwrite', I32]],
    locals: [
      ['zero', V128],
      ['j', I32], ['ca', I32], ['pa0', I32], ['pa1', I32], ['pa2', I32], ['pa3', I32], ['pb', I32], ['t', I32], ['colEnd', I32],
      ['acc0', V128], ['acc1', V128], ['acc2', V128], ['acc3', V128], ['acc4', V128], ['acc5', V128], ['acc6', V128], ['acc7', V128],
      ['b0', V128], ['b1', V128], ['s', V128],
    ],
    body: `
      local.get $cols i32.const 2 i32.shl local.set $colEnd
      f32.const 0 f32x4.splat local.set $zero
      block $done
        local.get $rows i32.eqz br_if $done
        local.get $cols i32.eqz br_if $done
        local.get $inner i32.eqz br_if $done
        loop $rowBlock
          i32.const 0 local.set $j
          loop $colBlock
            local.get $overwrite
            if
            local.get $zero local.set $acc0
            local.get $zero local.set $acc1
            local.get $zero local.set $acc2
            local.get $zero local.set $acc3
            local.get $zero local.set $acc4
            local.get $zero local.set $acc5
            local.get $zero local.set $acc6
            local.get $zero local.set $acc7
            else
            local.get $c local.get $j i32.add local.tee $ca v128.load local.set $acc0
            local.get $ca v128.load offset=16 local.set $acc1
            local.get $ca local.get $ldc i32.add local.tee $ca v128.load local.set $acc2
            local.get $ca v128.load offset=16 local.set $acc3
            local.get $ca local.get $ldc i32.add local.tee $ca v128.load local.set $acc4
            local.get $ca v128.load offset=16 local.set $acc5
            local.get $ca local.get $ldc i32.add local.tee $ca v128.load local.set $acc6
            local.get $ca v128.load offset=16 local.set $acc7
            end
            local.get $a local.set $pa0
            local.get $a local.get $lda i32.add local.set $pa1
            local.get $pa1 local.get $lda i32.add local.set $pa2
            local.get $pa2 local.get $lda i32.add local.set $pa3
            local.get $b local.get $j i32.add local.set $pb
            local.get $inner local.set $t
            loop $k
              local.get $pb v128.load local.set $b0
              local.get $pb v128.load offset=16 local.set $b1
              local.get $pa0 v128.load32_splat local.tee $s local.get $b0 f32x4.mul local.get $acc0 f32x4.add local.set $acc0
              local.get $s local.get $b1 f32x4.mul local.get $acc1 f32x4.add local.set $acc1
              local.get $pa1 v128.load32_splat local.tee $s local.get $b0 f32x4.mul local.get $acc2 f32x4.add local.set $acc2
              local.get $s local.get $b1 f32x4.mul local.get $acc3 f32x4.add local.set $acc3
              local.get $pa2 v128.load32_splat local.tee $s local.get $b0 f32x4.mul local.get $acc4 f32x4.add local.set $acc4
              local.get $s local.get $b1 f32x4.mul local.get $acc5 f32x4.add local.set $acc5
              local.get $pa3 v128.load32_splat local.tee $s local.get $b0 f32x4.mul local.get $acc6 f32x4.add local.set $acc6
              local.get $s local.get $b1 f32x4.mul local.get $acc7 f32x4.add local.set $acc7
              local.get $pa0 i32.const 4 i32.add local.set $pa0
              local.get $pa1 i32.const 4 i32.add local.set $pa1
              local.get $pa2 i32.const 4 i32.add local.set $pa2
              local.get $pa3 i32.const 4 i32.add local.set $pa3
              local.get $pb local.get $ldb i32.add local.set $pb
              local.get $t i32.const 1 i32.sub local.tee $t
              br_if $k
            end
            local.get $c local.get $j i32.add local.tee $ca local.get $acc0 v128.store
            local.get $ca local.get $acc1 v128.store offset=16
            local.get $ca local.get $ldc i32.add local.tee $ca local.get $acc2 v128.store
            local.get $ca local.get $acc3 v128.store offset=16
            local.get $ca local.get $ldc i32.add local.tee $ca local.get $acc4 v128.store
            local.get $ca local.get $acc5 v128.store offset=16
            local.get $ca local.get $ldc i32.add local.tee $ca local.get $acc6 v128.store
            local.get $ca local.get $acc7 v128.store offset=16
            local.get $j i32.const 32 i32.add local.tee $j
            local.get $colEnd i32.lt_u br_if $colBlock
          end
          local.get $a local.get $lda i32.const 2 i32.shl i32.add local.set $a
          local.get $c local.get $ldc i32.const 2 i32.shl i32.add local.set $c
          local.get $rows i32.const 4 i32.sub local.tee $rows
          br_if $rowBlock
        end
      end`,
  },
  {
    name: 'siluGrad',
    params: [['dy', I32], ['s', I32], ['x', I32], ['dx', I32], ['n', I32]],
    locals: [['o', I32], ['end', I32], ['tail', I32], ['sv', V128], ['one', V128], ['ss', 'f32']],
    body: `
      f32.const 1 f32x4.splat local.set $one
      local.get $n i32.const -4 i32.and i32.const 2 i32.shl local.set $end
      local.get $n i32.const 2 i32.shl local.set $tail
      block $vdone
        local.get $end i32.eqz br_if $vdone
        loop $vec
          local.get $dx local.get $o i32.add
          local.get $dy local.get $o i32.add v128.load
          local.get $s local.get $o i32.add v128.load local.tee $sv
          f32x4.mul
          local.get $one
          local.get $x local.get $o i32.add v128.load
          local.get $one local.get $sv f32x4.sub
          f32x4.mul f32x4.add
          f32x4.mul v128.store
          local.get $o i32.const 16 i32.add local.tee $o
          local.get $end i32.lt_u br_if $vec
        end
      end
      block $sdone
        loop $scalar
          local.get $o local.get $tail i32.ge_u br_if $sdone
          local.get $dx local.get $o i32.add
          local.get $dy local.get $o i32.add f32.load
          local.get $s local.get $o i32.add f32.load local.tee $ss
          f32.mul
          f32.const 1
          local.get $x local.get $o i32.add f32.load
          f32.const 1 local.get $ss f32.sub
          f32.mul f32.add
          f32.mul f32.store
          local.get $o i32.const 4 i32.add local.set $o
          br $scalar
        end
      end`,
  },
  {
    name: 'multiply',
    params: [['x', I32], ['s', I32], ['y', I32], ['n', I32]],
    locals: [['o', I32], ['end', I32], ['tail', I32]],
    body: `
      local.get $n i32.const -4 i32.and i32.const 2 i32.shl local.set $end
      local.get $n i32.const 2 i32.shl local.set $tail
      block $vdone
        local.get $end i32.eqz br_if $vdone
        loop $vec
          local.get $y local.get $o i32.add
          local.get $x local.get $o i32.add v128.load
          local.get $s local.get $o i32.add v128.load
          f32x4.mul v128.store
          local.get $o i32.const 16 i32.add local.tee $o
          local.get $end i32.lt_u br_if $vec
        end
      end
      block $sdone
        loop $scalar
          local.get $o local.get $tail i32.ge_u br_if $sdone
          local.get $y local.get $o i32.add
          local.get $x local.get $o i32.add f32.load
          local.get $s local.get $o i32.add f32.load
          f32.mul f32.store
          local.get $o i32.const 4 i32.add local.set $o
          br $scalar
        end
      end`,
  },
];

let enabled = true;

/** Turns the SIMD loops off (their JavaScript twins run instead) or on; returns the previous setting. Specs and benchmarks compare both. */
export function setSimdKernelsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** The parts of the WebAssembly JavaScript API used here (the project's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let moduleBytes: Uint8Array | undefined;
let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, SimdKernels>();

/** The assembled module (exported for the assembler's spec). */
export function simdModuleBytes(): Uint8Array {
  moduleBytes ??= assembleModule(SOURCES);
  return moduleBytes;
}

function compiledModule(): object | null {
  if (compiled === undefined) {
    const bytes = simdModuleBytes();
    // Hosts without WebAssembly SIMD reject the module: the JavaScript loops run there.
    compiled = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
  }
  return compiled;
}

/** The wasm backend's memory (emscripten exports it as `asm.memory`). */
function backendMemory(backend: BackendWasm): WasmMemory | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  return wasmApi !== undefined && memory instanceof wasmApi.Memory ? memory : undefined;
}

/** The SIMD kernels bound to this backend's heap, or undefined when they are off or unavailable. */
export function simdKernels(backend: BackendWasm): SimdKernels | undefined {
  if (!enabled || wasmApi === undefined) return undefined;
  const memory = backendMemory(backend);
  if (memory === undefined) return undefined;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  const module = compiledModule();
  if (module === null) return undefined;
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const kernels = instance.exports as SimdKernels;
  instances.set(memory, kernels);
  return kernels;
}

/** The wasm heap as bytes (for views of other types than float32). */
export function heapBuffer(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/** The byte address of a tensor's data in the wasm heap. */
export function address(backend: BackendWasm, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}
