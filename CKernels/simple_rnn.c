/*
 * simple_rnn.c — Keras's SimpleRNN over a whole sequence, forward and backward through time.
 *
 *   h = act(x_t·W + b + h·U)         W: [in, u], U: [u, u], b: [u]; act tanh (Keras's default),
 *                                     sigmoid, relu or identity.
 * Same design as lstm.c: the input projections of all steps are ONE GEMM written straight into
 * the state buffer h[1..T] (so step s's pre-activation is already where its output goes), then
 * per step ONE recurrent GEMM accumulated into that slice (beta = 1) and ONE activation pass.
 * Backward: per step dZ_s = (dh + dy_s)·act'(h_s) and ONE GEMM dh = dZ_s·Uᵀ; then dx = dZ·Wᵀ,
 * dW = xtᵀ·dZ, dU = h_prevᵀ·dZ, db = column sums of dZ, each one GEMM (or reduction) over all steps.
 *
 * Threads split the batch and each runs the whole recurrence on its rows (as lstm.c).
 *
 * Saved (ck_simple_rnn_saved_size): xt [T, B, in] | h [T+1, B, u].
 * Backward scratch (ck_simple_rnn_backward_scratch_size): dz [T, B, u] | dxt [T, B, in] | dh [B, u].
 */
#include "rnn_common.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

int64_t ck_simple_rnn_saved_size(int batch, int steps, int input_size, int units) {
    return (int64_t)steps * batch * input_size + (int64_t)(steps + 1) * batch * units;
}

int64_t ck_simple_rnn_backward_scratch_size(int batch, int steps, int input_size, int units) {
    return (int64_t)steps * batch * units + (int64_t)steps * batch * input_size + (int64_t)batch * units;
}

typedef struct {
    int64_t b, t, u, s;
    ck_activation act;
    rnn_act_row_fn act_row;
    float *h;          /* [B, u] of step s */
    const float *dy;   /* backward: [B, T, u] or NULL */
    float *y, *dh, *dz; /* forward: y [B, T, u] or NULL; backward: dh [B, u], dz [B, u] */
} simple_rnn_job;

static void simple_rnn_forward_rows(void *ctx, int64_t b0, int64_t b1) {
    const simple_rnn_job *j = ctx;
    for (int64_t b = b0; b < b1; b++) {
        float *h = j->h + b * j->u;
        j->act_row(j->act, (int)j->u, h);
        if (j->y) memcpy(j->y + (b * j->t + j->s) * j->u, h, (size_t)j->u * sizeof(float));
    }
}

/* dz = dh_total · act'(h), the derivative written from the output as TF does. act and has_dy
 * are constants at every call below and the pointers restrict parameters, so each variant is a
 * branch-free loop vectorised for its ISA. */
#define INLINE static inline __attribute__((always_inline))
INLINE void simple_rnn_backward_row(int64_t u, const float *restrict h, const float *restrict dy,
                                    const float *restrict dh, float *restrict dz, ck_activation act,
                                    int has_dy) {
    for (int64_t k = 0; k < u; k++) {
        float d = has_dy ? dh[k] + dy[k] : dh[k];
        if (act == CK_ACT_TANH) d = d * (1.0f - h[k] * h[k]);
        else if (act == CK_ACT_SIGMOID) d = d * h[k] * (1.0f - h[k]);
        else if (act == CK_ACT_RELU) d = h[k] > 0.0f ? d : 0.0f;
        dz[k] = d;
    }
}

INLINE void simple_rnn_backward_loop(const simple_rnn_job *j, int64_t b0, int64_t b1, ck_activation act,
                                     int has_dy) {
    const int64_t u = j->u;
    for (int64_t b = b0; b < b1; b++)
        simple_rnn_backward_row(u, j->h + b * u, has_dy ? j->dy + (b * j->t + j->s) * u : NULL,
                                j->dh + b * u, j->dz + b * u, act, has_dy);
}

