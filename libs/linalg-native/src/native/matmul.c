/*
 * Batched products on the strided micro-kernels (tile.h): op(A) is read in place (rows of A, or
 * columns of A when transposed), op(B) is packed once per call into panels of NR columns (row
 * copies, or a blocked transpose when B is stored transposed). Tasks are (batch, row panels)
 * ranges; each output element is one task's, so the result does not depend on the thread count.
 */
#include "matmul.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "tile.h"

static long min_l(long a, long b) { return a < b ? a : b; }

/** out[jp][p][NR] = op(B)[p][jp·NR + j] (zero beyond column n) for op(B) k×n. */
static void pack_b(const float *b, int trans, long k, long n, int nr, float *restrict out) {
  const long panels = (n + nr - 1) / nr;
  for (long jp = 0; jp < panels; jp++) {
    const long j0 = jp * nr, jb = min_l(nr, n - j0);
    float *d = out + jp * k * nr;
    if (!trans) {
      for (long p = 0; p < k; p++) {
        memcpy(d + p * nr, b + p * n + j0, (size_t)jb * sizeof(float));
        if (jb < nr) memset(d + p * nr + jb, 0, (size_t)(nr - jb) * sizeof(float));
      }
      continue;
    }
    /* B stored n×k: read rows of B (contiguous along p) by blocks of 64 reduction steps. */
    for (long p0 = 0; p0 < k; p0 += 64) {
      const long pb = min_l(64, k - p0);
      for (long j = 0; j < nr; j++) {
        if (j < jb) {
          const float *s = b + (j0 + j) * k + p0;
          for (long p = 0; p < pb; p++) d[(p0 + p) * nr + j] = s[p];
        } else {
          for (long p = 0; p < pb; p++) d[(p0 + p) * nr + j] = 0.0f;
        }
      }
    }
  }
}

typedef struct {
  rl_tile_kernel k;
  long batch_a, m, n, kdim;
  const float *a;
  int trans_a;
  const float *bpack; /* per distinct B: npanels × kdim × NR */
  long batch_b;
  const float *bias;
  float *c;
  long mpanels, panels_per_task, tasks_per_batch;
  float **scratch; /* per worker: MR rows of kdim rounded up to 16 (a packed tail panel), then a tile */
} matmul_job;

static void matmul_task(void *ctx, size_t task, int worker) {
  const matmul_job *job = ctx;
  const rl_tile_kernel k = job->k;
  const long bi = (long)task / job->tasks_per_batch, part = (long)task % job->tasks_per_batch;
  const long m = job->m, n = job->n, kd = job->kdim;
  const float *a = job->a + (bi % job->batch_a) * m * kd;
  const float *bp = job->bpack + (bi % job->batch_b) * ((n + k.nr - 1) / k.nr) * kd * k.nr;
  float *c = job->c + bi * m * n;
  float *tailp = job->scratch[worker];
  const long kpad = (kd + 15) / 16 * 16; /* keeps the tile 64-byte aligned */
  float *tile = tailp + (size_t)k.mr * kpad;
  const long rs = job->trans_a ? 1 : kd, ps = job->trans_a ? m : 1;
  const long npanels = (n + k.nr - 1) / k.nr;
  const long first = part * job->panels_per_task, last = min_l(job->mpanels, first + job->panels_per_task);
  for (long ip = first; ip < last; ip++) {
    const long i0 = ip * k.mr, ib = min_l(k.mr, m - i0);
    const float *left = a + i0 * rs;
    long lrs = rs, lps = ps;
    if (ib < k.mr) {
      /* Rows past m would read outside A: copy the rows that exist, zeros after. */
      for (long r = 0; r < k.mr; r++)
        for (long p = 0; p < kd; p++) tailp[r * kpad + p] = r < ib ? a[(i0 + r) * rs + p * ps] : 0.0f;
      left = tailp;
      lrs = kpad;
      lps = 1;
    }
    for (long jp = 0; jp < npanels; jp++) {
      const long j0 = jp * k.nr, jb = min_l(k.nr, n - j0);
      k.kernel(kd, left, lrs, lps, bp + jp * kd * k.nr, k.nr, tile);
      for (long r = 0; r < ib; r++) {
        float *y = c + (i0 + r) * n + j0;
        const float *t = tile + r * k.nr;
        if (job->bias) {
          for (long q = 0; q < jb; q++) y[q] = t[q] + job->bias[j0 + q];
        } else {
          memcpy(y, t, (size_t)jb * sizeof(float));
        }
      }
    }
  }
}

int rl_matmul(long batch, long batch_a, long batch_b, long m, long n, long k, const float *a, int trans_a, const float *b, int trans_b,
              const float *bias, float *c, int threads, rl_level level) {
  if (batch <= 0 || m <= 0 || n <= 0) return 0;
  if (k <= 0) {
    for (long e = 0; e < batch * m * n; e++) c[e] = bias ? bias[e % n] : 0.0f;
    return 0;
  }
  const rl_tile_kernel kern = rl_tile_kernel_for(level);
  threads = rl_threads_for((double)batch * (double)m * (double)n * (double)k, RL_WORK_PER_THREAD, threads);
  const long npanels = (n + kern.nr - 1) / kern.nr;
  const size_t per_b = (size_t)(npanels * k * kern.nr);
  float *bpack = rl_alloc_floats(per_b * (size_t)batch_b);
  if (!bpack) return -1;
  for (long bi = 0; bi < batch_b; bi++) pack_b(b + bi * k * n, trans_b, k, n, kern.nr, bpack + per_b * (size_t)bi);
  const long mpanels = (m + kern.mr - 1) / kern.mr;
  /* Enough tasks to keep every thread busy, each a few panels (one panel: MR·n·k multiply-adds). */
  const long want = 8L * (threads < 1 ? 1 : threads);
  long per_task = batch >= want ? mpanels : (mpanels * batch + want - 1) / want;
  if (per_task < 1) per_task = 1;
  if (per_task > mpanels) per_task = mpanels;
  const long tasks_per_batch = (mpanels + per_task - 1) / per_task;
  const size_t tasks = (size_t)(batch * tasks_per_batch);
  const int workers = rl_pool_workers(tasks, threads);
  float **scratch = rl_alloc_scratch(workers, (size_t)(kern.mr * ((k + 15) / 16 * 16) + kern.mr * kern.nr));
  const int failed = scratch == NULL;
  if (!failed) {
    matmul_job job = {kern, batch_a, m, n, k, a, trans_a, bpack, batch_b, bias, c, mpanels, per_task, tasks_per_batch, scratch};
    rl_parallel_for(tasks, workers, matmul_task, &job);
  }
  rl_free_scratch(scratch, workers);
  free(bpack);
  return failed ? -1 : 0;
}
