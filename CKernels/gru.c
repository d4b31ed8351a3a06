/*
 * gru.c — Keras's GRU over a whole sequence, forward and backward through time.
 *
 * Gates in Keras's order z (update), r (reset), h (candidate) along the last axis of
 *   W: [in, 3u], U: [u, 3u].
 * reset_after = 1 (Keras's default; bias [2, 3u], row 0 the input bias b_x, row 1 the recurrent
 * bias b_h):
 *   xz, xr, xh = x·W + b_x;  hz, hr, hh = h·U + b_h
 *   z = σ(xz + hz), r = σ(xr + hr), n = tanh(xh + r·hh), h = z·h + (1 − z)·n
 * reset_after = 0 (bias [3u]):
 *   z = σ(xz + h·U_z), r = σ(xr + h·U_r), n = tanh(xh + (r·h)·U_h)
 *
 * Same design as lstm.c: ONE GEMM for all steps' input projections, per step the recurrent
 * GEMM(s) and a fused pass over the step's rows, and at the end of backward the weight gradients
 * as big GEMMs over all steps. reset_after = 1 needs h·U apart from x·W (r multiplies only the
 * recurrent part), so its recurrent GEMM writes its own buffer (bias fused); reset_after = 0
 * accumulates h·U_zr into the step's slice, then (r·h)·U_h — two GEMMs and two passes a step.
 *
 * Threads split the batch and each runs the whole recurrence on its rows (as lstm.c).
 *
 * Saved for backward (ck_gru_saved_size):
 *   xt [T, B, in] | gates [T, B, 3u] (z, r, n) | aux | h [T+1, B, u]
 *   aux = rec [T, B, 3u] (h·U + b_h) when reset_after, else rh [T, B, u] (r·h).
 * Backward scratch (ck_gru_backward_scratch_size):
 *   dzx [T, B, 3u] | dzh [T, B, 3u] | dxt [T, B, in] | dh [B, u]
 *   dzx is the gradient of x·W + b_x, dzh that of h·U + b_h (they differ in the candidate block
 *   by the factor r); reset_after = 0 uses the start of dzh for d(r·h) of one step.
 */
#include "rnn_common.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

typedef struct {
    int64_t b, t, in, u;
    int reset_after;
} gru_dims;

static gru_dims dims(int batch, int steps, int input_size, int units, int reset_after) {
    return (gru_dims){batch, steps, input_size, units, reset_after};
}

static int64_t aux_size(gru_dims d) { return d.t * d.b * (d.reset_after ? 3 * d.u : d.u); }

int64_t ck_gru_saved_size(int batch, int steps, int input_size, int units, int reset_after) {
    gru_dims d = dims(batch, steps, input_size, units, reset_after);
    return d.t * d.b * d.in + d.t * d.b * 3 * d.u + aux_size(d) + (d.t + 1) * d.b * d.u;
}

int64_t ck_gru_backward_scratch_size(int batch, int steps, int input_size, int units) {
    gru_dims d = dims(batch, steps, input_size, units, 1);
    return 2 * d.t * d.b * 3 * d.u + d.t * d.b * d.in + d.b * d.u;
}

typedef struct {
    float *xt, *gates, *aux, *h;
} gru_saved;

static gru_saved saved_parts(gru_dims d, float *saved) {
    gru_saved p;
    p.xt = saved;
    p.gates = p.xt + d.t * d.b * d.in;
    p.aux = p.gates + d.t * d.b * 3 * d.u;
    p.h = p.aux + aux_size(d);
    return p;
}

/* ---- forward ---- */

typedef struct {
    gru_dims d;
    int64_t s;
    rnn_act_row_fn act;
    float *gates;       /* [B, 3u] of step s */
    float *aux;         /* rec [B, 3u] or rh [B, u] of step s */
    const float *h_prev;
    float *h;           /* [B, u] */
    float *y;           /* [B, T, u] or NULL */
} gru_step_job;

