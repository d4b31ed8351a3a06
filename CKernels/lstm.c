/*
 * lstm.c — Keras's LSTM over a whole sequence, forward and backward through time.
 *
 * Step (Keras, gates in the order i, f, c, o along the last axis of every weight):
 *   z = x_t·W + h·U + b                  z: [B, 4u], W: [in, 4u], U: [u, 4u], b: [4u]
 *   i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
 *   c = f·c + i·g,  h = o·tanh(c)
 *
 * Each step's input sits beside the state it starts from, xh_s = [x_s | h_s] (time-major, see
 * rnn_common.h), so that one GEMM serves both weights:
 *   forward   per step ONE GEMM Z_s = xh_s·[W ; U] + b  ([B, in+u]·[in+u, 4u]), then ONE fused
 *             pass over the step's rows: activate the gates in place, update c, write h into
 *             the h columns of xh_{s+1} and into the caller's sequence output.
 *   backward  per step ONE fused pass turning dh, dc into dZ_s (and the next dc) and adding
 *             dZ_s's rows into the thread's partial db, and ONE GEMM dh = dZ_s·Uᵀ; then over all
 *             steps ONE GEMM for both weight gradients, d[W ; U] = xhᵀ·dZ
 *             ([in+u, T·B]·[T·B, 4u]: dZ, the big operand, is packed once, not once per weight),
 *             and dx = dZ·Wᵀ.
 * (Before, an input projection over all steps, Z = xt·W + b, was one K = in GEMM: at K = 28 it
 * ran at half the FMA peak and sent Z through memory once more.)
 * What backward needs is saved by forward in one caller-owned buffer (ck_lstm_saved_size):
 *   xh [T+1, B, in+u] (row T: h_T alone) | gates [T, B, 4u] (activated) | c [T+1, B, u] |
 *   tanh(c) [T, B, u] | [W ; U] [in+u, rnn_step_ld(4u)] (forward's stacked weights, unread by
 *   backward: kept here so that forward needs no allocation that could fail)
 * Saving tanh(c) makes the backward pass transcendental-free.
 *
 * Threads split the batch, not the step: batch rows never interact, so each thread runs the
 * whole recurrence on its rows (its slice of each step's GEMM, then its gate pass) with no
 * barrier between steps — two parallel regions per step would cost more than the gate pass on
 * the lstm workload. The big GEMMs over all steps (weight gradients, dx) thread internally.
 * The gate pass keeps a lane group's i, f, g, o, c in registers (AVX-512 / AVX2, gate_math.h's
 * vector sigmoid and tanh); the backward pass is one loop compiled for each ISA.
 */
#include "rnn_common.h"
#include "lstm_gates.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

typedef struct {
    int64_t b, t, in, u;
} lstm_dims;

static lstm_dims dims(int batch, int steps, int input_size, int units) {
    return (lstm_dims){batch, steps, input_size, units};
}

int64_t ck_lstm_saved_size(int batch, int steps, int input_size, int units) {
    lstm_dims d = dims(batch, steps, input_size, units);
    return (d.t + 1) * d.b * (d.in + d.u) + d.t * d.b * 4 * d.u + (d.t + 1) * d.b * d.u + d.t * d.b * d.u +
           (d.in + d.u) * rnn_step_ld(4 * d.u);
}

/* Threads the recurrence can run on (rnn_run_batch_threads): one partial db each. */
static int64_t max_batch_threads(lstm_dims d) { return CK_MAX(d.b / RNN_MIN_ROWS_PER_THREAD, 1); }

/* dz [T, B, 4u] | dxt [T, B, in] | dh [B, u] | dc [B, u] | d[W ; U] [in+u, 4u] |
 * partial db [max_batch_threads, 4u] */
int64_t ck_lstm_backward_scratch_size(int batch, int steps, int input_size, int units) {
    lstm_dims d = dims(batch, steps, input_size, units);
    return d.t * d.b * 4 * d.u + d.t * d.b * d.in + 2 * d.b * d.u + (d.in + d.u) * 4 * d.u +
           max_batch_threads(d) * 4 * d.u;
}

/* The saved buffer's parts. xh's row (s, b) is [x_s | h_s] for batch row b, ld = in+u floats:
 * x at xh + (s·B + b)·ld, h at the same + in. */
typedef struct {
    float *xh, *gates, *c, *tc, *wu;
    int64_t ld;
} lstm_saved;

