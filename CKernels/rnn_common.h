/*
 * rnn_common.h — what the recurrent kernels (lstm.c, gru.c, simple_rnn.c) share (private).
 *
 * Every recurrent kernel works time-major inside: the caller's x [B, T, in] is gathered once into
 * xt [T, B, in] in *processing* order (reversed for go_backwards), so that
 *   - the input projection of all steps is ONE GEMM [T·B, in]·[in, G·u],
 *   - step s reads and writes contiguous [B, ·] blocks (its recurrent GEMM has lda = ldc = row),
 *   - the weight gradients are ONE GEMM each over all steps (xtᵀ·dZ, h_prevᵀ·dZ),
 * which is oneDNN's RNN design. The states are kept as h [T+1, B, u] with h[0] the initial state.
 */
#ifndef CKERNELS_RNN_COMMON_H
#define CKERNELS_RNN_COMMON_H

#include "internal.h"

/* row[j] = act(row[j]) for j < n, in place, with the ISA's vector sigmoid/tanh (vmath.h). */
typedef void (*rnn_act_row_fn)(ck_activation act, int n, float *row);

/* The row activation of an ISA path (generic: libm tanhf and the scalar sigmoid). */
rnn_act_row_fn rnn_act_row_for(ck_isa isa);

/* xt[s, b, :] = x[b, t(s), :] with t(s) = go_backwards ? T−1−s : s. */
void rnn_gather_steps(int batch, int steps, int features, int go_backwards, const float *x,
                      float *xt);

/* The inverse: dx[b, t(s), :] = dxt[s, b, :]. */
void rnn_scatter_steps(int batch, int steps, int features, int go_backwards, const float *dxt,
                       float *dx);

/* Runs body(ctx, thread, nthreads) with the batch split over threads, each thread taking the
 * recurrence of its rows through every step. Fewer than RNN_MIN_ROWS_PER_THREAD rows a thread
 * run as one call outside any parallel region, so the per-step GEMMs thread themselves. */
#define RNN_MIN_ROWS_PER_THREAD 4
void rnn_run_batch_threads(int64_t batch, ck_parallel_body body, void *ctx);

#endif /* CKERNELS_RNN_COMMON_H */
