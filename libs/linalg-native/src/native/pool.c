/*
 * The pool: worker w (1 ≤ w < threads) sleeps on a condition variable until a job's generation
 * changes, takes task indices from a shared atomic counter until none are left, then reports done.
 * The caller is worker 0 and takes tasks too. No spinning: the machines this runs on are often
 * shared, and a spinning thread takes a core from someone else.
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t start;
  pthread_cond_t done;
  /* Guards the whole pool against a second caller (one job at a time). */
  pthread_mutex_t busy;
  int started;            /* worker threads alive (worker indices 1..started) */
  unsigned long generation;
  int wanted;             /* workers of the current job, caller included */
  int remaining;          /* workers of the current job that have not finished */
  rl_task_fn fn;
  void *ctx;
  size_t tasks;
  atomic_size_t next;
} pool_state;

static pool_state pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                          PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, NULL, NULL, 0, 0};

static void run_tasks(int worker) {
  for (;;) {
    const size_t t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
    if (t >= pool.tasks) return;
    pool.fn(pool.ctx, t, worker);
  }
}

static void *worker_main(void *arg) {
  const int worker = (int)(size_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.start, &pool.lock);
    seen = pool.generation;
    if (worker >= pool.wanted) continue;
    pthread_mutex_unlock(&pool.lock);
    run_tasks(worker);
    pthread_mutex_lock(&pool.lock);
    if (--pool.remaining == 0) pthread_cond_signal(&pool.done);
  }
  return NULL;
}

int rl_pool_workers(size_t tasks, int threads) {
  int n = threads < 1 ? 1 : threads > RL_POOL_MAX_THREADS ? RL_POOL_MAX_THREADS : threads;
  if ((size_t)n > tasks) n = tasks == 0 ? 1 : (int)tasks;
  return n;
}

int rl_threads_for(double work, double per_thread, int threads) {
  const double worth = work / per_thread;
  if (!(worth >= 2.0)) return 1;
  return worth < (double)threads ? (int)worth : threads;
}

void rl_parallel_for(size_t tasks, int threads, rl_task_fn fn, void *ctx) {
  int n = rl_pool_workers(tasks, threads);
  if (n <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
    for (size_t t = 0; t < tasks; t++) fn(ctx, t, 0);
    return;
  }
  pthread_mutex_lock(&pool.lock);
  while (pool.started < n - 1) {
    pthread_t id;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&id, &attr, worker_main, (void *)(size_t)(pool.started + 1)) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    pool.started++;
  }
  if (n > pool.started + 1) n = pool.started + 1;
  pool.fn = fn;
  pool.ctx = ctx;
  pool.tasks = tasks;
  atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
  pool.wanted = n;
  pool.remaining = n - 1;
  pool.generation++;
  pthread_cond_broadcast(&pool.start);
  pthread_mutex_unlock(&pool.lock);
  run_tasks(0);
  pthread_mutex_lock(&pool.lock);
  while (pool.remaining > 0) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  pthread_mutex_unlock(&pool.busy);
}