static void gru_forward_rows_after(void *ctx, int64_t b0, int64_t b1) {
    const gru_step_job *j = ctx;
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        float *restrict z = j->gates + b * 3 * u;
        const float *restrict rec = j->aux + b * 3 * u, *restrict hp = j->h_prev + b * u;
        float *restrict h = j->h + b * u;
        for (int64_t k = 0; k < 2 * u; k++) z[k] = z[k] + rec[k];
        j->act(CK_ACT_SIGMOID, (int)(2 * u), z);
        for (int64_t k = 0; k < u; k++) z[2 * u + k] = z[2 * u + k] + z[u + k] * rec[2 * u + k];
        j->act(CK_ACT_TANH, (int)u, z + 2 * u);
        for (int64_t k = 0; k < u; k++) h[k] = z[k] * hp[k] + (1.0f - z[k]) * z[2 * u + k];
        if (j->y) memcpy(j->y + (b * j->d.t + j->s) * u, h, (size_t)u * sizeof(float));
    }
}

/* reset_after = 0, first half: z, r from the accumulated slice; rh = r·h_prev. */
static void gru_forward_rows_zr(void *ctx, int64_t b0, int64_t b1) {
    const gru_step_job *j = ctx;
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        float *restrict z = j->gates + b * 3 * u, *restrict rh = j->aux + b * u;
        const float *restrict hp = j->h_prev + b * u;
        j->act(CK_ACT_SIGMOID, (int)(2 * u), z);
        for (int64_t k = 0; k < u; k++) rh[k] = z[u + k] * hp[k];
    }
}

/* reset_after = 0, second half: n from xh + (r·h)·U_h, then h. */
static void gru_forward_rows_n(void *ctx, int64_t b0, int64_t b1) {
    const gru_step_job *j = ctx;
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        float *restrict z = j->gates + b * 3 * u, *restrict h = j->h + b * u;
        const float *restrict hp = j->h_prev + b * u;
        j->act(CK_ACT_TANH, (int)u, z + 2 * u);
        for (int64_t k = 0; k < u; k++) h[k] = z[k] * hp[k] + (1.0f - z[k]) * z[2 * u + k];
        if (j->y) memcpy(j->y + (b * j->d.t + j->s) * u, h, (size_t)u * sizeof(float));
    }
}

/* One thread's batch rows through every step (batch rows never interact: no barrier per step). */
typedef struct {
    gru_step_job step;
    gru_saved p;
    const float *recurrent_kernel, *recurrent_bias;
} gru_sequence_job;

static void gru_forward_thread(void *ctx, int thread, int nthreads) {
    const gru_sequence_job *q = ctx;
    gru_step_job j = q->step;
    const gru_dims d = j.d;
    const int64_t bu = d.b * d.u, g = 3 * d.u;
    const int u = (int)d.u, gi = (int)g;
    int64_t b0, b1;
    ck_split_range(d.b, nthreads, thread, 1, &b0, &b1);
    const int rows = (int)(b1 - b0);
    for (int64_t s = 0; s < d.t && b0 < b1; s++) {
        j.s = s;
        j.gates = q->p.gates + s * d.b * g;
        j.h_prev = q->p.h + s * bu;
        j.h = q->p.h + (s + 1) * bu;
        if (d.reset_after) {
            j.aux = q->p.aux + s * d.b * g;
            ck_sgemm_bias_act(0, 0, rows, gi, u, 1.0f, j.h_prev + b0 * u, u, q->recurrent_kernel, gi,
                              0.0f, j.aux + b0 * g, gi, q->recurrent_bias, CK_ACT_IDENTITY);
            gru_forward_rows_after(&j, b0, b1);
        } else {
            j.aux = q->p.aux + s * bu;
            ck_sgemm(0, 0, rows, 2 * u, u, 1.0f, j.h_prev + b0 * u, u, q->recurrent_kernel, gi, 1.0f,
                     j.gates + b0 * g, gi);
            gru_forward_rows_zr(&j, b0, b1);
            ck_sgemm(0, 0, rows, u, u, 1.0f, j.aux + b0 * u, u, q->recurrent_kernel + 2 * u, gi, 1.0f,
                     j.gates + b0 * g + 2 * u, gi);
            gru_forward_rows_n(&j, b0, b1);
        }
    }
}