static lstm_saved saved_parts(lstm_dims d, float *saved) {
    lstm_saved p;
    p.ld = d.in + d.u;
    p.xh = saved;
    p.gates = p.xh + (d.t + 1) * d.b * p.ld;
    p.c = p.gates + d.t * d.b * 4 * d.u;
    p.tc = p.c + (d.t + 1) * d.b * d.u;
    p.wu = p.tc + d.t * d.b * d.u;
    return p;
}

/* ---- forward ---- */

typedef struct {
    lstm_dims d;
    int64_t s;
    ck_isa isa;
    float *gates;        /* [B, 4u] of step s: pre-activations in, gates out */
    const float *c_prev; /* [B, u] */
    float *c, *tc;       /* [B, u] of step s */
    float *h;            /* [B, u] at row stride ld_h: the h columns of xh_{s+1} */
    int64_t ld_h;
    float *y;            /* [B, T, u] or NULL */
} lstm_step_job;

/* One row of step s: its gates, c, tanh(c) and h (lstm_gates.h, per ISA). */
static void lstm_forward_row(const lstm_step_job *j, int64_t b) {
    const int64_t u = j->d.u;
    float *z = j->gates + b * 4 * u, *c = j->c + b * u, *tc = j->tc + b * u, *h = j->h + b * j->ld_h;
    const float *cp = j->c_prev + b * u;
    float *y = j->y ? j->y + (b * j->d.t + j->s) * u : NULL;
    switch (j->isa) {
#ifdef CK_HAVE_X86
    case CK_ISA_AVX512: lstm_gate_row_avx512(u, z, cp, c, tc, h, y); break;
    case CK_ISA_AVX2: lstm_gate_row_avx2(u, z, cp, c, tc, h, y); break;
#endif
    default: lstm_gate_row_generic(u, z, cp, c, tc, h, y); break;
    }
}

static void lstm_forward_rows(void *ctx, int64_t b0, int64_t b1) {
    const lstm_step_job *j = ctx;
    for (int64_t b = b0; b < b1; b++) lstm_forward_row(j, b);
}

/* One thread's batch rows through every step: the step GEMM of its rows, then their gate pass.
 * Batch rows never interact, so threads need no barrier between steps. */
typedef struct {
    lstm_step_job step;
    lstm_saved p;
    const float *wu; /* [W ; U] [in+u, 4u] at leading dimension ld_wu */
    int64_t ld_wu;
    const float *bias;
} lstm_sequence_job;

static void lstm_forward_thread(void *ctx, int thread, int nthreads) {
    const lstm_sequence_job *q = ctx;
    lstm_step_job j = q->step;
    const lstm_dims d = j.d;
    const int64_t bu = d.b * d.u, g = 4 * d.u;
    int64_t b0, b1;
    ck_split_range(d.b, nthreads, thread, 1, &b0, &b1);
    for (int64_t s = 0; s < d.t && b0 < b1; s++) {
        j.s = s;
        j.gates = q->p.gates + s * d.b * g;
        j.c_prev = q->p.c + s * bu;
        j.c = q->p.c + (s + 1) * bu;
        j.h = q->p.xh + (s + 1) * d.b * q->p.ld + d.in;
        j.tc = q->p.tc + s * bu;
        /* Z_s[b0:b1] = xh_s[b0:b1]·[W ; U] + b */
        ck_sgemm_bias_act(0, 0, (int)(b1 - b0), (int)g, (int)q->p.ld, 1.0f,
                          q->p.xh + (s * d.b + b0) * q->p.ld, (int)q->p.ld, q->wu, (int)q->ld_wu, 0.0f,
                          j.gates + b0 * g, (int)g, q->bias, CK_ACT_IDENTITY);
        lstm_forward_rows(&j, b0, b1);
    }
}