#define SIMPLE_RNN_BACKWARD_CASES(j, b0, b1)                                                     \
    switch ((j)->act) {                                                                          \
    case CK_ACT_TANH:                                                                            \
        if ((j)->dy) simple_rnn_backward_loop(j, b0, b1, CK_ACT_TANH, 1);                        \
        else simple_rnn_backward_loop(j, b0, b1, CK_ACT_TANH, 0);                                \
        break;                                                                                   \
    case CK_ACT_SIGMOID:                                                                         \
        if ((j)->dy) simple_rnn_backward_loop(j, b0, b1, CK_ACT_SIGMOID, 1);                     \
        else simple_rnn_backward_loop(j, b0, b1, CK_ACT_SIGMOID, 0);                             \
        break;                                                                                   \
    case CK_ACT_RELU:                                                                            \
        if ((j)->dy) simple_rnn_backward_loop(j, b0, b1, CK_ACT_RELU, 1);                        \
        else simple_rnn_backward_loop(j, b0, b1, CK_ACT_RELU, 0);                                \
        break;                                                                                   \
    default:                                                                                     \
        if ((j)->dy) simple_rnn_backward_loop(j, b0, b1, CK_ACT_IDENTITY, 1);                    \
        else simple_rnn_backward_loop(j, b0, b1, CK_ACT_IDENTITY, 0);                            \
        break;                                                                                   \
    }

static void simple_rnn_backward_generic(const simple_rnn_job *j, int64_t b0, int64_t b1) {
    SIMPLE_RNN_BACKWARD_CASES(j, b0, b1)
}
CK_TARGET_AVX2 static void simple_rnn_backward_avx2(const simple_rnn_job *j, int64_t b0, int64_t b1) {
    SIMPLE_RNN_BACKWARD_CASES(j, b0, b1)
}
CK_TARGET_AVX512 static void simple_rnn_backward_avx512(const simple_rnn_job *j, int64_t b0, int64_t b1) {
    SIMPLE_RNN_BACKWARD_CASES(j, b0, b1)
}

static void simple_rnn_backward_rows(const simple_rnn_job *j, int64_t b0, int64_t b1) {
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: simple_rnn_backward_avx512(j, b0, b1); break;
    case CK_ISA_AVX2: simple_rnn_backward_avx2(j, b0, b1); break;
    default: simple_rnn_backward_generic(j, b0, b1); break;
    }
}

/* One thread's batch rows through every step (batch rows never interact: no barrier per step). */
typedef struct {
    simple_rnn_job step;
    float *h;
    const float *recurrent_kernel;
    float *dz;
    int want_dh0;
} simple_rnn_sequence_job;

static void simple_rnn_forward_thread(void *ctx, int thread, int nthreads) {
    const simple_rnn_sequence_job *q = ctx;
    simple_rnn_job j = q->step;
    const int64_t u = j.u, bu = j.b * u;
    int64_t b0, b1;
    ck_split_range(j.b, nthreads, thread, 1, &b0, &b1);
    for (int64_t s = 0; s < j.t && b0 < b1; s++) {
        j.s = s;
        j.h = q->h + (s + 1) * bu;
        ck_sgemm(0, 0, (int)(b1 - b0), (int)u, (int)u, 1.0f, q->h + s * bu + b0 * u, (int)u,
                 q->recurrent_kernel, (int)u, 1.0f, j.h + b0 * u, (int)u);
        simple_rnn_forward_rows(&j, b0, b1);
    }
}

