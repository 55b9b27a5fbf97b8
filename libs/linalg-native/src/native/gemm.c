/*
 * BLIS-style SGEMM: operands are packed into panels (MR rows of the "broadcast" operand, NR rows of
 * the "vector" operand, each interleaved along the reduction index), a micro-kernel keeps an MR×NR
 * tile of C in registers over RL_KC reduction steps, and the macro loops block for the caches.
 *
 * Both products are written as C[i][j] (+)= Σ_p S(i, p)·V(j, p):
 * - A·Bᵀ: S(i, p) = A[i][p], V(j, p) = B[j][p]                    (reduction over columns)
 * - Aᵀ·B: S(i, p) = A[p][i], V(j, p) = B[p][j]                    (reduction over rows)
 * so one packing routine (strided reads, optional shift/scale, float32/float64 input) serves both.
 *
 * SIMD paths are compiled with function-level target attributes (never -march=native) and chosen
 * at run time with __builtin_cpu_supports, so one binary is correct on any x86-64 CPU.
 */
#include "gemm.h"
#include "tile.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define RL_X86 1
#include <immintrin.h>
#else
#define RL_X86 0
#endif

#define MR_MAX RL_TILE_MR_MAX
#define NR_MAX RL_TILE_NR_MAX
#define ALIGN 64
/** Multiply-adds below which a product runs on the calling thread only (a thread start costs ~50 µs). */
#define RL_MIN_THREADED_WORK 4e6
/**
 * Reduction steps per block of A·Bᵀ. k ≤ 512 (the benchmark's D) then takes one block, so every
 * float32 tile of C is written once (a second block would read and rewrite the whole result).
 */
#ifndef RL_KC_ABT
#define RL_KC_ABT 512
#endif
#define RL_KC_MAX (RL_KC_ABT > RL_KC ? RL_KC_ABT : RL_KC)
/** Columns of C per column block of A·Bᵀ (a multiple of every NR). */
#ifndef RL_NC
#define RL_NC 512
#endif

/* Micro-kernels: those of tile.h, with the packed left operand a[p·MR + i] (rs = 1, ps = MR) and the packed right one b[p·NR + j]. */

/* ------------------------------------------------------------------------------------------ */
/* Packing                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Logical operand X(i, p) = round32((data[i·si + p·sp] − shift_i[i] − shift_p[p]) · scale_i[i]). */
typedef struct {
  const void *data;
  int f64;
  size_t si;
  size_t sp;
  const double *shift_i;
  const double *shift_p;
  const double *scale_i;
} operand;

/**
 * dst[p·R + r] = X(i0 + r, p0 + p) for r < ib, p < pk; rows r ≥ ib are zero (tails of a panel).
 * The shift and scale are applied in float64 and the result rounded once to float32, exactly as the
 * core's JS code does before handing a float32 block to a backend.
 *
 * Written once, inlined into one wrapper per SIMD level (below) so that the compiler vectorises the
 * inner loops for that level: the loops run along the contiguous index of the source.
 */
