/*
 * A persistent pool of worker threads for the training kernels: one kernel call is a few
 * milliseconds, so starting threads per call (about 50 µs each) would cost more than it gains.
 */
#ifndef RL_POOL_H
#define RL_POOL_H

#include <stddef.h>

/** Most threads one call may use (the caller counts as one). */
#define RL_POOL_MAX_THREADS 64

/**
 * One task of a parallel loop: `task` in [0, tasks), `worker` in [0, threads) names the thread
 * running it (for per-thread scratch memory). Tasks are handed out dynamically, so a task must not
 * assume which worker runs it; results must not depend on it either.
 */
typedef void (*rl_task_fn)(void *ctx, size_t task, int worker);

/**
 * Runs fn(ctx, t, w) for every t < tasks on at most `threads` threads (the calling thread
 * included) and returns when all are done. Threads are started on first use and then sleep
 * between calls. Concurrent callers (several Node worker threads) do not share the pool: a caller
 * that finds it busy runs its tasks on its own thread.
 */
void rl_parallel_for(size_t tasks, int threads, rl_task_fn fn, void *ctx);

/** Workers `rl_parallel_for` would use for this many tasks (for sizing per-worker scratch). */
int rl_pool_workers(size_t tasks, int threads);

/**
 * Threads worth using for `work` units (multiply-adds, or elements): at most `threads`, and one
 * more only per `per_thread` units. Waking a sleeping thread costs microseconds on a quiet machine
 * and can cost milliseconds on a loaded one (it waits for a core), so small calls stay on the
 * calling thread.
 */
int rl_threads_for(double work, double per_thread, int threads);

/** Multiply-adds per thread below which products and convolutions use fewer threads (~0.2 ms of work). */
#define RL_WORK_PER_THREAD 8e6
/** Elements per thread below which the elementwise and pooling kernels use fewer threads. */
#define RL_ELEMENTS_PER_THREAD 262144.0

#endif