void ck_gru_forward(int batch, int steps, int input_size, int units, int reset_after,
                    int go_backwards, const float *x, const float *kernel,
                    const float *recurrent_kernel, const float *bias, const float *h0,
                    float *saved, float *y_seq, float *h_last) {
    gru_dims d = dims(batch, steps, input_size, units, reset_after);
    gru_saved p = saved_parts(d, saved);
    const int64_t bu = d.b * d.u, g = 3 * d.u;
    rnn_gather_steps(batch, steps, input_size, go_backwards, x, p.xt, input_size);
    if (h0) memcpy(p.h, h0, (size_t)bu * sizeof(float)); else memset(p.h, 0, (size_t)bu * sizeof(float));
    ck_sgemm_bias_act(0, 0, (int)(d.t * d.b), (int)g, input_size, 1.0f, p.xt, CK_MAX(input_size, 1),
                      kernel, (int)g, 0.0f, p.gates, (int)g, bias, CK_ACT_IDENTITY);
    gru_sequence_job q = {
        .step = {.d = d, .act = rnn_act_row_for(ck_isa_active()), .y = y_seq},
        .p = p, .recurrent_kernel = recurrent_kernel,
        .recurrent_bias = reset_after && bias ? bias + g : NULL};
    rnn_run_batch_threads(d.b, gru_forward_thread, &q);
    if (h_last) memcpy(h_last, p.h + d.t * bu, (size_t)bu * sizeof(float));
}

/* ---- backward ---- */

typedef struct {
    gru_dims d;
    int64_t s;
    const float *gates, *aux, *h_prev; /* of step s */
    const float *dy;                   /* [B, T, u] or NULL */
    float *dh;                         /* [B, u]: in, the gradient reaching h_s; out, its direct part to h_{s−1} */
    float *dzx, *dzh;                  /* [B, 3u] of step s */
    float *drh;                        /* reset_after = 0: [B, u] */
} gru_backward_job;

/* reset_after = 1: one row's dzx, dzh and the direct part of dh. restrict parameters and a
 * constant has_dy let each ISA's variant vectorise. */
#define INLINE static inline __attribute__((always_inline))
INLINE void gru_backward_row_after(int64_t u, const float *restrict gt, const float *restrict rec,
                                   const float *restrict hp, const float *restrict dy,
                                   float *restrict dh, float *restrict dzx, float *restrict dzh,
                                   int has_dy) {
    for (int64_t k = 0; k < u; k++) {
        float z = gt[k], r = gt[u + k], n = gt[2 * u + k], hh = rec[2 * u + k];
        float dht = has_dy ? dh[k] + dy[k] : dh[k];
        float dz = dht * (hp[k] - n), dn = dht * (1.0f - z);
        float dan = dn * (1.0f - n * n);
        float daz = dz * z * (1.0f - z), dar = dan * hh * r * (1.0f - r);
        dzx[k] = daz, dzx[u + k] = dar, dzx[2 * u + k] = dan;
        dzh[k] = daz, dzh[u + k] = dar, dzh[2 * u + k] = dan * r;
        dh[k] = dht * z;
    }
}

INLINE void gru_backward_loop_after(const gru_backward_job *j, int64_t b0, int64_t b1, int has_dy) {
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++)
        gru_backward_row_after(u, j->gates + b * 3 * u, j->aux + b * 3 * u, j->h_prev + b * u,
                               has_dy ? j->dy + (b * j->d.t + j->s) * u : NULL, j->dh + b * u,
                               j->dzx + b * 3 * u, j->dzh + b * 3 * u, has_dy);
}

static void gru_backward_after_generic(const gru_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) gru_backward_loop_after(j, b0, b1, 1); else gru_backward_loop_after(j, b0, b1, 0);
}
CK_TARGET_AVX2 static void gru_backward_after_avx2(const gru_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) gru_backward_loop_after(j, b0, b1, 1); else gru_backward_loop_after(j, b0, b1, 0);
}
CK_TARGET_AVX512 static void gru_backward_after_avx512(const gru_backward_job *j, int64_t b0, int64_t b1) {
    if (j->dy) gru_backward_loop_after(j, b0, b1, 1); else gru_backward_loop_after(j, b0, b1, 0);
}

static void gru_backward_rows_after(const gru_backward_job *j, int64_t b0, int64_t b1) {
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: gru_backward_after_avx512(j, b0, b1); break;
    case CK_ISA_AVX2: gru_backward_after_avx2(j, b0, b1); break;
    default: gru_backward_after_generic(j, b0, b1); break;
    }
}