static inline __attribute__((always_inline)) void pack_panel_body(const operand *x, size_t i0, size_t ib, size_t p0, size_t pk, int R,
                                                                  float *restrict dst) {
  const size_t RR = (size_t)R;
  if (x->si == 1 && x->shift_p == NULL && x->scale_i == NULL) {
    /* Contiguous along i (Aᵀ·B operands): one short row of R values per reduction step. */
    const double *restrict shift = x->shift_i ? x->shift_i + i0 : NULL;
    for (size_t p = 0; p < pk; p++) {
      float *restrict d = dst + p * RR;
      if (x->f64) {
        const double *restrict s = (const double *)x->data + i0 + (p0 + p) * x->sp;
        if (shift)
          for (size_t r = 0; r < ib; r++) d[r] = (float)(s[r] - shift[r]);
        else
          for (size_t r = 0; r < ib; r++) d[r] = (float)s[r];
      } else {
        const float *restrict s = (const float *)x->data + i0 + (p0 + p) * x->sp;
        if (shift)
          for (size_t r = 0; r < ib; r++) d[r] = (float)((double)s[r] - shift[r]);
        else
          for (size_t r = 0; r < ib; r++) d[r] = s[r];
      }
      for (size_t r = ib; r < RR; r++) d[r] = 0.0f;
    }
    return;
  }
  if (x->sp == 1 && x->shift_i == NULL && pk <= RL_KC_MAX && R <= MR_MAX * 3) {
    /* Contiguous along p (A·Bᵀ operands): each row segment is transformed into a small buffer
       (vectorised along p) or read in place, then the panel is written in order, R values per p. */
    float rows[MR_MAX * 3][RL_KC_MAX];
    const float *src[MR_MAX * 3];
    for (size_t r = 0; r < ib; r++) {
      const size_t i = i0 + r;
      const double sc = x->scale_i ? x->scale_i[i] : 1.0;
      const double *restrict shift = x->shift_p ? x->shift_p + p0 : NULL;
      float *restrict row = rows[r];
      if (x->f64) {
        const double *restrict s = (const double *)x->data + i * x->si + p0;
        if (shift)
          for (size_t p = 0; p < pk; p++) row[p] = (float)((s[p] - shift[p]) * sc);
        else
          for (size_t p = 0; p < pk; p++) row[p] = (float)(s[p] * sc);
        src[r] = row;
      } else {
        const float *restrict s = (const float *)x->data + i * x->si + p0;
        if (shift)
          for (size_t p = 0; p < pk; p++) row[p] = (float)(((double)s[p] - shift[p]) * sc);
        else if (x->scale_i)
          for (size_t p = 0; p < pk; p++) row[p] = (float)((double)s[p] * sc);
        src[r] = shift || x->scale_i ? row : s;
      }
    }
    for (size_t p = 0; p < pk; p++) {
      float *restrict d = dst + p * RR;
      size_t r = 0;
      for (; r < ib; r++) d[r] = src[r][p];
      for (; r < RR; r++) d[r] = 0.0f;
    }
    return;
  }
  /* Anything else (not used by the products above, kept for completeness): element by element. */
  for (size_t r = 0; r < RR; r++) {
    if (r >= ib) {
      for (size_t p = 0; p < pk; p++) dst[p * RR + r] = 0.0f;
      continue;
    }
    const size_t i = i0 + r;
    const double si = x->shift_i ? x->shift_i[i] : 0.0;
    const double sc = x->scale_i ? x->scale_i[i] : 1.0;
    for (size_t p = 0; p < pk; p++) {
      const size_t at = i * x->si + (p0 + p) * x->sp;
      double v = x->f64 ? ((const double *)x->data)[at] : (double)((const float *)x->data)[at];
      v -= si;
      if (x->shift_p) v -= x->shift_p[p0 + p];
      v *= sc;
      dst[p * RR + r] = (float)v;
    }
  }
}

typedef void (*pack_fn)(const operand *x, size_t i0, size_t ib, size_t p0, size_t pk, int R, float *restrict dst);

static void pack_portable(const operand *x, size_t i0, size_t ib, size_t p0, size_t pk, int R, float *restrict dst) {
  pack_panel_body(x, i0, ib, p0, pk, R, dst);
}
#if RL_X86
__attribute__((target("avx2,fma"))) static void pack_avx2(const operand *x, size_t i0, size_t ib, size_t p0, size_t pk, int R,
                                                          float *restrict dst) {
  pack_panel_body(x, i0, ib, p0, pk, R, dst);
}
__attribute__((target("avx512f,avx2,fma"))) static void pack_avx512(const operand *x, size_t i0, size_t ib, size_t p0, size_t pk, int R,
                                                                   float *restrict dst) {
  pack_panel_body(x, i0, ib, p0, pk, R, dst);
}
#endif

typedef struct {
  int mr;
  int nr;
  int mc; /* rows of the broadcast operand packed per block (multiple of mr) */
  rl_tile_fn kernel;
  pack_fn pack;
} kernel_info;

