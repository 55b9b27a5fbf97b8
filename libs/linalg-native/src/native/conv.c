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

/* Short runs (a filter row of a few channels) are copied inline: a libc call costs more than the copy. */
static inline void copy_floats(float *restrict d, const float *restrict s, long n) {
  if (n > 32) {
    memcpy(d, s, (size_t)n * sizeof(float));
    return;
  }
  for (long i = 0; i < n; i++) d[i] = s[i];
}

static inline void zero_floats(float *restrict d, long n) {
  if (n > 32) {
    memset(d, 0, (size_t)n * sizeof(float));
    return;
  }
  for (long i = 0; i < n; i++) d[i] = 0.0f;
}

/** The source's spaced coordinate → its pixel index, or -1 when it falls outside or between spaced pixels. */
static inline long unspace(long spaced, long space, long size) {
  if (spaced < 0) return -1;
  if (space == 1) return spaced < size ? spaced : -1;
  const long i = spaced / space;
  return i * space == spaced && i < size ? i : -1;
}

/** dst[0 .. K) = the im2col row of output pixel m (K = fh·fw·c taps). */
static void im2col_row(const im2col_view *v, long m, float *restrict dst) {
  const long c = v->src_c, run = v->fw * c;
  const long plane = v->out_h * v->out_w;
  const long n = m / plane, rest = m - n * plane;
  const long oy = rest / v->out_w, ox = rest - oy * v->out_w;
  const float *image = v->src + n * v->src_h * v->src_w * c;
  const long x0 = ox * v->stride_w - v->pad_left; /* spaced x of kx = 0 */
  /* With unit spacing, filter row taps u = kx·c + ci read row[x0·c + u] for u in [lo, hi): the same for every ky. */
  const long lo = max_l(0, -x0 * c), hi = min_l(run, (v->src_w - x0) * c);
  for (long ky = 0; ky < v->fh; ky++, dst += run) {
    const long iy = unspace(oy * v->stride_h + ky - v->pad_top, v->space_h, v->src_h);
    if (iy < 0) {
      zero_floats(dst, run);
      continue;
    }
    const float *row = image + iy * v->src_w * c;
    if (v->space_w == 1) {
      if (hi <= lo) {
        zero_floats(dst, run);
        continue;
      }
      if (lo > 0) zero_floats(dst, lo);
      copy_floats(dst + lo, row + x0 * c + lo, hi - lo);
      if (run > hi) zero_floats(dst + hi, run - hi);
      continue;
    }
    for (long kx = 0; kx < v->fw; kx++) {
      const long ix = unspace(x0 + kx, v->space_w, v->src_w);
      if (ix < 0) {
        zero_floats(dst + kx * c, c);
      } else {
        copy_floats(dst + kx * c, row + ix * c, c);
      }
    }
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
    for (long r = 0; r < ib; r++) im2col_row(job->v, i0 + r, panel + r * job->lda);
    for (long r = ib; r < k.mr; r++) memset(panel + r * job->lda, 0, (size_t)job->K * sizeof(float));
    for (long jp = 0; jp < npanels; jp++) {
      const long j0 = jp * k.nr, jb = min_l(k.nr, job->N - j0);
      k.kernel(job->K, panel, job->lda, 1, job->wpack + jp * job->K * k.nr, k.nr, tile);
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
  threads = rl_threads_for((double)M * (double)K * (double)N, RL_WORK_PER_THREAD, threads);
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
/* dW = im2col(x)ᵀ · dy                                                                          */
/* ------------------------------------------------------------------------------------------ */

/*
 * By blocks of RL_CONV_KC pixels: the block's im2col rows are written once into a row-major buffer
 * (kc × kpad, zero past K), then both operands are read in place. The tile's rows are taps and its
 * columns output channels (S = the buffer's columns, V = dy's rows), or the other way round,
 * whichever wastes fewer tile lanes on this shape (K = 75, N = 32: taps as rows; K = 800, N = 64:
 * also; K = 32, N = 12: channels as rows).
 */
typedef struct {
  const im2col_view *v;
  rl_tile_kernel k;
  long M, K, N; /* pixels, taps, output channels */
  const float *dy;
  long blocks, tasks;
  int taps_rows; /* tile rows are taps (else output channels) */
  long kpad;     /* row length of the im2col buffer */
  long npad;     /* row length of a padded copy of dy (taps_rows and N % NR ≠ 0), else 0 */
  long tail;     /* rows of dy's last channel panel (channels as rows and N % MR ≠ 0), else 0 */
  double *acc;   /* per task: K×N (taps as rows) or N×K float64 sums */
  float **scratch;
} filter_job;

/* Per worker: the im2col buffer, then a padded dy block or a transposed tail of dy, then a tile. */
static size_t filter_scratch_floats(const filter_job *job) {
  return (size_t)(RL_CONV_KC * job->kpad + RL_CONV_KC * job->npad + job->k.mr * RL_CONV_KC + job->k.mr * job->k.nr);
}

static void filter_accumulate(double *acc, long ld, long i0, long ib, long j0, long jb, const float *tile, int nr) {
  for (long r = 0; r < ib; r++) {
    double *a = acc + (i0 + r) * ld + j0;
    const float *t = tile + r * nr;
    for (long c = 0; c < jb; c++) a[c] += (double)t[c];
  }
}

static void filter_block(const filter_job *job, long m0, long kc, float *buf, float *extra, float *tile, double *acc) {
  const rl_tile_kernel k = job->k;
  const long K = job->K, N = job->N;
  for (long p = 0; p < kc; p++) im2col_row(job->v, m0 + p, buf + p * job->kpad);
  const float *dyb = job->dy + m0 * N;
  if (job->taps_rows) {
    long ldb = N;
    if (job->npad) {
      for (long p = 0; p < kc; p++) memcpy(extra + p * job->npad, dyb + p * N, (size_t)N * sizeof(float));
      dyb = extra;
      ldb = job->npad;
    }
    for (long j0 = 0; j0 < N; j0 += k.nr)
      for (long i0 = 0; i0 < K; i0 += k.mr) {
        k.kernel(kc, buf + i0, 1, job->kpad, dyb + j0, ldb, tile);
        filter_accumulate(acc, N, i0, min_l(k.mr, K - i0), j0, min_l(k.nr, N - j0), tile, k.nr);
      }
    return;
  }
  if (job->tail) {
    /* The last channel panel's rows past N would read the next pixel's values: copy the rows that exist. */
    const long c0 = N - job->tail;
    for (long r = 0; r < k.mr; r++)
      for (long p = 0; p < kc; p++) extra[r * RL_CONV_KC + p] = r < job->tail ? dyb[p * N + c0 + r] : 0.0f;
  }
  for (long j0 = 0; j0 < K; j0 += k.nr)
    for (long i0 = 0; i0 < N; i0 += k.mr) {
      if (job->tail && i0 + k.mr > N) {
        k.kernel(kc, extra, RL_CONV_KC, 1, buf + j0, job->kpad, tile);
      } else {
        k.kernel(kc, dyb + i0, 1, N, buf + j0, job->kpad, tile);
      }
      filter_accumulate(acc, K, i0, min_l(k.mr, N - i0), j0, min_l(k.nr, K - j0), tile, k.nr);
    }
}

static void filter_task(void *ctx, size_t task, int worker) {
  const filter_job *job = ctx;
  float *buf = job->scratch[worker];
  float *extra = buf + RL_CONV_KC * job->kpad;
  float *tile = extra + RL_CONV_KC * job->npad + job->k.mr * RL_CONV_KC;
  double *acc = job->acc + (size_t)task * job->N * job->K;
  const long b0 = job->blocks * (long)task / job->tasks, b1 = job->blocks * ((long)task + 1) / job->tasks;
  for (long blk = b0; blk < b1; blk++) {
    const long m0 = blk * RL_CONV_KC;
    filter_block(job, m0, min_l(RL_CONV_KC, job->M - m0), buf, extra, tile, acc);
  }
}

static long round_up(long v, long to) { return (v + to - 1) / to * to; }

int rl_conv2d_backprop_filter(const rl_conv_geometry *g, const float *x, const float *dy, float *dw, int threads, rl_level level) {
  const rl_tile_kernel k = rl_tile_kernel_for(level);
  const im2col_view v = {x, g->batch, g->in_h, g->in_w, g->in_c, g->out_h, g->out_w, g->fh, g->fw,
                         g->stride_h, g->stride_w, 1, 1, g->pad_top, g->pad_left};
  const long M = g->batch * g->out_h * g->out_w, K = g->fh * g->fw * g->in_c, N = g->out_c;
  const long blocks = (M + RL_CONV_KC - 1) / RL_CONV_KC;
  const long tasks = blocks < RL_CONV_REDUCTION_TASKS ? blocks : RL_CONV_REDUCTION_TASKS;
  threads = rl_threads_for((double)M * (double)K * (double)N, RL_WORK_PER_THREAD, threads);
  /* Tile lanes computed per orientation (the rest are padding): take the smaller. */
  const int taps_rows = round_up(K, k.mr) * round_up(N, k.nr) <= round_up(N, k.mr) * round_up(K, k.nr);
  filter_job job = {&v, k, M, K, N, dy, blocks, tasks, taps_rows,
                    taps_rows ? round_up(round_up(K, k.mr), 16) : round_up(K, k.nr),
                    taps_rows && N % k.nr ? round_up(N, k.nr) : 0,
                    !taps_rows ? N % k.mr : 0, NULL, NULL};
  job.acc = calloc((size_t)(tasks * N * K), sizeof(double));
  const int workers = rl_pool_workers((size_t)tasks, threads);
  job.scratch = job.acc ? rl_alloc_scratch(workers, filter_scratch_floats(&job)) : NULL;
  if (!job.scratch) {
    free(job.acc);
    return -1;
  }
  /* Zero once: the im2col rows fill [0, K) only, the padded dy copy [0, N) only. */
  for (int w = 0; w < workers; w++) memset(job.scratch[w], 0, filter_scratch_floats(&job) * sizeof(float));
  rl_parallel_for((size_t)tasks, workers, filter_task, &job);
  /* dw[tap][co] = Σ_task acc[task][tap][co] (or [co][tap]), in task order */
  for (long t = 0; t < K; t++)
    for (long co = 0; co < N; co++) {
      const long at = taps_rows ? t * N + co : co * K + t;
      double sum = 0.0;
      for (long task = 0; task < tasks; task++) sum += job.acc[task * N * K + at];
      dw[t * N + co] = (float)sum;
    }
  rl_free_scratch(job.scratch, workers);
  free(job.acc);
  return 0;
}
