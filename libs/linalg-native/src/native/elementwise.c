/*
 * Elementwise, pooling and row-sum kernels of training (see elementwise.h). Each loop body is
 * written once, always inlined into one wrapper per SIMD level (compiled with that level's target
 * attributes, so the compiler vectorises it for that level), and run over fixed chunks on the pool.
 */
#include "elementwise.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define RL_INLINE static inline __attribute__((always_inline))

/* Elements per task of the elementwise loops: big enough that a task costs more than handing it out. */
#define RL_CHUNK 32768

/* Three wrappers of one body: name_portable, name_avx2, name_avx512, and a chooser name_for(level). */
#if defined(__x86_64__) || defined(__i386__)
#define RL_LEVEL_VARIANTS(name, params, args)                                                     \
  static void name##_portable params { name##_body args; }                                       \
  __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_body args; }        \
  __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void name##_avx512 params { name##_body args; }
#define RL_CHOOSE(name, level) \
  ((level) == RL_LEVEL_AVX512 ? name##_avx512 : (level) == RL_LEVEL_AVX2 ? name##_avx2 : name##_portable)
#else
#define RL_LEVEL_VARIANTS(name, params, args) static void name##_portable params { name##_body args; }
#define RL_CHOOSE(name, level) ((void)(level), name##_portable)
#endif

/* e^x (Cephes expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-6 polynomial, times 2^n. */
RL_INLINE float rl_expf(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x); /* NaN stays NaN */
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest (1.5·2²³ trick) */
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return e * scale.f;
}

RL_INLINE void silu_body(const float *restrict x, float *restrict y, float *restrict s, size_t n) {
  if (y) {
    for (size_t i = 0; i < n; i++) {
      const float v = x[i];
      const float sg = 1.0f / (1.0f + rl_expf(-v));
      s[i] = sg;
      y[i] = v * sg;
    }
  } else {
    for (size_t i = 0; i < n; i++) s[i] = 1.0f / (1.0f + rl_expf(-x[i]));
  }
}
RL_LEVEL_VARIANTS(silu, (const float *restrict x, float *restrict y, float *restrict s, size_t n), (x, y, s, n))

RL_INLINE void silu_grad_body(const float *restrict dy, const float *restrict s, const float *restrict x, float *restrict dx, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float si = s[i];
    dx[i] = dy[i] * si * (1.0f + x[i] * (1.0f - si));
  }
}
RL_LEVEL_VARIANTS(silu_grad, (const float *restrict dy, const float *restrict s, const float *restrict x, float *restrict dx, size_t n),
                  (dy, s, x, dx, n))

typedef struct {
  rl_level level;
  const float *a, *b, *c;
  float *out1, *out2;
  size_t n;
} chunk_job;

static void silu_task(void *ctx, size_t task, int worker) {
  (void)worker;
  const chunk_job *job = ctx;
  const size_t i0 = task * RL_CHUNK, count = job->n - i0 < RL_CHUNK ? job->n - i0 : RL_CHUNK;
  RL_CHOOSE(silu, job->level)(job->a + i0, job->out1 ? job->out1 + i0 : NULL, job->out2 + i0, count);
}

static void silu_grad_task(void *ctx, size_t task, int worker) {
  (void)worker;
  const chunk_job *job = ctx;
  const size_t i0 = task * RL_CHUNK, count = job->n - i0 < RL_CHUNK ? job->n - i0 : RL_CHUNK;
  RL_CHOOSE(silu_grad, job->level)(job->a + i0, job->b + i0, job->c + i0, job->out1 + i0, count);
}

void rl_silu(const float *x, float *y, float *s, size_t n, int threads, rl_level level) {
  chunk_job job = {level, x, NULL, NULL, y, s, n};
  rl_parallel_for((n + RL_CHUNK - 1) / RL_CHUNK, rl_threads_for((double)n, RL_ELEMENTS_PER_THREAD, threads), silu_task, &job);
}

void rl_silu_grad(const float *dy, const float *s, const float *x, float *dx, size_t n, int threads, rl_level level) {
  chunk_job job = {level, dy, s, x, dx, NULL, n};
  rl_parallel_for((n + RL_CHUNK - 1) / RL_CHUNK, rl_threads_for((double)n, RL_ELEMENTS_PER_THREAD, threads), silu_grad_task, &job);
}

/* ------------------------------------------------------------------------------------------ */
/* Max pooling, one image per task                                                              */
/* ------------------------------------------------------------------------------------------ */