static kernel_info kernel_for(rl_level level) {
  const rl_tile_kernel tile = rl_tile_kernel_for(level);
  kernel_info k = {tile.mr, tile.nr, 128, tile.kernel, pack_portable};
#if RL_X86
  if (level == RL_LEVEL_AVX512) {
    k.mc = 144;
    k.pack = pack_avx512;
  } else if (level == RL_LEVEL_AVX2) {
    k.mc = 120;
    k.pack = pack_avx2;
  }
#endif
  return k;
}

rl_level rl_cpu_level(void) {
#if RL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return RL_LEVEL_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RL_LEVEL_AVX2;
#endif
  return RL_LEVEL_PORTABLE;
}

const char *rl_level_name(rl_level level) {
  switch (level) {
    case RL_LEVEL_AVX512:
      return "avx512";
    case RL_LEVEL_AVX2:
      return "avx2";
    default:
      return "portable";
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Storing a tile                                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  int f64;         /* C is float64 (always accumulated into) or float32 */
  int accumulate;  /* float32 C: add to C instead of overwriting */
  int clamp;       /* float32 C: clamp to [lo, hi] after this block */
  float lo;
  float hi;
} store_mode;

static void store_tile(const float *restrict tile, int nr, void *c, size_t ldc, size_t rows, size_t cols, store_mode mode) {
  if (mode.f64) {
    double *d = (double *)c;
    for (size_t i = 0; i < rows; i++) {
      double *row = d + i * ldc;
      const float *t = tile + i * (size_t)nr;
      for (size_t j = 0; j < cols; j++) row[j] += (double)t[j];
    }
    return;
  }
  float *f = (float *)c;
  for (size_t i = 0; i < rows; i++) {
    float *row = f + i * ldc;
    const float *t = tile + i * (size_t)nr;
    if (mode.accumulate) {
      for (size_t j = 0; j < cols; j++) row[j] += t[j];
    } else {
      for (size_t j = 0; j < cols; j++) row[j] = t[j];
    }
    if (mode.clamp) {
      const float lo = mode.lo, hi = mode.hi;
      for (size_t j = 0; j < cols; j++) {
        const float v = row[j];
        row[j] = v < lo ? lo : (v > hi ? hi : v);
      }
    }
  }
}

static void *aligned_buffer(size_t floats) {
  size_t bytes = (floats * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
  if (bytes == 0) bytes = ALIGN;
  return aligned_alloc(ALIGN, bytes);
}

/* ------------------------------------------------------------------------------------------ */
/* A·Bᵀ                                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  kernel_info k;
  const operand *s;
  size_t m, n, kdim;
  const float *vpack; /* all of B, packed: [pc block][NR panel][p][NR] */
  size_t vpanels;
  float *out;
  int clamp;
  float lo, hi;
  size_t row0, row1; /* rows of C this worker computes */
  int failed;
} abt_job;

static void *abt_worker(void *arg) {
  abt_job *job = (abt_job *)arg;
  const kernel_info k = job->k;
  float *spack = aligned_buffer((size_t)k.mc * RL_KC_ABT);
  float *tile = aligned_buffer(MR_MAX * NR_MAX);
  if (!spack || !tile) {
    free(spack);
    free(tile);
    job->failed = 1;
    return NULL;
  }
  const size_t panel_floats = (size_t)RL_KC_ABT * k.nr;
  /* Column blocks of C: the packed B slab of one (column block, RL_KC_ABT) pair (≤ 1 MB, about the
     L2 of a Zen 4 core) stays in cache while every row panel of A passes over it. */
  const size_t nc_panels = RL_NC / (size_t)k.nr;
  for (size_t jc = 0; jc < job->vpanels; jc += nc_panels) {
    const size_t jc_end = jc + nc_panels < job->vpanels ? jc + nc_panels : job->vpanels;
    for (size_t ic = job->row0; ic < job->row1; ic += k.mc) {
      const size_t mb = job->row1 - ic < (size_t)k.mc ? job->row1 - ic : (size_t)k.mc;
      const size_t spanels = (mb + k.mr - 1) / k.mr;
      for (size_t pc = 0, blk = 0; pc < job->kdim; pc += RL_KC_ABT, blk++) {
        const size_t pk = job->kdim - pc < RL_KC_ABT ? job->kdim - pc : RL_KC_ABT;
        for (size_t ir = 0; ir < spanels; ir++) {
          const size_t i0 = ic + ir * k.mr;
          const size_t ib = job->row1 - i0 < (size_t)k.mr ? job->row1 - i0 : (size_t)k.mr;
          k.pack(job->s, i0, ib, pc, pk, k.mr, spack + ir * (size_t)RL_KC_ABT * k.mr);
        }
        const store_mode mode = {0, pc > 0, job->clamp && pc + pk == job->kdim, job->lo, job->hi};
        for (size_t jr = jc; jr < jc_end; jr++) {
          const float *vp = job->vpack + (blk * job->vpanels + jr) * panel_floats;
          const size_t j0 = jr * k.nr;
          const size_t jb = job->n - j0 < (size_t)k.nr ? job->n - j0 : (size_t)k.nr;
          for (size_t ir = 0; ir < spanels; ir++) {
            const size_t i0 = ic + ir * k.mr;
            const size_t ib = job->row1 - i0 < (size_t)k.mr ? job->row1 - i0 : (size_t)k.mr;
            k.kernel((long)pk, spack + ir * (size_t)RL_KC_ABT * k.mr, 1, k.mr, vp, k.nr, tile);
            store_tile(tile, k.nr, job->out + i0 * job->n + j0, job->n, ib, jb, mode);
          }
        }
      }
    }
  }
  free(spack);
  free(tile);
  return NULL;
}

/**
 * Asks Linux for transparent huge pages on the 2 MB-aligned interior of a large output buffer
 * before its first touch. A fresh N×A result (200 MB in the benchmark) otherwise costs one page
 * fault per 4 KB on first write — measured at ~0.7 s for 200 MB on this VM, more than the product
 * itself; NumPy does the same for its own large arrays. Only the paging policy of the range
 * changes (never its contents); errors are ignored.
 */
void rl_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)1 << 21;
  if (bytes < 4 * huge) return;
  const uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  const uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