void ck_simple_rnn_forward(int batch, int steps, int input_size, int units, ck_activation act,
                           int go_backwards, const float *x, const float *kernel,
                           const float *recurrent_kernel, const float *bias, const float *h0,
                           float *saved, float *y_seq, float *h_last) {
    const int64_t bu = (int64_t)batch * units;
    float *xt = saved, *h = xt + (int64_t)steps * batch * input_size;
    rnn_gather_steps(batch, steps, input_size, go_backwards, x, xt, input_size);
    if (h0) memcpy(h, h0, (size_t)bu * sizeof(float)); else memset(h, 0, (size_t)bu * sizeof(float));
    /* the input projections of all steps, straight into h[1..T] */
    ck_sgemm_bias_act(0, 0, steps * batch, units, input_size, 1.0f, xt, CK_MAX(input_size, 1),
                      kernel, units, 0.0f, h + bu, units, bias, CK_ACT_IDENTITY);
    simple_rnn_sequence_job q = {
        .step = {.b = batch, .t = steps, .u = units, .act = act,
                 .act_row = rnn_act_row_for(ck_isa_active()), .y = y_seq},
        .h = h, .recurrent_kernel = recurrent_kernel};
    rnn_run_batch_threads(batch, simple_rnn_forward_thread, &q);
    if (h_last) memcpy(h_last, h + (int64_t)steps * bu, (size_t)bu * sizeof(float));
}

static void simple_rnn_backward_thread(void *ctx, int thread, int nthreads) {
    const simple_rnn_sequence_job *q = ctx;
    simple_rnn_job j = q->step;
    const int64_t u = j.u, bu = j.b * u;
    int64_t b0, b1;
    ck_split_range(j.b, nthreads, thread, 1, &b0, &b1);
    for (int64_t s = j.t - 1; s >= 0 && b0 < b1; s--) {
        j.s = s;
        j.h = q->h + (s + 1) * bu;
        j.dz = q->dz + s * bu;
        simple_rnn_backward_rows(&j, b0, b1);
        if (s > 0 || q->want_dh0)
            ck_sgemm(0, 1, (int)(b1 - b0), (int)u, (int)u, 1.0f, j.dz + b0 * u, (int)u,
                     q->recurrent_kernel, (int)u, 0.0f, j.dh + b0 * u, (int)u);
    }
}

void ck_simple_rnn_backward(int batch, int steps, int input_size, int units, ck_activation act,
                            int go_backwards, const float *kernel, const float *recurrent_kernel,
                            const float *saved, const float *dy_seq, const float *dh_last,
                            float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                            float *dbias, float *dh0) {
    const int64_t bu = (int64_t)batch * units, tb = (int64_t)steps * batch;
    const float *xt = saved, *h = xt + tb * input_size;
    float *dz = scratch, *dxt = dz + tb * units, *dh = dxt + tb * input_size;
    if (dh_last) memcpy(dh, dh_last, (size_t)bu * sizeof(float)); else memset(dh, 0, (size_t)bu * sizeof(float));
    simple_rnn_sequence_job q = {
        .step = {.b = batch, .t = steps, .u = units, .act = act, .dy = dy_seq, .dh = dh},
        .h = (float *)h, .recurrent_kernel = recurrent_kernel, .dz = dz, .want_dh0 = dh0 != NULL};
    rnn_run_batch_threads(batch, simple_rnn_backward_thread, &q);
    if (dh0) memcpy(dh0, dh, (size_t)bu * sizeof(float));
    if (dx) { /* NULL: the input is the data, which needs no gradient */
        ck_sgemm(0, 1, (int)tb, input_size, units, 1.0f, dz, units, kernel, units, 0.0f, dxt,
                 CK_MAX(input_size, 1));
        rnn_scatter_steps(batch, steps, input_size, go_backwards, dxt, dx);
    }
    ck_sgemm(1, 0, input_size, units, (int)tb, 1.0f, xt, CK_MAX(input_size, 1), dz, units, 0.0f,
             dkernel, units);
    ck_sgemm(1, 0, units, units, (int)tb, 1.0f, h, units, dz, units, 0.0f, drecurrent_kernel, units);
    if (dbias) ck_reduce(CK_REDUCE_SUM, 1, tb, units, dz, dbias);
}

/* ---- the reference: the step equation as plain loops ---- */

static float act_ref(ck_activation act, float x) {
    switch (act) {
    case CK_ACT_TANH: return tanhf(x);
    case CK_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    default: return x;
    }
}

