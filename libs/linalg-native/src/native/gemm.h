/*
 * Packed, register-blocked single-precision GEMM kernels for @rlsa/linalg-native.
 * No external BLAS: AVX-512, AVX2+FMA and portable C micro-kernels, chosen at run time.
 */
#ifndef RLSA_GEMM_H
#define RLSA_GEMM_H

#include <stddef.h>

/** SIMD levels, in increasing order; a level may run on any CPU that supports it. */
typedef enum { RL_LEVEL_PORTABLE = 0, RL_LEVEL_AVX2 = 1, RL_LEVEL_AVX512 = 2 } rl_level;

/** The best level this CPU (and OS) supports. */
rl_level rl_cpu_level(void);
/** "portable", "avx2" or "avx512". */
const char *rl_level_name(rl_level level);

/** A matrix operand: row-major `rows × cols`, float32 or float64 elements. */
typedef struct {
  const void *data;
  int f64;
  size_t rows;
  size_t cols;
} rl_matrix;

/**
 * out (m×n, float32, row stride n) = clamp(A'·Bᵀ) with A' = (A − 1·shiftᵀ)·diag(scale) rounded to
 * float32 (shift per column of A, scale per row; each may be NULL), A m×k, B n×k.
 * Clamping to [lo, hi] only if `clamp` is non-zero. Returns 0, or -1 if memory ran out.
 */
int rl_gemm_abt(const rl_matrix *a, const rl_matrix *b, float *out, const double *a_shift, const double *a_scale, int clamp,
                float lo, float hi, int threads, rl_level level);

/**
 * out (k×n, float64, row stride n) += (A − 1·a_shiftᵀ)ᵀ·(B − 1·b_shiftᵀ), the shifted values rounded
 * to float32, products summed in float32 over blocks of RL_KC rows, the blocks in float64.
 * A m×k, B m×n. With `symmetric` (A and B the same data and shift, k == n) only the upper
 * triangle is computed and mirrored. Returns 0, or -1 if memory ran out.
 */
int rl_gemm_atb(const rl_matrix *a, const rl_matrix *b, double *out, const double *a_shift, const double *b_shift, int symmetric,
                int threads, rl_level level);

/**
 * out[c] = Σ_i (A[i][c] − shift[c]) for every column c of A (m×k), in float64; for float32 A each
 * shifted value is rounded to float32 first (what a float32 block of the shifted rows holds).
 * `shift` may be NULL. Returns 0, or -1 if memory ran out.
 */
int rl_column_sums(const rl_matrix *a, const double *shift, double *out, int threads, rl_level level);

/** Rows of the reduction summed in float32 by the micro-kernel before the float64 accumulation. */
/*
 * Asks Linux for transparent huge pages on the 2 MB-aligned interior of [p, p + bytes) when it spans
 * at least 8 MB, before the range's first touch: one fault per 2 MB instead of one per 4 KB. Only
 * the paging policy changes, never the contents; errors are ignored.
 */
void rl_advise_huge_pages(void *p, size_t bytes);

/* dst[i] += (double)src[i] for i < n: float32 rows added into float64 sums (memory-bound; vectorised by the compiler). */
void rl_add_f32_to_f64(double *restrict dst, const float *restrict src, size_t n);

#define RL_KC 256

#endif