int rl_gemm_abt(const rl_matrix *a, const rl_matrix *b, float *out, const double *a_shift, const double *a_scale, int clamp,
                float lo, float hi, int threads, rl_level level) {
  const size_t m = a->rows, n = b->rows, kdim = a->cols;
  if (m == 0 || n == 0) return 0;
  rl_advise_huge_pages(out, m * n * sizeof(float));
  if (kdim == 0) {
    const float z = clamp ? (0.0f < lo ? lo : (0.0f > hi ? hi : 0.0f)) : 0.0f;
    for (size_t t = 0; t < m * n; t++) out[t] = z;
    return 0;
  }
  const kernel_info k = kernel_for(level);
  const operand s = {a->data, a->f64, kdim, 1, NULL, a_shift, a_scale};
  const operand v = {b->data, b->f64, kdim, 1, NULL, NULL, NULL};
  const size_t vpanels = (n + k.nr - 1) / k.nr;
  const size_t blocks = (kdim + RL_KC_ABT - 1) / RL_KC_ABT;
  const size_t panel_floats = (size_t)RL_KC_ABT * k.nr;
  float *vpack = aligned_buffer(blocks * vpanels * panel_floats);
  if (!vpack) return -1;
  for (size_t blk = 0; blk < blocks; blk++) {
    const size_t pc = blk * RL_KC_ABT;
    const size_t pk = kdim - pc < RL_KC_ABT ? kdim - pc : RL_KC_ABT;
    for (size_t jr = 0; jr < vpanels; jr++) {
      const size_t j0 = jr * k.nr;
      const size_t jb = n - j0 < (size_t)k.nr ? n - j0 : (size_t)k.nr;
      k.pack(&v, j0, jb, pc, pk, k.nr, vpack + (blk * vpanels + jr) * panel_floats);
    }
  }
  /* Rows of C split into contiguous ranges (multiples of MR), one per thread. */
  size_t panels = (m + k.mr - 1) / k.mr;
  size_t t_count = threads < 1 ? 1 : (size_t)threads;
  if ((double)m * (double)n * (double)kdim < RL_MIN_THREADED_WORK) t_count = 1;
  if (t_count > panels) t_count = panels;
  if (t_count > 64) t_count = 64;
  abt_job jobs[64];
  pthread_t ids[64];
  int started[64] = {0};
  for (size_t t = 0; t < t_count; t++) {
    const size_t p0 = panels * t / t_count, p1 = panels * (t + 1) / t_count;
    abt_job job = {k, &s, m, n, kdim, vpack, vpanels, out, clamp, lo, hi, p0 * k.mr, p1 * k.mr < m ? p1 * k.mr : m, 0};
    jobs[t] = job;
  }
  for (size_t t = 1; t < t_count; t++) started[t] = pthread_create(&ids[t], NULL, abt_worker, &jobs[t]) == 0;
  abt_worker(&jobs[0]);
  int failed = jobs[0].failed;
  for (size_t t = 1; t < t_count; t++) {
    if (started[t]) {
      pthread_join(ids[t], NULL);
    } else {
      abt_worker(&jobs[t]); /* could not start a thread: do its share here */
    }
    failed |= jobs[t].failed;
  }
  free(vpack);
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Aᵀ·B                                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  kernel_info k;
  const operand *s;
  const operand *v;
  size_t kdim, n; /* C is kdim × n */
  int symmetric;
  size_t red0, red1; /* rows of A and B (the reduction) this worker sums */
  double *out;       /* this worker's accumulator (kdim × n) */
  int failed;
} atb_job;