RL_INLINE void max_pool_body(const rl_conv_geometry *g, const float *restrict x, float *restrict y) {
  const long C = g->in_c, W = g->in_w;
  for (long oy = 0; oy < g->out_h; oy++)
    for (long ox = 0; ox < g->out_w; ox++) {
      float *restrict out = y + (oy * g->out_w + ox) * C;
      for (long c = 0; c < C; c++) out[c] = -INFINITY;
      for (long ky = 0; ky < g->fh; ky++) {
        const long iy = oy * g->stride_h + ky - g->pad_top;
        if (iy < 0 || iy >= g->in_h) continue;
        for (long kx = 0; kx < g->fw; kx++) {
          const long ix = ox * g->stride_w + kx - g->pad_left;
          if (ix < 0 || ix >= W) continue;
          const float *restrict v = x + (iy * W + ix) * C;
          /* v > m keeps m for NaN: NaN never wins, as in tfjs's cpu backend. */
          for (long c = 0; c < C; c++) out[c] = v[c] > out[c] ? v[c] : out[c];
        }
      }
    }
}
RL_LEVEL_VARIANTS(max_pool, (const rl_conv_geometry *g, const float *restrict x, float *restrict y), (g, x, y))

/*
 * The winning tap of every channel of window (oy, ox): the first strict maximum in row-major tap
 * order (NaN never wins), -1 for a window with no value above −∞. best/at: C floats and C ints.
 * The loop runs along the channels, so it vectorises.
 */
RL_INLINE void window_argmax(const rl_conv_geometry *g, const float *restrict x, long oy, long ox, float *restrict best, int32_t *restrict at) {
  const long C = g->in_c, W = g->in_w;
  for (long c = 0; c < C; c++) {
    best[c] = -INFINITY;
    at[c] = -1;
  }
  for (long ky = 0; ky < g->fh; ky++) {
    const long iy = oy * g->stride_h + ky - g->pad_top;
    if (iy < 0 || iy >= g->in_h) continue;
    for (long kx = 0; kx < g->fw; kx++) {
      const long ix = ox * g->stride_w + kx - g->pad_left;
      if (ix < 0 || ix >= W) continue;
      const int32_t tap = (int32_t)(ky * g->fw + kx);
      const float *restrict v = x + (iy * W + ix) * C;
      for (long c = 0; c < C; c++) {
        const int wins = v[c] > best[c];
        best[c] = wins ? v[c] : best[c];
        at[c] = wins ? tap : at[c];
      }
    }
  }
}

/*
 * Every tap of each window adds dy where it won (0 elsewhere): overlapping windows add up as the
 * cpu backend's sum does. Where the windows tile the image exactly (stride = window, no padding,
 * every pixel in one window: the VanillaCNN's 2×2 pools), each pixel is written once instead, so
 * dx needs no clearing and no read-modify-write.
 */
RL_INLINE void max_pool_grad_body(const rl_conv_geometry *g, int tiled, const float *restrict x, const float *restrict dy, float *restrict dx,
                                  float *restrict best, int32_t *restrict at) {
  const long C = g->in_c, W = g->in_w;
  if (!tiled) memset(dx, 0, (size_t)(g->in_h * W * C) * sizeof(float));
  for (long oy = 0; oy < g->out_h; oy++)
    for (long ox = 0; ox < g->out_w; ox++) {
      window_argmax(g, x, oy, ox, best, at);
      const float *restrict d = dy + (oy * g->out_w + ox) * C;
      for (long ky = 0; ky < g->fh; ky++) {
        const long iy = oy * g->stride_h + ky - g->pad_top;
        if (iy < 0 || iy >= g->in_h) continue;
        for (long kx = 0; kx < g->fw; kx++) {
          const long ix = ox * g->stride_w + kx - g->pad_left;
          if (ix < 0 || ix >= W) continue;
          const int32_t tap = (int32_t)(ky * g->fw + kx);
          float *restrict p = dx + (iy * W + ix) * C;
          if (tiled) {
            for (long c = 0; c < C; c++) p[c] = at[c] == tap ? d[c] : 0.0f;
          } else {
            for (long c = 0; c < C; c++) p[c] += at[c] == tap ? d[c] : 0.0f;
          }
        }
      }
    }
}
RL_LEVEL_VARIANTS(max_pool_grad,
                  (const rl_conv_geometry *g, int tiled, const float *restrict x, const float *restrict dy, float *restrict dx,
                   float *restrict best, int32_t *restrict at),
                  (g, tiled, x, dy, dx, best, at))

/** Whether the windows tile the image exactly: stride = window, no padding, out·window = in. */
static int windows_tile(const rl_conv_geometry *g) {
  return g->stride_h == g->fh && g->stride_w == g->fw && g->pad_top == 0 && g->pad_left == 0 && g->out_h * g->fh == g->in_h &&
         g->out_w * g->fw == g->in_w;
}

