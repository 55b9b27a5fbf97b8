/* Batched float32 products for training: the dense layers and their gradients. */
#ifndef RL_MATMUL_H
#define RL_MATMUL_H

#include "gemm.h"

/**
 * For b < batch: C[b] (m×n, row-major) = op(A[b]) · op(B[b]) + bias, where op(A) is m×k (A stored
 * k×m when trans_a), op(B) is k×n (B stored n×k when trans_b), A[b] = a + (b % batch_a)·m·k and
 * B[b] = b + (b % batch_b)·k·n (batch_a, batch_b ∈ {1, batch}: a batch of one broadcasts), and
 * bias [n] (or NULL) is added to every row. Float32 sums in reduction order (fused multiply-add).
 * Returns 0, or -1 if memory ran out.
 */
int rl_matmul(long batch, long batch_a, long batch_b, long m, long n, long k, const float *a, int trans_a, const float *b, int trans_b,
              const float *bias, float *c, int threads, rl_level level);

#endif