/* reset_after = 0, first half: dz, dn (and the direct part of dh); d(r·h) comes next by GEMM. */
static void gru_backward_rows_zn(void *ctx, int64_t b0, int64_t b1) {
    const gru_backward_job *j = ctx;
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        const float *restrict gt = j->gates + b * 3 * u, *restrict hp = j->h_prev + b * u;
        const float *restrict dy = j->dy ? j->dy + (b * j->d.t + j->s) * u : NULL;
        float *restrict dh = j->dh + b * u, *restrict dzx = j->dzx + b * 3 * u;
        for (int64_t k = 0; k < u; k++) {
            float z = gt[k], n = gt[2 * u + k];
            float dht = dy ? dh[k] + dy[k] : dh[k];
            float dz = dht * (hp[k] - n), dn = dht * (1.0f - z);
            dzx[k] = dz * z * (1.0f - z);
            dzx[2 * u + k] = dn * (1.0f - n * n);
            dh[k] = dht * z;
        }
    }
}

/* reset_after = 0, second half: dr from d(r·h), and r's share of dh. */
static void gru_backward_rows_r(void *ctx, int64_t b0, int64_t b1) {
    const gru_backward_job *j = ctx;
    const int64_t u = j->d.u;
    for (int64_t b = b0; b < b1; b++) {
        const float *restrict gt = j->gates + b * 3 * u, *restrict hp = j->h_prev + b * u,
                              *restrict drh = j->drh + b * u;
        float *restrict dh = j->dh + b * u, *restrict dzx = j->dzx + b * 3 * u;
        for (int64_t k = 0; k < u; k++) {
            float r = gt[u + k];
            float dr = drh[k] * hp[k];
            dzx[u + k] = dr * r * (1.0f - r);
            dh[k] = dh[k] + drh[k] * r;
        }
    }
}

typedef struct {
    gru_backward_job step;
    gru_saved p;
    const float *recurrent_kernel;
    float *dzx, *dzh;
} gru_backward_sequence_job;

/* One thread's batch rows backward through every step. */
static void gru_backward_thread(void *ctx, int thread, int nthreads) {
    const gru_backward_sequence_job *q = ctx;
    gru_backward_job j = q->step;
    const gru_dims d = j.d;
    const int64_t bu = d.b * d.u, g = 3 * d.u;
    const int u = (int)d.u, gi = (int)g;
    const float *rk = q->recurrent_kernel;
    int64_t b0, b1;
    ck_split_range(d.b, nthreads, thread, 1, &b0, &b1);
    const int rows = (int)(b1 - b0);
    float *dh = j.dh + b0 * u;
    for (int64_t s = d.t - 1; s >= 0 && b0 < b1; s--) {
        j.s = s;
        j.gates = q->p.gates + s * d.b * g;
        j.h_prev = q->p.h + s * bu;
        j.dzx = q->dzx + s * d.b * g;
        if (d.reset_after) {
            j.aux = q->p.aux + s * d.b * g;
            j.dzh = q->dzh + s * d.b * g;
            gru_backward_rows_after(&j, b0, b1);
            ck_sgemm(0, 1, rows, u, gi, 1.0f, j.dzh + b0 * g, gi, rk, gi, 1.0f, dh, u);
        } else {
            gru_backward_rows_zn(&j, b0, b1);
            ck_sgemm(0, 1, rows, u, u, 1.0f, j.dzx + b0 * g + 2 * u, gi, rk + 2 * u, gi, 0.0f,
                     j.drh + b0 * u, u);
            gru_backward_rows_r(&j, b0, b1);
            ck_sgemm(0, 1, rows, u, 2 * u, 1.0f, j.dzx + b0 * g, gi, rk, gi, 1.0f, dh, u);
        }
    }
}