static void *atb_worker(void *arg) {
  atb_job *job = (atb_job *)arg;
  const kernel_info k = job->k;
  const size_t vpanels = (job->n + k.nr - 1) / k.nr;
  const size_t panel_floats = (size_t)RL_KC * k.nr;
  float *vpack = aligned_buffer(vpanels * panel_floats);
  float *spack = aligned_buffer((size_t)k.mc * RL_KC);
  float *tile = aligned_buffer(MR_MAX * NR_MAX);
  if (!vpack || !spack || !tile) {
    free(vpack);
    free(spack);
    free(tile);
    job->failed = 1;
    return NULL;
  }
  const store_mode mode = {1, 1, 0, 0.0f, 0.0f};
  for (size_t pc = job->red0; pc < job->red1; pc += RL_KC) {
    const size_t pk = job->red1 - pc < RL_KC ? job->red1 - pc : RL_KC;
    for (size_t jr = 0; jr < vpanels; jr++) {
      const size_t j0 = jr * k.nr;
      const size_t jb = job->n - j0 < (size_t)k.nr ? job->n - j0 : (size_t)k.nr;
      k.pack(job->v, j0, jb, pc, pk, k.nr, vpack + jr * panel_floats);
    }
    for (size_t ic = 0; ic < job->kdim; ic += k.mc) {
      const size_t mb = job->kdim - ic < (size_t)k.mc ? job->kdim - ic : (size_t)k.mc;
      const size_t spanels = (mb + k.mr - 1) / k.mr;
      for (size_t ir = 0; ir < spanels; ir++) {
        const size_t i0 = ic + ir * k.mr;
        const size_t ib = job->kdim - i0 < (size_t)k.mr ? job->kdim - i0 : (size_t)k.mr;
        k.pack(job->s, i0, ib, pc, pk, k.mr, spack + ir * (size_t)RL_KC * k.mr);
      }
      for (size_t jr = 0; jr < vpanels; jr++) {
        const size_t j0 = jr * k.nr;
        const size_t jb = job->n - j0 < (size_t)k.nr ? job->n - j0 : (size_t)k.nr;
        /* Symmetric: skip tiles entirely below the diagonal (j0 + jb ≤ i0). */
        if (job->symmetric && j0 + jb <= ic) continue;
        for (size_t ir = 0; ir < spanels; ir++) {
          const size_t i0 = ic + ir * k.mr;
          if (job->symmetric && j0 + jb <= i0) break;
          const size_t ib = job->kdim - i0 < (size_t)k.mr ? job->kdim - i0 : (size_t)k.mr;
          k.kernel((long)pk, spack + ir * (size_t)RL_KC * k.mr, 1, k.mr, vpack + jr * panel_floats, k.nr, tile);
          store_tile(tile, k.nr, job->out + i0 * job->n + j0, job->n, ib, jb, mode);
        }
      }
    }
  }
  free(vpack);
  free(spack);
  free(tile);
  return NULL;
}