void ck_lstm_forward(int batch, int steps, int input_size, int units, int go_backwards,
                     const float *x, const float *kernel, const float *recurrent_kernel,
                     const float *bias, const float *h0, const float *c0, float *saved,
                     float *y_seq, float *h_last, float *c_last) {
    lstm_dims d = dims(batch, steps, input_size, units);
    lstm_saved p = saved_parts(d, saved);
    const int64_t bu = d.b * d.u, g = 4 * d.u;
    rnn_gather_steps(batch, steps, input_size, go_backwards, x, p.xh, p.ld);
    for (int64_t b = 0; b < d.b; b++) {
        float *h = p.xh + b * p.ld + d.in;
        if (h0) memcpy(h, h0 + b * d.u, (size_t)d.u * sizeof(float)); else memset(h, 0, (size_t)d.u * sizeof(float));
    }
    if (c0) memcpy(p.c, c0, (size_t)bu * sizeof(float)); else memset(p.c, 0, (size_t)bu * sizeof(float));
    /* [W ; U] stacked once, at the leading dimension the 28-odd step GEMMs read best (rnn_step_ld) */
    const int64_t ld_wu = rnn_step_ld(g);
    rnn_copy_weights(d.in, g, kernel, ld_wu, p.wu);
    rnn_copy_weights(d.u, g, recurrent_kernel, ld_wu, p.wu + d.in * ld_wu);
    lstm_sequence_job q = {
        .step = {.d = d, .isa = ck_isa_active(), .y = y_seq,
                 .ld_h = p.ld},
        .p = p, .wu = p.wu, .ld_wu = ld_wu, .bias = bias};
    rnn_run_batch_threads(d.b, lstm_forward_thread, &q);
    if (h_last)
        for (int64_t b = 0; b < d.b; b++)
            memcpy(h_last + b * d.u, p.xh + (d.t * d.b + b) * p.ld + d.in, (size_t)d.u * sizeof(float));
    if (c_last) memcpy(c_last, p.c + d.t * bu, (size_t)bu * sizeof(float));
}

/* ---- backward ---- */

typedef struct {
    lstm_dims d;
    int64_t s;
    ck_isa isa;
    const float *gates, *c_prev, *tc; /* of step s */
    const float *dy;                  /* [B, T, u] or NULL */
    float *dh, *dc;                   /* [B, u]: in, the gradients reaching step s; dc out: to step s−1 */
    float *dz;                        /* [B, 4u] of step s */
    float *db;                        /* [4u]: this thread's column sums of dz so far, or NULL */
} lstm_backward_job;

/* dz of rows [b0, b1) of step s; has_dy is a constant at each call below, so every variant is
 * a branch-free loop the compiler vectorises for its ISA. */
#define INLINE static inline __attribute__((always_inline))
/* restrict on parameters (not locals) is what lets the compiler drop its overlap checks. */
INLINE void lstm_backward_row(int64_t u, const float *restrict z, const float *restrict cp,
                              const float *restrict tc, const float *restrict dy,
                              const float *restrict dh, float *restrict dc, float *restrict dz,
                              int has_dy) {
    for (int64_t k = 0; k < u; k++) {
        float i = z[k], f = z[u + k], g = z[2 * u + k], o = z[3 * u + k], t = tc[k];
        float dht = has_dy ? dh[k] + dy[k] : dh[k];
        float dct = dc[k] + dht * o * (1.0f - t * t);
        float d_o = dht * t;
        float d_i = dct * g, d_f = dct * cp[k], d_g = dct * i;
        dc[k] = dct * f;
        dz[k] = d_i * i * (1.0f - i);
        dz[u + k] = d_f * f * (1.0f - f);
        dz[2 * u + k] = d_g * (1.0f - g * g);
        dz[3 * u + k] = d_o * o * (1.0f - o);
    }
}

/* The previous step's saved rows (gates, c, tanh c) come from far back in memory: ask for them
 * one row ahead of the arithmetic that needs them. */
INLINE void lstm_prefetch_previous(const lstm_backward_job *j, int64_t b) {
    if (j->s == 0) return;
    const int64_t u = j->d.u, bu = j->d.b * u;
    const char *z = (const char *)(j->gates - j->d.b * 4 * u + b * 4 * u);
    const char *cp = (const char *)(j->c_prev - bu + b * u), *tc = (const char *)(j->tc - bu + b * u);
    for (int64_t k = 0; k < 4 * u * 4; k += 64) __builtin_prefetch(z + k, 0, 2);
    for (int64_t k = 0; k < u * 4; k += 64) {
        __builtin_prefetch(cp + k, 0, 2);
        __builtin_prefetch(tc + k, 0, 2);
    }
}

/* db += a row of dz, while the row is still in L1 (a separate column sum read all of dZ again). */
INLINE void lstm_accumulate_bias(int64_t g, const float *restrict dz, float *restrict db) {
    for (int64_t n = 0; n < g; n++) db[n] += dz[n];
}

