/*
 * Convolutions as products with an implicit im2col operand (see conv.h).
 *
 * An im2col row belongs to one output pixel (n, oy, ox); its K = fh·fw·c taps, in the filter's
 * order (ky, kx, ci), read src[n, iy, ix, ci] with iy·space = oy·stride + ky − pad (and the same
 * along x), zero where that falls outside the image or between spaced pixels. With space 1 the taps
 * of one filter row are one contiguous run of the image row, so a row is fh copies.
 *
 * - forward: y (M×cout) = im2col(x) (M×K) · W (K×cout): each task gathers MR im2col rows into a
 *   row-major panel and multiplies it by the packed filter.
 * - input gradient: the forward of dy with the filter rotated by 180° and its channels swapped,
 *   stride 1, source spacing = the forward stride, padding f − 1 − pad: dx (N·H·W × cin).
 * - filter gradient: dWᵀ (cout×K) = dyᵀ (cout×M) · im2col(x) (M×K), dy read in place as the
 *   strided left operand and im2col rows packed as the right one, by blocks of RL_CONV_KC pixels.
 */
#include "conv.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "tile.h"

/** What an im2col row reads: the source image and how output pixels map onto it. */
typedef struct {
  const float *src;
  long batch, src_h, src_w, src_c;
  long out_h, out_w;
  long fh, fw;
  long stride_h, stride_w;
  long space_h, space_w;
  long pad_top, pad_left;
} im2col_view;

int rl_conv_check(const rl_conv_geometry *g) {
  if (g->batch < 1 || g->in_h < 1 || g->in_w < 1 || g->in_c < 1 || g->out_h < 1 || g->out_w < 1 || g->out_c < 1 || g->fh < 1 ||
      g->fw < 1 || g->stride_h < 1 || g->stride_w < 1 || g->pad_top < 0 || g->pad_left < 0)
    return -1;
  /* The last output pixel's window must start inside the padded image. */
  if ((g->out_h - 1) * g->stride_h - g->pad_top >= g->in_h || (g->out_w - 1) * g->stride_w - g->pad_left >= g->in_w) return -1;
  return 0;
}

static long min_l(long a, long b) { return a < b ? a : b; }
static long max_l(long a, long b) { return a > b ? a : b; }

/* Floor division for a positive divisor (C's / truncates toward zero). */
static long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/** dst[0 .. len) = taps [t0, t0 + len) of the im2col row of output pixel m. */
static void im2col_window(const im2col_view *v, long m, long t0, long len, float *restrict dst) {
  const long c = v->src_c, run = v->fw * c;
  const long plane = v->out_h * v->out_w;
  const long n = m / plane, rest = m - n * plane;
  const long oy = rest / v->out_w, ox = rest - oy * v->out_w;
  const float *image = v->src + n * v->src_h * v->src_w * c;
  const long end = t0 + len;
  for (long t = t0; t < end;) {
    const long ky = t / run;
    const long seg_end = min_l(end, (ky + 1) * run);
    float *d = dst + (t - t0);
    const long iy_spaced = oy * v->stride_h + ky - v->pad_top;
    const long iy = floor_div(iy_spaced, v->space_h);
    if (iy_spaced < 0 || iy * v->space_h != iy_spaced || iy >= v->src_h) {
      memset(d, 0, (size_t)(seg_end - t) * sizeof(float));
      t = seg_end;
      continue;
    }
    const float *row = image + iy * v->src_w * c;
    const long u0 = t - ky * run, u1 = seg_end - ky * run; /* taps within the filter row: kx·c + ci */
    const long x0 = ox * v->stride_w - v->pad_left;          /* spaced x of kx = 0 */
    if (v->space_w == 1) {
      /* tap u reads row[x0·c + u] when 0 ≤ x0·c + u < src_w·c */
      const long lo = max_l(u0, -x0 * c), hi = min_l(u1, (v->src_w - x0) * c);
      if (hi <= lo) {
        memset(d, 0, (size_t)(u1 - u0) * sizeof(float));
      } else {
        if (lo > u0) memset(d, 0, (size_t)(lo - u0) * sizeof(float));
        memcpy(d + (lo - u0), row + x0 * c + lo, (size_t)(hi - lo) * sizeof(float));
        if (u1 > hi) memset(d + (hi - u0), 0, (size_t)(u1 - hi) * sizeof(float));
      }
    } else {
      for (long u = u0; u < u1;) {
        const long kx = u / c, ci0 = u - kx * c, count = min_l(c - ci0, u1 - u);
        const long ix_spaced = x0 + kx, ix = floor_div(ix_spaced, v->space_w);
        float *dd = d + (u - u0);
        if (ix_spaced < 0 || ix * v->space_w != ix_spaced || ix >= v->src_w) {
          memset(dd, 0, (size_t)count * sizeof(float));
        } else {
          memcpy(dd, row + ix * c + ci0, (size_t)count * sizeof(float));
        }
        u += count;
      }
    }
    t = seg_end;
  }
}