int rl_gemm_atb(const rl_matrix *a, const rl_matrix *b, double *out, const double *a_shift, const double *b_shift, int symmetric,
                int threads, rl_level level) {
  const size_t m = a->rows, kdim = a->cols, n = b->cols;
  if (m == 0 || kdim == 0 || n == 0) return 0;
  if (symmetric && kdim != n) symmetric = 0;
  const kernel_info k = kernel_for(level);
  const operand s = {a->data, a->f64, 1, kdim, a_shift, NULL, NULL};
  const operand v = {b->data, b->f64, 1, n, b_shift, NULL, NULL};
  /* The reduction (rows) is split between threads in whole RL_KC blocks; each thread sums into
     its own float64 accumulator (the first into `out` itself), added together at the end. */
  const size_t blocks = (m + RL_KC - 1) / RL_KC;
  size_t t_count = threads < 1 ? 1 : (size_t)threads;
  if ((double)m * (double)n * (double)kdim < RL_MIN_THREADED_WORK) t_count = 1;
  if (t_count > blocks) t_count = blocks;
  if (t_count > 64) t_count = 64;
  atb_job jobs[64];
  pthread_t ids[64];
  int started[64] = {0};
  double *partials = NULL;
  if (t_count > 1) {
    partials = calloc((t_count - 1) * kdim * n, sizeof(double));
    if (!partials) t_count = 1;
  }
  for (size_t t = 0; t < t_count; t++) {
    const size_t b0 = blocks * t / t_count, b1 = blocks * (t + 1) / t_count;
    atb_job job = {k, &s, &v, kdim, n, symmetric, b0 * RL_KC, b1 * RL_KC < m ? b1 * RL_KC : m,
                   t == 0 ? out : partials + (t - 1) * kdim * n, 0};
    jobs[t] = job;
  }
  for (size_t t = 1; t < t_count; t++) started[t] = pthread_create(&ids[t], NULL, atb_worker, &jobs[t]) == 0;
  atb_worker(&jobs[0]);
  int failed = jobs[0].failed;
  for (size_t t = 1; t < t_count; t++) {
    if (started[t]) {
      pthread_join(ids[t], NULL);
    } else {
      atb_worker(&jobs[t]);
    }
    failed |= jobs[t].failed;
    const double *part = jobs[t].out;
    if (symmetric) {
      for (size_t i = 0; i < kdim; i++)
        for (size_t j = i; j < n; j++) out[i * n + j] += part[i * n + j];
    } else {
      for (size_t e = 0; e < kdim * n; e++) out[e] += part[e];
    }
  }
  free(partials);
  if (symmetric) {
    for (size_t i = 1; i < kdim; i++)
      for (size_t j = 0; j < i; j++) out[i * n + j] = out[j * n + i];
  }
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Column sums                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* One body, compiled for each level (the compiler vectorises it across columns: every column
   has its own float64 accumulator, so no reassociation is needed). */
#define RL_COLUMN_SUMS_BODY                                                                          \
  if (a->f64) {                                                                                      \
    const double *x = (const double *)a->data;                                                       \
    for (size_t i = r0; i < r1; i++) {                                                               \
      const double *restrict row = x + i * cols;                                                     \
      if (shift)                                                                                     \
        for (size_t c = 0; c < cols; c++) acc[c] += row[c] - shift[c];                               \
      else                                                                                           \
        for (size_t c = 0; c < cols; c++) acc[c] += row[c];                                          \
    }                                                                                                \
  } else {                                                                                           \
    const float *x = (const float *)a->data;                                                         \
    for (size_t i = r0; i < r1; i++) {                                                               \
      const float *restrict row = x + i * cols;                                                      \
      if (shift)                                                                                     \
        for (size_t c = 0; c < cols; c++) acc[c] += (double)(float)((double)row[c] - shift[c]);      \
      else                                                                                           \
        for (size_t c = 0; c < cols; c++) acc[c] += (double)row[c];                                  \
    }                                                                                                \
  }

typedef void (*column_sums_fn)(const rl_matrix *a, const double *restrict shift, double *restrict acc, size_t r0, size_t r1);

static void column_sums_portable(const rl_matrix *a, const double *restrict shift, double *restrict acc, size_t r0, size_t r1) {
  const size_t cols = a->cols;
  RL_COLUMN_SUMS_BODY
}
#if RL_X86
__attribute__((target("avx2,fma"))) static void column_sums_avx2(const rl_matrix *a, const double *restrict shift, double *restrict acc,
                                                                 size_t r0, size_t r1) {
  const size_t cols = a->cols;
  RL_COLUMN_SUMS_BODY
}
__attribute__((target("avx512f,avx2,fma"))) static void column_sums_avx512(const rl_matrix *a, const double *restrict shift,
                                                                          double *restrict acc, size_t r0, size_t r1) {
  const size_t cols = a->cols;
  RL_COLUMN_SUMS_BODY
}
#endif

typedef struct {
  column_sums_fn fn;
  const rl_matrix *a;
  const double *shift;
  double *acc;
  size_t r0, r1;
} sums_job;

static void *sums_worker(void *arg) {
  sums_job *job = (sums_job *)arg;
  job->fn(job->a, job->shift, job->acc, job->r0, job->r1);
  return NULL;
}

int rl_column_sums(const rl_matrix *a, const double *shift, double *out, int threads, rl_level level) {
  const size_t m = a->rows, cols = a->cols;
  for (size_t c = 0; c < cols; c++) out[c] = 0.0;
  if (m == 0 || cols == 0) return 0;
  column_sums_fn fn = column_sums_portable;
#if RL_X86
  if (level == RL_LEVEL_AVX512) fn = column_sums_avx512;
  else if (level == RL_LEVEL_AVX2) fn = column_sums_avx2;
#else
  (void)level;
#endif
  size_t t_count = threads < 1 ? 1 : (size_t)threads;
  if ((double)m * (double)cols < RL_MIN_THREADED_WORK) t_count = 1;
  if (t_count > m) t_count = m;
  if (t_count > 64) t_count = 64;
  double *partials = NULL;
  if (t_count > 1) {
    partials = calloc((t_count - 1) * cols, sizeof(double));
    if (!partials) t_count = 1;
  }
  sums_job jobs[64];
  pthread_t ids[64];
  int started[64] = {0};
  for (size_t t = 0; t < t_count; t++) {
    sums_job job = {fn, a, shift, t == 0 ? out : partials + (t - 1) * cols, m * t / t_count, m * (t + 1) / t_count};
    jobs[t] = job;
  }
  for (size_t t = 1; t < t_count; t++) started[t] = pthread_create(&ids[t], NULL, sums_worker, &jobs[t]) == 0;
  sums_worker(&jobs[0]);
  for (size_t t = 1; t < t_count; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else sums_worker(&jobs[t]);
    for (size_t c = 0; c < cols; c++) out[c] += jobs[t].acc[c];
  }
  free(partials);
  return 0;
}

void rl_add_f32_to_f64(double *restrict dst, const float *restrict src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += (double)src[i];
}