INLINE void lstm_backward_loop(const lstm_backward_job *j, int64_t b0, int64_t b1, int has_dy) {
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        lstm_prefetch_previous(j, b);
        lstm_backward_row(u, j->gates + b * 4 * u, j->c_prev + b * u, j->tc + b * u,
                          has_dy ? j->dy + (b * j->d.t + j->s) * u : NULL, j->dh + b * u,
                          j->dc + b * u, j->dz + b * 4 * u, has_dy);
        if (j->db) lstm_accumulate_bias(4 * u, j->dz + b * 4 * u, j->db);
    }
}

static void lstm_backward_generic(const lstm_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) lstm_backward_loop(j, b0, b1, 1); else lstm_backward_loop(j, b0, b1, 0);
}
CK_TARGET_AVX2 static void lstm_backward_avx2(const lstm_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) lstm_backward_loop(j, b0, b1, 1); else lstm_backward_loop(j, b0, b1, 0);
}
CK_TARGET_AVX512 static void lstm_backward_avx512(const lstm_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) lstm_backward_loop(j, b0, b1, 1); else lstm_backward_loop(j, b0, b1, 0);
}

static void lstm_backward_rows(void *ctx, int64_t b0, int64_t b1) {
    const lstm_backward_job *j = ctx;
    switch (j->isa) {
    case CK_ISA_AVX512: lstm_backward_avx512(j, b0, b1); break;
    case CK_ISA_AVX2: lstm_backward_avx2(j, b0, b1); break;
    default: lstm_backward_generic(j, b0, b1); break;
    }
}

typedef struct {
    lstm_backward_job step;
    lstm_saved p;
    const float *recurrent_kernel; /* U [u, 4u] */
    const float *recurrent_t;      /* Uᵀ [4u, u] (ld u), or NULL: then U is read transposed */
    int want_dh0;
} lstm_backward_sequence_job;

/* One thread's batch rows backward through every step: their dZ_s, then dh[b0:b1] = dZ_s·Uᵀ. */
static void lstm_backward_thread(void *ctx, int thread, int nthreads) {
    const lstm_backward_sequence_job *q = ctx;
    lstm_backward_job j = q->step;
    const lstm_dims d = j.d;
    const int64_t bu = d.b * d.u, g = 4 * d.u;
    int64_t b0, b1;
    ck_split_range(d.b, nthreads, thread, 1, &b0, &b1);
    float *dz = j.dz;
    if (j.db) j.db += thread * g;
    for (int64_t s = d.t - 1; s >= 0 && b0 < b1; s--) {
        j.s = s;
        j.gates = q->p.gates + s * d.b * g;
        j.c_prev = q->p.c + s * bu;
        j.tc = q->p.tc + s * bu;
        j.dz = dz + s * d.b * g;
        lstm_backward_rows(&j, b0, b1);
        if ((s > 0 || q->want_dh0) && q->recurrent_t)
            ck_sgemm(0, 0, (int)(b1 - b0), (int)d.u, (int)g, 1.0f, j.dz + b0 * g, (int)g,
                     q->recurrent_t, (int)d.u, 0.0f, j.dh + b0 * d.u, (int)d.u);
        else if (s > 0 || q->want_dh0)
            ck_sgemm(0, 1, (int)(b1 - b0), (int)d.u, (int)g, 1.0f, j.dz + b0 * g, (int)g,
                     q->recurrent_kernel, (int)g, 0.0f, j.dh + b0 * d.u, (int)d.u);
    }
}