void ck_gru_backward(int batch, int steps, int input_size, int units, int reset_after,
                     int go_backwards, const float *kernel, const float *recurrent_kernel,
                     const float *saved, const float *dy_seq, const float *dh_last,
                     float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                     float *dbias, float *dh0) {
    gru_dims d = dims(batch, steps, input_size, units, reset_after);
    gru_saved p = saved_parts(d, (float *)saved);
    const int64_t bu = d.b * d.u, g = 3 * d.u, tb = d.t * d.b;
    const int u = units, gi = (int)g;
    float *dzx = scratch, *dzh = dzx + tb * g, *dxt = dzh + tb * g, *dh = dxt + tb * d.in;
    if (dh_last) memcpy(dh, dh_last, (size_t)bu * sizeof(float)); else memset(dh, 0, (size_t)bu * sizeof(float));
    gru_backward_sequence_job q = {
        .step = {.d = d, .dy = dy_seq, .dh = dh, .drh = dzh}, .p = p,
        .recurrent_kernel = recurrent_kernel, .dzx = dzx, .dzh = dzh};
    rnn_run_batch_threads(d.b, gru_backward_thread, &q);
    if (dh0) memcpy(dh0, dh, (size_t)bu * sizeof(float));
    if (dx) { /* NULL: the input is the data, which needs no gradient */
        ck_sgemm(0, 1, (int)tb, input_size, gi, 1.0f, dzx, gi, kernel, gi, 0.0f, dxt,
                 CK_MAX(input_size, 1));
        rnn_scatter_steps(batch, steps, input_size, go_backwards, dxt, dx);
    }
    ck_sgemm(1, 0, input_size, gi, (int)tb, 1.0f, p.xt, CK_MAX(input_size, 1), dzx, gi, 0.0f,
             dkernel, gi);
    if (reset_after) {
        ck_sgemm(1, 0, u, gi, (int)tb, 1.0f, p.h, u, dzh, gi, 0.0f, drecurrent_kernel, gi);
        if (dbias) {
            ck_reduce(CK_REDUCE_SUM, 1, tb, g, dzx, dbias);
            ck_reduce(CK_REDUCE_SUM, 1, tb, g, dzh, dbias + g);
        }
    } else {
        ck_sgemm(1, 0, u, 2 * u, (int)tb, 1.0f, p.h, u, dzx, gi, 0.0f, drecurrent_kernel, gi);
        ck_sgemm(1, 0, u, u, (int)tb, 1.0f, p.aux, u, dzx + 2 * u, gi, 0.0f,
                 drecurrent_kernel + 2 * u, gi);
        if (dbias) ck_reduce(CK_REDUCE_SUM, 1, tb, g, dzx, dbias);
    }
}

/* ---- the reference: the step equations as plain loops ---- */

static float sigmoid_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

void ck_gru_forward_reference(int batch, int steps, int input_size, int units, int reset_after,
                              int go_backwards, const float *x, const float *kernel,
                              const float *recurrent_kernel, const float *bias, const float *h0,
                              float *saved, float *y_seq, float *h_last) {
    gru_dims d = dims(batch, steps, input_size, units, reset_after);
    gru_saved p = saved_parts(d, saved);
    const int64_t B = d.b, T = d.t, I = d.in, U = d.u, G = 3 * U;
    for (int64_t n = 0; n < B * U; n++) p.h[n] = h0 ? h0[n] : 0.0f;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *xr = x + (b * T + t) * I, *hp = p.h + (s * B + b) * U;
            float *gt = p.gates + (s * B + b) * G, *h = p.h + ((s + 1) * B + b) * U;
            for (int64_t f = 0; f < I; f++) p.xt[(s * B + b) * I + f] = xr[f];
            float xw[3 * 512 + 3], hu[3 * 512 + 3]; /* the reference is for test sizes (u ≤ 512) */
            for (int64_t n = 0; n < G; n++) {
                double a = bias ? bias[n] : 0.0, r = reset_after && bias ? bias[G + n] : 0.0;
                for (int64_t f = 0; f < I; f++) a += (double)xr[f] * kernel[f * G + n];
                for (int64_t k = 0; k < U; k++) r += (double)hp[k] * recurrent_kernel[k * G + n];
                xw[n] = (float)a, hu[n] = (float)r;
            }
            for (int64_t k = 0; k < U; k++) {
                float z = sigmoid_ref(xw[k] + hu[k]), r = sigmoid_ref(xw[U + k] + hu[U + k]);
                gt[k] = z, gt[U + k] = r;
            }
            for (int64_t k = 0; k < U; k++) {
                float an;
                if (reset_after) {
                    p.aux[(s * B + b) * G + k] = hu[k];
                    p.aux[(s * B + b) * G + U + k] = hu[U + k];
                    p.aux[(s * B + b) * G + 2 * U + k] = hu[2 * U + k];
                    an = xw[2 * U + k] + gt[U + k] * hu[2 * U + k];
                } else {
                    double acc = 0.0;
                    for (int64_t m = 0; m < U; m++) acc += (double)(gt[U + m] * hp[m]) * recurrent_kernel[m * G + 2 * U + k];
                    p.aux[(s * B + b) * U + k] = gt[U + k] * hp[k];
                    an = xw[2 * U + k] + (float)acc;
                }
                gt[2 * U + k] = tanhf(an);
            }
            for (int64_t k = 0; k < U; k++) {
                h[k] = gt[k] * hp[k] + (1.0f - gt[k]) * gt[2 * U + k];
                if (y_seq) y_seq[(b * T + s) * U + k] = h[k];
            }
        }
    }
    if (h_last) for (int64_t n = 0; n < B * U; n++) h_last[n] = p.h[T * B * U + n];
}

