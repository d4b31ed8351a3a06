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

/* row[j] = act(row[j]) for j < n, in place, with the ISA's gate sigmoid/tanh (gate_math.h). */
typedef void (*rnn_act_row_fn)(ck_activation act, int n, float *row);

/* The row activation of an ISA path (the generic path evaluates the same ratio in scalars). */
rnn_act_row_fn rnn_act_row_for(ck_isa isa);

/* xt[s, b, :] = x[b, t(s), :] with t(s) = go_backwards ? T−1−s : s; xt's rows are ld ≥ features
 * floats apart (the LSTM keeps each step's input beside its state, [x_s | h_s]). */
void rnn_gather_steps(int batch, int steps, int features, int go_backwards, const float *x,
                      float *xt, int64_t ld);

/* The inverse: dx[b, t(s), :] = dxt[s, b, :]. */
void rnn_scatter_steps(int batch, int steps, int features, int go_backwards, const float *dxt,
                       float *dx);

/* Runs body(ctx, thread, nthreads) with the batch split over threads, each thread taking the
 * recurrence of its rows through every step. Fewer than RNN_MIN_ROWS_PER_THREAD rows a thread
 * run as one call outside any parallel region, so the per-step GEMMs thread themselves. */
#define RNN_MIN_ROWS_PER_THREAD 4
void rnn_run_batch_threads(int64_t batch, ck_parallel_body body, void *ctx);

/* The leading dimension a per-step GEMM should read a weight matrix of `cols` columns with.
 * The GEMM reads an untransposed B in place, a tile's columns from kc rows ldb apart; when a row
 * is a multiple of 1 KiB (4u = 512 for units = 128) those rows fall into a few cache sets, evict
 * each other, and every step re-reads U from L3. Sixteen floats of padding spread them: the
 * 128×512×128 step GEMM measured 147 → 164 GFLOP/s on one core with U hot, 124 → 137 after the
 * gate pass's traffic. */
static inline int64_t rnn_step_ld(int64_t cols) { return cols % 256 == 0 ? cols + 16 : cols; }

/* A per-thread buffer of at least `floats` floats for a sequence's re-laid-out weights (grows,
 * never shrinks, freed when the thread exits); NULL if the allocation fails. */
float *rnn_weight_buffer(int64_t floats);

/* dst[r·ld + c] = src[r·cols + c]: a weight matrix copied to leading dimension ld ≥ cols. */
void rnn_copy_weights(int64_t rows, int64_t cols, const float *src, int64_t ld, float *dst);

/* dst[c·ld + r] = src[r·cols + c]: the transpose [cols, rows] at leading dimension ld ≥ rows. */
void rnn_transpose_weights(int64_t rows, int64_t cols, const float *src, int64_t ld, float *dst);

#endif /* CKERNELS_RNN_COMMON_H */