void ck_lstm_backward(int batch, int steps, int input_size, int units, int go_backwards,
                      const float *kernel, const float *recurrent_kernel, const float *saved,
                      const float *dy_seq, const float *dh_last, const float *dc_last,
                      float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                      float *dbias, float *dh0, float *dc0) {
    lstm_dims d = dims(batch, steps, input_size, units);
    lstm_saved p = saved_parts(d, (float *)saved);
    const int64_t bu = d.b * d.u, g = 4 * d.u, tb = d.t * d.b;
    float *dz = scratch, *dxt = dz + tb * g, *dh = dxt + tb * d.in, *dc = dh + bu, *dwu = dc + bu;
    float *db_parts = dwu + (d.in + d.u) * g;
    if (dbias) memset(db_parts, 0, (size_t)(max_batch_threads(d) * g) * sizeof(float));
    if (dh_last) memcpy(dh, dh_last, (size_t)bu * sizeof(float)); else memset(dh, 0, (size_t)bu * sizeof(float));
    if (dc_last) memcpy(dc, dc_last, (size_t)bu * sizeof(float)); else memset(dc, 0, (size_t)bu * sizeof(float));
    lstm_backward_sequence_job q = {
        .step = {.d = d, .isa = ck_isa_active(), .dy = dy_seq, .dh = dh, .dc = dc, .dz = dz,
                 .db = dbias ? db_parts : NULL},
        .p = p, .recurrent_kernel = recurrent_kernel, .want_dh0 = dh0 != NULL};
    /* Uᵀ once per sequence: each step's dZ·Uᵀ then reads it in place instead of packing U's
     * transpose again (measured 143 → 160 GFLOP/s for 128×128×512 on one core). */
    float *u_t = d.t > 1 ? rnn_weight_buffer(g * d.u) : NULL;
    if (u_t) rnn_transpose_weights(d.u, g, recurrent_kernel, d.u, u_t);
    q.recurrent_t = u_t;
    rnn_run_batch_threads(d.b, lstm_backward_thread, &q);
    if (dh0) memcpy(dh0, dh, (size_t)bu * sizeof(float));
    if (dc0) memcpy(dc0, dc, (size_t)bu * sizeof(float));
    /* the weight and input gradients over all steps at once */
    if (dx) { /* NULL: the input is the data, which needs no gradient */
        ck_sgemm(0, 1, (int)tb, input_size, (int)g, 1.0f, dz, (int)g, kernel, (int)g, 0.0f, dxt,
                 CK_MAX(input_size, 1));
        rnn_scatter_steps(batch, steps, input_size, go_backwards, dxt, dx);
    }
    /* d[W ; U] = xhᵀ·dZ over rows s < T, then split into the two callers' buffers */
    ck_sgemm(1, 0, (int)p.ld, (int)g, (int)tb, 1.0f, p.xh, (int)p.ld, dz, (int)g, 0.0f, dwu, (int)g);
    memcpy(dkernel, dwu, (size_t)(d.in * g) * sizeof(float));
    memcpy(drecurrent_kernel, dwu + d.in * g, (size_t)(d.u * g) * sizeof(float));
    if (dbias) { /* the threads' partial sums, in thread order (unused slots are zero) */
        memcpy(dbias, db_parts, (size_t)g * sizeof(float));
        for (int64_t t = 1; t < max_batch_threads(d); t++)
            for (int64_t n = 0; n < g; n++) dbias[n] += db_parts[t * g + n];
    }
}

/* ---- the reference: the step equations as plain loops, one element at a time ---- */

static float sigmoid_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

void ck_lstm_forward_reference(int batch, int steps, int input_size, int units, int go_backwards,
                               const float *x, const float *kernel, const float *recurrent_kernel,
                               const float *bias, const float *h0, const float *c0, float *saved,
                               float *y_seq, float *h_last, float *c_last) {
    lstm_dims d = dims(batch, steps, input_size, units);
    lstm_saved p = saved_parts(d, saved);
    const int64_t B = d.b, T = d.t, I = d.in, U = d.u, G = 4 * U, L = p.ld;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < U; k++) {
            p.xh[b * L + I + k] = h0 ? h0[b * U + k] : 0.0f;
            p.c[b * U + k] = c0 ? c0[b * U + k] : 0.0f;
        }
    for (int64_t s = 0; s < T; s++) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *xr = x + (b * T + t) * I, *hp = p.xh + (s * B + b) * L + I, *cp = p.c + (s * B + b) * U;
            float *z = p.gates + (s * B + b) * G;
            for (int64_t f = 0; f < I; f++) p.xh[(s * B + b) * L + f] = xr[f];
            for (int64_t n = 0; n < G; n++) {
                double acc = bias ? bias[n] : 0.0;
                for (int64_t f = 0; f < I; f++) acc += (double)xr[f] * kernel[f * G + n];
                for (int64_t k = 0; k < U; k++) acc += (double)hp[k] * recurrent_kernel[k * G + n];
                z[n] = (float)acc;
            }
            for (int64_t k = 0; k < U; k++) {
                float i = sigmoid_ref(z[k]), f = sigmoid_ref(z[U + k]), g = tanhf(z[2 * U + k]),
                      o = sigmoid_ref(z[3 * U + k]);
                z[k] = i, z[U + k] = f, z[2 * U + k] = g, z[3 * U + k] = o;
                float c = f * cp[k] + i * g, tc = tanhf(c), h = o * tc;
                p.c[((s + 1) * B + b) * U + k] = c;
                p.tc[(s * B + b) * U + k] = tc;
                p.xh[((s + 1) * B + b) * L + I + k] = h;
                if (y_seq) y_seq[(b * T + s) * U + k] = h;
            }
        }
    }
    for (int64_t n = 0; n < B * U; n++) {
        if (h_last) h_last[n] = p.xh[(T * B + n / U) * L + I + n % U];
        if (c_last) c_last[n] = p.c[T * B * U + n];
    }
}

