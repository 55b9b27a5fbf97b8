/*
 * Register-tile micro-kernels with a strided left operand, for the training kernels (convolutions
 * and dense products, src/native/conv.c and matmul.c).
 *
 *   tile[i][j] = Σ_{p < kc} a[i·rs + p·ps] · b[p·ldb + j]      (i < MR, j < NR; tile row stride NR)
 *
 * The left operand is read in place through two strides: rows of a row-major matrix (rs = its row
 * length, ps = 1: an im2col panel, or A of A·B) or columns of one (rs = 1, ps = its row length: dy
 * in a filter gradient, or Aᵀ of Aᵀ·B), so it needs no packing; each of its values is broadcast.
 * The right operand is kc rows of NR floats, ldb apart: packed panels (ldb = NR), or a row-major
 * matrix read in place (dy, or an im2col block), any alignment. The kernels are bound by
 * their multiply-adds (one per NR/16 lanes per tile row per step), not by their loads, so the
 * strided reads cost nothing measurable.
 */
#ifndef RL_TILE_H
#define RL_TILE_H

#include "gemm.h"

typedef void (*rl_tile_fn)(long kc, const float *a, long rs, long ps, const float *b, long ldb, float *tile);

typedef struct {
  int mr;
  int nr;
  rl_tile_fn kernel;
} rl_tile_kernel;

/** The micro-kernel of a SIMD level: 12×32 (AVX-512), 6×16 (AVX2+FMA) or 4×8 (portable C). */
rl_tile_kernel rl_tile_kernel_for(rl_level level);

/** Largest MR and NR of any level (for stack buffers). */
#define RL_TILE_MR_MAX 12
#define RL_TILE_NR_MAX 32

/** 64-byte aligned allocation of `floats` floats (at least one cache line); free with free(). */
float *rl_alloc_floats(size_t floats);

/** `workers` buffers of `floats` floats each (per-thread scratch), or NULL if memory ran out. */
float **rl_alloc_scratch(int workers, size_t floats);
/** Frees what rl_alloc_scratch returned (NULL is fine). */
void rl_free_scratch(float **scratch, int workers);

#endif