void ck_gru_backward_reference(int batch, int steps, int input_size, int units, int reset_after,
                               int go_backwards, const float *kernel,
                               const float *recurrent_kernel, const float *saved,
                               const float *dy_seq, const float *dh_last, float *scratch,
                               float *dx, float *dkernel, float *drecurrent_kernel, float *dbias,
                               float *dh0) {
    gru_dims d = dims(batch, steps, input_size, units, reset_after);
    gru_saved p = saved_parts(d, (float *)saved);
    const int64_t B = d.b, T = d.t, I = d.in, U = d.u, G = 3 * U;
    float *dh = scratch, *dhn = dh + B * U;
    for (int64_t n = 0; n < I * G; n++) dkernel[n] = 0.0f;
    for (int64_t n = 0; n < U * G; n++) drecurrent_kernel[n] = 0.0f;
    if (dbias) for (int64_t n = 0; n < (reset_after ? 2 : 1) * G; n++) dbias[n] = 0.0f;
    for (int64_t n = 0; n < B * U; n++) dh[n] = dh_last ? dh_last[n] : 0.0f;
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *gt = p.gates + (s * B + b) * G, *hp = p.h + (s * B + b) * U;
            const float *xr = p.xt + (s * B + b) * I;
            float dax[3 * 512 + 3], dah[3 * 512 + 3]; /* d(x·W + b_x), d(h·U + b_h) */
            float *dhp = dhn + b * U;
            for (int64_t k = 0; k < U; k++) {
                float dht = dh[b * U + k] + (dy_seq ? dy_seq[(b * T + s) * U + k] : 0.0f);
                float z = gt[k], n = gt[2 * U + k];
                dax[k] = dht * (hp[k] - n) * z * (1.0f - z);
                dax[2 * U + k] = dht * (1.0f - z) * (1.0f - n * n);
                dhp[k] = dht * z;
            }
            for (int64_t k = 0; k < U; k++) {
                float r = gt[U + k];
                if (reset_after) {
                    float hh = p.aux[(s * B + b) * G + 2 * U + k];
                    dax[U + k] = dax[2 * U + k] * hh * r * (1.0f - r);
                    dah[k] = dax[k], dah[U + k] = dax[U + k], dah[2 * U + k] = dax[2 * U + k] * r;
                } else {
                    double drh = 0.0; /* d(r·h)_k = Σ_n dan_n · U_h[k, n] */
                    for (int64_t n = 0; n < U; n++) drh += (double)dax[2 * U + n] * recurrent_kernel[k * G + 2 * U + n];
                    dax[U + k] = (float)drh * hp[k] * r * (1.0f - r);
                    dhp[k] += (float)drh * r;
                }
            }
            if (!reset_after)
                for (int64_t k = 0; k < U; k++) {
                    dah[k] = dax[k], dah[U + k] = dax[U + k], dah[2 * U + k] = 0.0f;
                    float rh = p.aux[(s * B + b) * U + k];
                    for (int64_t n = 0; n < U; n++) drecurrent_kernel[k * G + 2 * U + n] += rh * dax[2 * U + n];
                }
            for (int64_t k = 0; k < U; k++) {
                double acc = 0.0;
                for (int64_t n = 0; n < G; n++) acc += (double)dah[n] * recurrent_kernel[k * G + n];
                dhp[k] += (float)acc;
                for (int64_t n = 0; n < G; n++) drecurrent_kernel[k * G + n] += hp[k] * dah[n];
            }
            for (int64_t f = 0; f < I; f++) {
                double acc = 0.0;
                for (int64_t n = 0; n < G; n++) {
                    acc += (double)dax[n] * kernel[f * G + n];
                    dkernel[f * G + n] += xr[f] * dax[n];
                }
                dx[(b * T + t) * I + f] = (float)acc;
            }
            if (dbias)
                for (int64_t n = 0; n < G; n++) {
                    dbias[n] += dax[n];
                    if (reset_after) dbias[G + n] += dah[n];
                }
        }
        for (int64_t n = 0; n < B * U; n++) dh[n] = dhn[n];
    }
    if (dh0) for (int64_t n = 0; n < B * U; n++) dh0[n] = dh[n];
}