void ck_lstm_backward_reference(int batch, int steps, int input_size, int units, int go_backwards,
                                const float *kernel, const float *recurrent_kernel,
                                const float *saved, const float *dy_seq, const float *dh_last,
                                const float *dc_last, float *scratch, float *dx, float *dkernel,
                                float *drecurrent_kernel, float *dbias, float *dh0, float *dc0) {
    lstm_dims d = dims(batch, steps, input_size, units);
    lstm_saved p = saved_parts(d, (float *)saved);
    const int64_t B = d.b, T = d.t, I = d.in, U = d.u, G = 4 * U;
    float *dz = scratch, *dh = dz + T * B * G + T * B * I, *dc = dh + B * U;
    for (int64_t n = 0; n < I * G; n++) dkernel[n] = 0.0f;
    for (int64_t n = 0; n < U * G; n++) drecurrent_kernel[n] = 0.0f;
    for (int64_t n = 0; n < G; n++) if (dbias) dbias[n] = 0.0f;
    for (int64_t n = 0; n < B * U; n++) {
        dh[n] = dh_last ? dh_last[n] : 0.0f;
        dc[n] = dc_last ? dc_last[n] : 0.0f;
    }
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *z = p.gates + (s * B + b) * G;
            float *dzr = dz + (s * B + b) * G;
            for (int64_t k = 0; k < U; k++) {
                float i = z[k], f = z[U + k], g = z[2 * U + k], o = z[3 * U + k];
                float c = p.c[((s + 1) * B + b) * U + k], cp = p.c[(s * B + b) * U + k], tc = tanhf(c);
                float dht = dh[b * U + k] + (dy_seq ? dy_seq[(b * T + s) * U + k] : 0.0f);
                float dct = dc[b * U + k] + dht * o * (1.0f - tc * tc);
                dzr[k] = dct * g * i * (1.0f - i);
                dzr[U + k] = dct * cp * f * (1.0f - f);
                dzr[2 * U + k] = dct * i * (1.0f - g * g);
                dzr[3 * U + k] = dht * tc * o * (1.0f - o);
                dc[b * U + k] = dct * f;
            }
        }
        for (int64_t b = 0; b < B; b++)
            for (int64_t k = 0; k < U; k++) {
                double acc = 0.0;
                for (int64_t n = 0; n < G; n++) acc += (double)dz[(s * B + b) * G + n] * recurrent_kernel[k * G + n];
                dh[b * U + k] = (float)acc;
            }
        for (int64_t b = 0; b < B; b++) {
            const float *dzr = dz + (s * B + b) * G, *hp = p.xh + (s * B + b) * p.ld + I;
            const float *xr = p.xh + (s * B + b) * p.ld;
            for (int64_t f = 0; f < I; f++) {
                double acc = 0.0;
                for (int64_t n = 0; n < G; n++) {
                    acc += (double)dzr[n] * kernel[f * G + n];
                    dkernel[f * G + n] += xr[f] * dzr[n];
                }
                dx[(b * T + t) * I + f] = (float)acc;
            }
            for (int64_t k = 0; k < U; k++)
                for (int64_t n = 0; n < G; n++) drecurrent_kernel[k * G + n] += hp[k] * dzr[n];
            if (dbias) for (int64_t n = 0; n < G; n++) dbias[n] += dzr[n];
        }
    }
    for (int64_t n = 0; n < B * U; n++) {
        if (dh0) dh0[n] = dh[n];
        if (dc0) dc0[n] = dc[n];
    }
}