void ck_simple_rnn_forward_reference(int batch, int steps, int input_size, int units,
                                     ck_activation act, int go_backwards, const float *x,
                                     const float *kernel, const float *recurrent_kernel,
                                     const float *bias, const float *h0, float *saved,
                                     float *y_seq, float *h_last) {
    const int64_t B = batch, T = steps, I = input_size, U = units;
    float *xt = saved, *h = xt + T * B * I;
    for (int64_t n = 0; n < B * U; n++) h[n] = h0 ? h0[n] : 0.0f;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *xr = x + (b * T + t) * I, *hp = h + (s * B + b) * U;
            for (int64_t f = 0; f < I; f++) xt[(s * B + b) * I + f] = xr[f];
            for (int64_t k = 0; k < U; k++) {
                double acc = bias ? bias[k] : 0.0;
                for (int64_t f = 0; f < I; f++) acc += (double)xr[f] * kernel[f * U + k];
                for (int64_t m = 0; m < U; m++) acc += (double)hp[m] * recurrent_kernel[m * U + k];
                float v = act_ref(act, (float)acc);
                h[((s + 1) * B + b) * U + k] = v;
                if (y_seq) y_seq[(b * T + s) * U + k] = v;
            }
        }
    }
    if (h_last) for (int64_t n = 0; n < B * U; n++) h_last[n] = h[T * B * U + n];
}

void ck_simple_rnn_backward_reference(int batch, int steps, int input_size, int units,
                                      ck_activation act, int go_backwards, const float *kernel,
                                      const float *recurrent_kernel, const float *saved,
                                      const float *dy_seq, const float *dh_last, float *scratch,
                                      float *dx, float *dkernel, float *drecurrent_kernel,
                                      float *dbias, float *dh0) {
    const int64_t B = batch, T = steps, I = input_size, U = units;
    const float *xt = saved, *h = xt + T * B * I;
    float *dh = scratch, *dz = dh + B * U;
    for (int64_t n = 0; n < I * U; n++) dkernel[n] = 0.0f;
    for (int64_t n = 0; n < U * U; n++) drecurrent_kernel[n] = 0.0f;
    if (dbias) for (int64_t n = 0; n < U; n++) dbias[n] = 0.0f;
    for (int64_t n = 0; n < B * U; n++) dh[n] = dh_last ? dh_last[n] : 0.0f;
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++)
            for (int64_t k = 0; k < U; k++) {
                float y = h[((s + 1) * B + b) * U + k];
                float d = dh[b * U + k] + (dy_seq ? dy_seq[(b * T + s) * U + k] : 0.0f);
                float deriv = act == CK_ACT_TANH ? 1.0f - y * y
                              : act == CK_ACT_SIGMOID ? y * (1.0f - y)
                              : act == CK_ACT_RELU ? (y > 0.0f ? 1.0f : 0.0f) : 1.0f;
                dz[b * U + k] = d * deriv;
            }
        for (int64_t b = 0; b < B; b++) {
            const float *dzr = dz + b * U, *hp = h + (s * B + b) * U, *xr = xt + (s * B + b) * I;
            for (int64_t m = 0; m < U; m++) {
                double acc = 0.0;
                for (int64_t k = 0; k < U; k++) {
                    acc += (double)dzr[k] * recurrent_kernel[m * U + k];
                    drecurrent_kernel[m * U + k] += hp[m] * dzr[k];
                }
                dh[b * U + m] = (float)acc;
            }
            for (int64_t f = 0; f < I; f++) {
                double acc = 0.0;
                for (int64_t k = 0; k < U; k++) {
                    acc += (double)dzr[k] * kernel[f * U + k];
                    dkernel[f * U + k] += xr[f] * dzr[k];
                }
                dx[(b * T + t) * I + f] = (float)acc;
            }
            if (dbias) for (int64_t k = 0; k < U; k++) dbias[k] += dzr[k];
        }
    }
    if (dh0) for (int64_t n = 0; n < B * U; n++) dh0[n] = dh[n];
}