typedef struct {
  const rl_conv_geometry *g;
  rl_level level;
  const float *x, *dy;
  float *out;
  float *best; /* per worker: C floats */
  int32_t *at; /* per worker: C ints */
} pool_job;

static void max_pool_task(void *ctx, size_t image, int worker) {
  (void)worker;
  const pool_job *job = ctx;
  const rl_conv_geometry *g = job->g;
  const size_t in = (size_t)(g->in_h * g->in_w * g->in_c), out = (size_t)(g->out_h * g->out_w * g->in_c);
  RL_CHOOSE(max_pool, job->level)(g, job->x + image * in, job->out + image * out);
}

static void max_pool_grad_task(void *ctx, size_t image, int worker) {
  const pool_job *job = ctx;
  const rl_conv_geometry *g = job->g;
  const size_t in = (size_t)(g->in_h * g->in_w * g->in_c), out = (size_t)(g->out_h * g->out_w * g->in_c);
  float *best = job->best + (size_t)worker * (size_t)g->in_c;
  int32_t *at = job->at + (size_t)worker * (size_t)g->in_c;
  RL_CHOOSE(max_pool_grad, job->level)(g, windows_tile(g), job->x + image * in, job->dy + image * out, job->out + image * in, best, at);
}

void rl_max_pool(const rl_conv_geometry *g, const float *x, float *y, int threads, rl_level level) {
  pool_job job = {g, level, x, NULL, y, NULL, NULL};
  const double elements = (double)g->batch * (double)(g->in_h * g->in_w * g->in_c);
  rl_parallel_for((size_t)g->batch, rl_threads_for(elements, RL_ELEMENTS_PER_THREAD, threads), max_pool_task, &job);
}

int rl_max_pool_grad(const rl_conv_geometry *g, const float *x, const float *dy, float *dx, int threads, rl_level level) {
  const double elements = (double)g->batch * (double)(g->in_h * g->in_w * g->in_c);
  const int workers = rl_pool_workers((size_t)g->batch, rl_threads_for(elements, RL_ELEMENTS_PER_THREAD, threads));
  float *best = malloc((size_t)workers * (size_t)g->in_c * sizeof(float));
  int32_t *at = malloc((size_t)workers * (size_t)g->in_c * sizeof(int32_t));
  if (best && at) {
    pool_job job = {g, level, x, dy, dx, best, at};
    rl_parallel_for((size_t)g->batch, workers, max_pool_grad_task, &job);
  }
  const int failed = !best || !at;
  free(best);
  free(at);
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Row sums                                                                                     */
/* ------------------------------------------------------------------------------------------ */

RL_INLINE void sum_rows_body(const float *restrict x, size_t r0, size_t r1, size_t cols, double *restrict acc) {
  for (size_t r = r0; r < r1; r++) {
    const float *restrict row = x + r * cols;
    for (size_t c = 0; c < cols; c++) acc[c] += (double)row[c];
  }
}
RL_LEVEL_VARIANTS(sum_rows, (const float *restrict x, size_t r0, size_t r1, size_t cols, double *restrict acc), (x, r0, r1, cols, acc))

typedef struct {
  rl_level level;
  const float *x;
  size_t rows, cols, chunks;
  double *acc; /* chunks × cols */
} sum_job;

static void sum_task(void *ctx, size_t chunk, int worker) {
  (void)worker;
  const sum_job *job = ctx;
  const size_t r0 = job->rows * chunk / job->chunks, r1 = job->rows * (chunk + 1) / job->chunks;
  RL_CHOOSE(sum_rows, job->level)(job->x, r0, r1, job->cols, job->acc + chunk * job->cols);
}

int rl_sum_rows(const float *x, size_t rows, size_t cols, float *out, int threads, rl_level level) {
  const size_t chunks = rows < RL_SUM_CHUNKS ? (rows == 0 ? 1 : rows) : RL_SUM_CHUNKS;
  double *acc = calloc(chunks * (cols == 0 ? 1 : cols), sizeof(double));
  if (!acc) return -1;
  sum_job job = {level, x, rows, cols, chunks, acc};
  rl_parallel_for(chunks, rl_threads_for((double)rows * (double)cols, RL_ELEMENTS_PER_THREAD, threads), sum_task, &job);
  for (size_t c = 0; c < cols; c++) {
    double s = 0.0;
    for (size_t k = 0; k < chunks; k++) s += acc[k * cols + c];
    out[c] = (float)s;
  }
  free(acc);
  return 0;
}
