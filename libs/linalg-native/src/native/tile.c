/* The strided-left-operand micro-kernels (see tile.h), one per SIMD level, chosen at run time. */
#include "tile.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define RL_X86 1
#include <immintrin.h>
#else
#define RL_X86 0
#endif

#if RL_X86
/* 12×32: 24 zmm accumulators, two vector loads and twelve broadcasts per step. */
__attribute__((target("avx512f,avx2,fma"))) static void tile_avx512(long kc, const float *a, long rs, long ps, const float *b,
                                                                    long ldb, float *tile) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
  __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps(), cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();
  /* Three row pointers, rows at 0..3 row strides from each: twelve rows from few registers. */
  const float *a0 = a, *a4 = a + 4 * rs, *a8 = a + 8 * rs;
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
    __m512 x;
#define RL_ROW(ptr, i, r0, r1)            \
  x = _mm512_set1_ps((ptr)[(i) * rs]);    \
  r0 = _mm512_fmadd_ps(x, b0, r0);        \
  r1 = _mm512_fmadd_ps(x, b1, r1);
    RL_ROW(a0, 0, c00, c01)
    RL_ROW(a0, 1, c10, c11)
    RL_ROW(a0, 2, c20, c21)
    RL_ROW(a0, 3, c30, c31)
    RL_ROW(a4, 0, c40, c41)
    RL_ROW(a4, 1, c50, c51)
    RL_ROW(a4, 2, c60, c61)
    RL_ROW(a4, 3, c70, c71)
    RL_ROW(a8, 0, c80, c81)
    RL_ROW(a8, 1, c90, c91)
    RL_ROW(a8, 2, ca0, ca1)
    RL_ROW(a8, 3, cb0, cb1)
#undef RL_ROW
    a0 += ps;
    a4 += ps;
    a8 += ps;
    b += ldb;
  }
#define RL_ST(i, r0, r1)                 \
  _mm512_store_ps(tile + (i) * 32, r0);  \
  _mm512_store_ps(tile + (i) * 32 + 16, r1);
  RL_ST(0, c00, c01)
  RL_ST(1, c10, c11)
  RL_ST(2, c20, c21)
  RL_ST(3, c30, c31)
  RL_ST(4, c40, c41)
  RL_ST(5, c50, c51)
  RL_ST(6, c60, c61)
  RL_ST(7, c70, c71)
  RL_ST(8, c80, c81)
  RL_ST(9, c90, c91)
  RL_ST(10, ca0, ca1)
  RL_ST(11, cb0, cb1)
#undef RL_ST
}

/* 6×16: 12 ymm accumulators. */
__attribute__((target("avx2,fma"))) static void tile_avx2(long kc, const float *a, long rs, long ps, const float *b, long ldb, float *tile) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float *a0 = a, *a3 = a + 3 * rs;
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
#define RL_ROW(ptr, i, r0, r1)                   \
  x = _mm256_broadcast_ss((ptr) + (i) * rs);     \
  r0 = _mm256_fmadd_ps(x, b0, r0);               \
  r1 = _mm256_fmadd_ps(x, b1, r1);
    RL_ROW(a0, 0, c00, c01)
    RL_ROW(a0, 1, c10, c11)
    RL_ROW(a0, 2, c20, c21)
    RL_ROW(a3, 0, c30, c31)
    RL_ROW(a3, 1, c40, c41)
    RL_ROW(a3, 2, c50, c51)
#undef RL_ROW
    a0 += ps;
    a3 += ps;
    b += ldb;
  }
#define RL_ST(i, r0, r1)                 \
  _mm256_store_ps(tile + (i) * 16, r0);  \
  _mm256_store_ps(tile + (i) * 16 + 8, r1);
  RL_ST(0, c00, c01)
  RL_ST(1, c10, c11)
  RL_ST(2, c20, c21)
  RL_ST(3, c30, c31)
  RL_ST(4, c40, c41)
  RL_ST(5, c50, c51)
#undef RL_ST
}
#endif

/* 4×8 in plain C (any CPU). */
static void tile_portable(long kc, const float *a, long rs, long ps, const float *b, long ldb, float *tile) {
  float c[4][8];
  memset(c, 0, sizeof c);
  for (long p = 0; p < kc; p++) {
    for (int i = 0; i < 4; i++) {
      const float x = a[i * rs];
      for (int j = 0; j < 8; j++) c[i][j] += x * b[j];
    }
    a += ps;
    b += ldb;
  }
  memcpy(tile, c, sizeof c);
}

rl_tile_kernel rl_tile_kernel_for(rl_level level) {
  rl_tile_kernel k = {4, 8, tile_portable};
#if RL_X86
  if (level == RL_LEVEL_AVX512) {
    k.mr = 12;
    k.nr = 32;
    k.kernel = tile_avx512;
  } else if (level == RL_LEVEL_AVX2) {
    k.mr = 6;
    k.nr = 16;
    k.kernel = tile_avx2;
  }
#else
  (void)level;
#endif
  return k;
}

float *rl_alloc_floats(size_t floats) {
  size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  return aligned_alloc(64, bytes);
}

void rl_free_scratch(float **scratch, int workers) {
  if (!scratch) return;
  for (int w = 0; w < workers; w++) free(scratch[w]);
  free(scratch);
}

float **rl_alloc_scratch(int workers, size_t floats) {
  float **scratch = calloc((size_t)workers, sizeof(float *));
  if (!scratch) return NULL;
  for (int w = 0; w < workers; w++) {
    scratch[w] = rl_alloc_floats(floats);
    if (!scratch[w]) {
      rl_free_scratch(scratch, workers);
      return NULL;
    }
  }
  return scratch;
}