/**
 * Packs the right operand V(j, p) = w[p·ldw + j] (K×N row-major) into panels of NR columns:
 * out[jp][p][NR], zero beyond column N.
 */
static void pack_right(const float *w, long K, long N, long ldw, int nr, float *restrict out) {
  const long panels = (N + nr - 1) / nr;
  for (long jp = 0; jp < panels; jp++) {
    const long j0 = jp * nr, jb = min_l(nr, N - j0);
    float *d = out + jp * K * nr;
    for (long p = 0; p < K; p++, d += nr) {
      memcpy(d, w + p * ldw + j0, (size_t)jb * sizeof(float));
      if (jb < nr) memset(d + jb, 0, (size_t)(nr - jb) * sizeof(float));
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* y = im2col(src) · W + bias                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const im2col_view *v;
  rl_tile_kernel k;
  long M, K, N, lda;
  const float *wpack;
  const float *bias;
  float *out;
  long panels_per_task;
  float **scratch; /* per worker: MR rows of lda floats, then a tile */
} forward_job;

static void forward_task(void *ctx, size_t task, int worker) {
  const forward_job *job = ctx;
  const rl_tile_kernel k = job->k;
  float *panel = job->scratch[worker];
  float *tile = panel + (size_t)k.mr * job->lda;
  const long mpanels = (job->M + k.mr - 1) / k.mr;
  const long npanels = (job->N + k.nr - 1) / k.nr;
  const long first = (long)task * job->panels_per_task, last = min_l(mpanels, first + job->panels_per_task);
  for (long ip = first; ip < last; ip++) {
    const long i0 = ip * k.mr, ib = min_l(k.mr, job->M - i0);
    for (long r = 0; r < ib; r++) im2col_window(job->v, i0 + r, 0, job->K, panel + r * job->lda);
    for (long r = ib; r < k.mr; r++) memset(panel + r * job->lda, 0, (size_t)job->K * sizeof(float));
    for (long jp = 0; jp < npanels; jp++) {
      const long j0 = jp * k.nr, jb = min_l(k.nr, job->N - j0);
      k.kernel(job->K, panel, job->lda, 1, job->wpack + jp * job->K * k.nr, tile);
      for (long r = 0; r < ib; r++) {
        float *y = job->out + (i0 + r) * job->N + j0;
        const float *t = tile + r * k.nr;
        if (job->bias) {
          const float *b = job->bias + j0;
          for (long c = 0; c < jb; c++) y[c] = t[c] + b[c];
        } else {
          memcpy(y, t, (size_t)jb * sizeof(float));
        }
      }
    }
  }
}

/** out (M×N) = im2col_v (M×K) · w (K×N, row-major) + bias. */
static int implicit_gemm(const im2col_view *v, const float *w, long N, const float *bias, float *out, int threads, rl_level level) {
  const rl_tile_kernel k = rl_tile_kernel_for(level);
  const long M = v->batch * v->out_h * v->out_w;
  const long K = v->fh * v->fw * v->src_c;
  const long lda = (K + 15) / 16 * 16;
  const long npanels = (N + k.nr - 1) / k.nr;
  float *wpack = rl_alloc_floats((size_t)(npanels * K * k.nr));
  if (!wpack) return -1;
  pack_right(w, K, N, N, k.nr, wpack);
  const long mpanels = (M + k.mr - 1) / k.mr;
  /* About 64 tasks per thread: small enough to balance on a shared machine, large enough to be cheap. */
  long per_task = mpanels / (64L * (threads < 1 ? 1 : threads));
  if (per_task < 1) per_task = 1;
  const size_t tasks = (size_t)((mpanels + per_task - 1) / per_task);
  const int workers = rl_pool_workers(tasks, threads);
  float **scratch = rl_alloc_scratch(workers, (size_t)(k.mr * lda + k.mr * k.nr));
  if (!scratch) {
    free(wpack);
    return -1;
  }
  forward_job job = {v, k, M, K, N, lda, wpack, bias, out, per_task, scratch};
  rl_parallel_for(tasks, workers, forward_task, &job);
  rl_free_scratch(scratch, workers);
  free(wpack);
  return 0;
}

int rl_conv2d_forward(const rl_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y, int threads,
                      rl_level level) {
  const im2col_view v = {x, g->batch, g->in_h, g->in_w, g->in_c, g->out_h, g->out_w, g->fh, g->fw,
                         g->stride_h, g->stride_w, 1, 1, g->pad_top, g->pad_left};
  return implicit_gemm(&v, filter, g->out_c, bias, y, threads, level);
}

int rl_conv2d_backprop_input(const rl_conv_geometry *g, const float *dy, const float *filter, float *dx, int threads, rl_level level) {
  /* W'[ky', kx', co][ci] = W[fh−1−ky', fw−1−kx', ci, co] */
  const long fh = g->fh, fw = g->fw, cin = g->in_c, cout = g->out_c;
  float *rotated = rl_alloc_floats((size_t)(fh * fw * cout * cin));
  if (!rotated) return -1;
  for (long ky = 0; ky < fh; ky++)
    for (long kx = 0; kx < fw; kx++) {
      const float *w = filter + ((fh - 1 - ky) * fw + (fw - 1 - kx)) * cin * cout;
      float *d = rotated + (ky * fw + kx) * cout * cin;
      for (long ci = 0; ci < cin; ci++)
        for (long co = 0; co < cout; co++) d[co * cin + ci] = w[ci * cout + co];
    }
  const im2col_view v = {dy, g->batch, g->out_h, g->out_w, cout, g->in_h, g->in_w, fh, fw,
                         1, 1, g->stride_h, g->stride_w, fh - 1 - g->pad_top, fw - 1 - g->pad_left};
  const int status = implicit_gemm(&v, rotated, cin, NULL, dx, threads, level);
  free(rotated);
  return status;
}

/* ------------------------------------------------------------------------------------------ */
/* dWᵀ = dyᵀ · im2col(x)                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const im2col_view *v;
  rl_tile_kernel k;
  long M, K, N; /* pixels, taps, output channels */
  const float *dy;
  long blocks, tasks;
  double *acc;     /* per task: N×K (co, tap) float64 sums */
  float **scratch; /* per worker: one packed panel of im2col columns, a transposed dy tail, a tile */
} filter_job;

static void filter_task(void *ctx, size_t task, int worker) {
  const filter_job *job = ctx;
  const rl_tile_kernel k = job->k;
  const long K = job->K, N = job->N;
  const long jpanels = (K + k.nr - 1) / k.nr, ipanels = (N + k.mr - 1) / k.mr;
  float *vpanel = job->scratch[worker];
  float *tail = vpanel + RL_CONV_KC * k.nr;
  float *tile = tail + k.mr * RL_CONV_KC;
  double *acc = job->acc + (size_t)task * N * K;
  const long b0 = job->blocks * (long)task / job->tasks, b1 = job->blocks * ((long)task + 1) / job->tasks;
  const long tail_rows = N % k.mr; /* rows of the last dyᵀ panel that exist, 0 if it is full */
  for (long blk = b0; blk < b1; blk++) {
    const long m0 = blk * RL_CONV_KC, kc = min_l(RL_CONV_KC, job->M - m0);
    const float *dyb = job->dy + m0 * N;
    if (tail_rows) {
      /* The last panel's rows past N would read the next pixel's values: copy the rows that exist. */
      const long c0 = N - tail_rows;
      for (long r = 0; r < k.mr; r++)
        for (long p = 0; p < kc; p++) tail[r * RL_CONV_KC + p] = r < tail_rows ? dyb[p * N + c0 + r] : 0.0f;
    }
    for (long jp = 0; jp < jpanels; jp++) {
      /* One panel of NR im2col columns over this block's pixels, used by every dyᵀ panel while it is in cache. */
      const long j0 = jp * k.nr, jb = min_l(k.nr, K - j0);
      for (long p = 0; p < kc; p++) {
        im2col_window(job->v, m0 + p, j0, jb, vpanel + p * k.nr);
        if (jb < k.nr) memset(vpanel + p * k.nr + jb, 0, (size_t)(k.nr - jb) * sizeof(float));
      }
      for (long ip = 0; ip < ipanels; ip++) {
        const long i0 = ip * k.mr, ib = min_l(k.mr, N - i0);
        if (tail_rows && ip == ipanels - 1) {
          k.kernel(kc, tail, RL_CONV_KC, 1, vpanel, tile);
        } else {
          k.kernel(kc, dyb + i0, 1, N, vpanel, tile);
        }
        for (long r = 0; r < ib; r++) {
          double *a = acc + (i0 + r) * K + j0;
          const float *t = tile + r * k.nr;
          for (long c = 0; c < jb; c++) a[c] += (double)t[c];
        }
      }
    }
  }
}

int rl_conv2d_backprop_filter(const rl_conv_geometry *g, const float *x, const float *dy, float *dw, int threads, rl_level level) {
  const rl_tile_kernel k = rl_tile_kernel_for(level);
  const im2col_view v = {x, g->batch, g->in_h, g->in_w, g->in_c, g->out_h, g->out_w, g->fh, g->fw,
                         g->stride_h, g->stride_w, 1, 1, g->pad_top, g->pad_left};
  const long M = g->batch * g->out_h * g->out_w, K = g->fh * g->fw * g->in_c, N = g->out_c;
  const long blocks = (M + RL_CONV_KC - 1) / RL_CONV_KC;
  const long tasks = blocks < RL_CONV_REDUCTION_TASKS ? blocks : RL_CONV_REDUCTION_TASKS;
  double *acc = calloc((size_t)(tasks * N * K), sizeof(double));
  if (!acc) return -1;
  const int workers = rl_pool_workers((size_t)tasks, threads);
  float **scratch = rl_alloc_scratch(workers, (size_t)(RL_CONV_KC * k.nr + k.mr * RL_CONV_KC + k.mr * k.nr));
  if (!scratch) {
    free(acc);
    return -1;
  }
  filter_job job = {&v, k, M, K, N, dy, blocks, tasks, acc, scratch};
  rl_parallel_for((size_t)tasks, workers, filter_task, &job);
  /* dw[tap][co] = Σ_task acc[task][co][tap], in task order */
  for (long co = 0; co < N; co++)
    for (long t = 0; t < K; t++) {
      double s = 0.0;
      for (long task = 0; task < tasks; task++) s += acc[(task * N + co) * K + t];
      dw[t * N + co] = (float)s;
    }
  rl_free_scratch(scratch, workers);
  free(acc);
  return 0;
}
