/*
 * lstm_inference.c — Keras's LSTM over a whole sequence, forward only (predict, training=false).
 *
 * Same step as lstm.c (gates i, f, c, o along the last axis of every weight):
 *   z = x_t·W + h·U + b,  i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
 *   c = f·c + i·g,  h = o·tanh(c)
 *
 * The step is the training kernel's (one GEMM against the stacked [W ; U], one gate pass); what
 * differs is that nothing is saved for backward, so nothing has to leave the caches. The
 * training forward writes [T, B, 4u] activated gates plus [x | h], c and tanh(c) of every step
 * (about 10 MB for the lstm workload's B = 256, T = 28, u = 128). Here each step is
 *
 *   ONE GEMM   Z[B, 4u] = [x_t | h][B, in+u] · [W ; U][in+u, 4u] + b     (bias in the store)
 *   ONE pass   over Z's rows: activate in registers, c updated in place, h written straight
 *              back into the h columns of the next step's A operand (and into y_seq).
 *
 * The two weight matrices have the same width 4u, so stacking them row-wise is two memcpys once
 * per call; the per-step A operand [x_t | h] is a [B, in+u] buffer whose x columns are refilled
 * (in floats a row) by the gate pass of the same row. Per thread (half the batch on two cores)
 * the step's working set is A (~20 KB), Z (~128 KB) and the stacked weights (~320 KB): L2.
 *
 * h and c need no second buffer: batch rows never interact, and a row's h is read by the step's
 * GEMM before that row's gate pass overwrites it — each thread runs the GEMM of its rows, then
 * their gate pass, through every step with no barrier (rnn_run_batch_threads: one parallel
 * region for the whole sequence, not one per step).
 *
 * Scratch (ck_lstm_inference_scratch_size floats):
 *   wu [in+u, 4u] at leading dimension rnn_step_ld(4u) | a [B, in+u] | z [B, 4u] | c [B, u]
 */
#include "rnn_common.h"
#include "lstm_gates.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

int64_t ck_lstm_inference_scratch_size(int batch, int steps, int input_size, int units) {
    (void)steps;
    const int64_t b = batch, in = input_size, u = units, k = in + u;
    return k * rnn_step_ld(4 * u) + b * k + b * 4 * u + b * u;
}

typedef struct {
    int64_t b, t, in, u;
    int go_backwards;
    ck_isa isa;
    const float *x;    /* [B, T, in] */
    const float *wu;   /* [in+u, 4u] at leading dimension ld_wu */
    int64_t ld_wu;
    const float *bias; /* [4u] or NULL */
    float *a;          /* [B, in+u]: x_t | h */
    float *z;          /* [B, 4u] */
    float *c;          /* [B, u] */
    float *y;          /* [B, T, u] or NULL */
} lstm_inference_job;

/* Row b's x columns for processing step s (nothing after the last step). */
static inline void load_x(const lstm_inference_job *j, int64_t b, int64_t s) {
    if (s >= j->t || j->in == 0) return;
    const int64_t t = j->go_backwards ? j->t - 1 - s : s;
    memcpy(j->a + b * (j->in + j->u), j->x + (b * j->t + t) * j->in, (size_t)j->in * sizeof(float));
}

/* One row of step s, the portable path. */
static void gate_row_generic(const lstm_inference_job *j, int64_t b, int64_t s) {
    const int64_t u = j->u;
    const float *z = j->z + b * 4 * u;
    float *c = j->c + b * u, *h = j->a + b * (j->in + u) + j->in;
    float *y = j->y ? j->y + (b * j->t + s) * u : NULL;
    for (int64_t k = 0; k < u; k++) {
        float i = ck_gate_sigmoid_scalar(z[k]), f = ck_gate_sigmoid_scalar(z[u + k]),
              g = ck_gate_tanh_scalar(z[2 * u + k]), o = ck_gate_sigmoid_scalar(z[3 * u + k]);
        float cn = f * c[k] + i * g;
        float hv = o * ck_gate_tanh_scalar(cn);
        c[k] = cn;
        h[k] = hv;
        if (y) y[k] = hv;
    }
}

#ifdef CK_HAVE_X86
/* One row in two phases. Phase 1 replaces the row's 4u pre-activations by the gates, in place
 * (z is this call's scratch): 4u/16 vectors with no dependency between them, so the
 * transcendentals' long latency chains overlap. Phase 2 is the cell, whose tanh(c) waits on
 * three gates. Fused in one loop, each vector's five transcendentals formed one chain and the
 * pass ran latency-bound; split, its share of a one-core inference run fell from 25% to 21%. */
CK_TARGET_AVX512 static void gate_row_avx512(const lstm_inference_job *j, int64_t b, int64_t s) {
    const int64_t u = j->u;
    float *z = j->z + b * 4 * u;
    float *c = j->c + b * u, *h = j->a + b * (j->in + u) + j->in;
    float *y = j->y ? j->y + (b * j->t + s) * u : NULL;
    lstm_activate_gates_avx512(u, z);
    for (int64_t k = 0; k < u; k += 16) {
        __mmask16 m = u - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (u - k)) - 1);
        __m512 i = _mm512_maskz_loadu_ps(m, z + k), f = _mm512_maskz_loadu_ps(m, z + u + k);
        __m512 g = _mm512_maskz_loadu_ps(m, z + 2 * u + k), o = _mm512_maskz_loadu_ps(m, z + 3 * u + k);
        __m512 cn = _mm512_add_ps(_mm512_mul_ps(f, _mm512_maskz_loadu_ps(m, c + k)), _mm512_mul_ps(i, g));
        __m512 hv = _mm512_mul_ps(o, ck_gate_tanh_avx512(cn));
        _mm512_mask_storeu_ps(c + k, m, cn);
        _mm512_mask_storeu_ps(h + k, m, hv);
        if (y) _mm512_mask_storeu_ps(y + k, m, hv);
    }
}

CK_TARGET_AVX2 static void gate_row_avx2(const lstm_inference_job *j, int64_t b, int64_t s) {
    const int64_t u = j->u;
    const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const float *z = j->z + b * 4 * u;
    float *c = j->c + b * u, *h = j->a + b * (j->in + u) + j->in;
    float *y = j->y ? j->y + (b * j->t + s) * u : NULL;
    for (int64_t k = 0; k < u; k += 8) {
        /* masked lanes load as 0 (no fault) and are not stored */
        __m256i m = _mm256_loadu_si256((const __m256i *)(lanes + 8 - CK_MIN(u - k, 8)));
        __m256 i = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + k, m));
        __m256 f = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + u + k, m));
        __m256 g = ck_gate_tanh_avx2(_mm256_maskload_ps(z + 2 * u + k, m));
        __m256 o = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + 3 * u + k, m));
        __m256 cn = _mm256_add_ps(_mm256_mul_ps(f, _mm256_maskload_ps(c + k, m)), _mm256_mul_ps(i, g));
        __m256 hv = _mm256_mul_ps(o, ck_gate_tanh_avx2(cn));
        _mm256_maskstore_ps(c + k, m, cn);
        _mm256_maskstore_ps(h + k, m, hv);
        if (y) _mm256_maskstore_ps(y + k, m, hv);
    }
}
#endif

static void gate_rows(const lstm_inference_job *j, int64_t b0, int64_t b1, int64_t s) {
    switch (j->isa) {
#ifdef CK_HAVE_X86
    case CK_ISA_AVX512:
        for (int64_t b = b0; b < b1; b++) gate_row_avx512(j, b, s), load_x(j, b, s + 1);
        break;
    case CK_ISA_AVX2:
        for (int64_t b = b0; b < b1; b++) gate_row_avx2(j, b, s), load_x(j, b, s + 1);
        break;
#endif
    default:
        for (int64_t b = b0; b < b1; b++) gate_row_generic(j, b, s), load_x(j, b, s + 1);
        break;
    }
}

/* One thread's batch rows through every step: their GEMM, then their gate pass. */
static void lstm_inference_thread(void *ctx, int thread, int nthreads) {
    const lstm_inference_job *j = ctx;
    const int64_t k = j->in + j->u, g = 4 * j->u;
    int64_t b0, b1;
    ck_split_range(j->b, nthreads, thread, 1, &b0, &b1);
    if (b0 >= b1) return;
    for (int64_t b = b0; b < b1; b++) load_x(j, b, 0);
    for (int64_t s = 0; s < j->t; s++) {
        /* Z[b0:b1] = [x_s | h][b0:b1]·[W ; U] + b */
        ck_sgemm_bias_act(0, 0, (int)(b1 - b0), (int)g, (int)k, 1.0f, j->a + b0 * k, (int)k, j->wu,
                          (int)j->ld_wu, 0.0f, j->z + b0 * g, (int)g, j->bias, CK_ACT_IDENTITY);
        gate_rows(j, b0, b1, s);
    }
}

void ck_lstm_inference(int batch, int steps, int input_size, int units, int go_backwards,
                       const float *x, const float *kernel, const float *recurrent_kernel,
                       const float *bias, const float *h0, const float *c0, float *scratch,
                       float *y_seq, float *h_last, float *c_last) {
    const int64_t b = batch, in = input_size, u = units, k = in + u, g = 4 * u;
    if (b <= 0 || u <= 0) return;
    const int64_t ld = rnn_step_ld(g); /* padded when a row is a multiple of 1 KiB */
    float *wu = scratch, *a = wu + k * ld, *z = a + b * k, *c = z + b * g;
    /* [W ; U]: both are g wide, so the stack is the two blocks one after the other */
    rnn_copy_weights(in, g, kernel, ld, wu);
    rnn_copy_weights(u, g, recurrent_kernel, ld, wu + in * ld);
    for (int64_t r = 0; r < b; r++) {
        float *h = a + r * k + in;
        if (h0) memcpy(h, h0 + r * u, (size_t)u * sizeof(float)); else memset(h, 0, (size_t)u * sizeof(float));
    }
    if (c0) memcpy(c, c0, (size_t)(b * u) * sizeof(float)); else memset(c, 0, (size_t)(b * u) * sizeof(float));
    if (steps > 0) {
        lstm_inference_job j = {b, steps, in, u, go_backwards, ck_isa_active(), x, wu, ld, bias, a, z, c, y_seq};
        rnn_run_batch_threads(b, lstm_inference_thread, &j);
    }
    if (h_last)
        for (int64_t r = 0; r < b; r++) memcpy(h_last + r * u, a + r * k + in, (size_t)u * sizeof(float));
    if (c_last) memcpy(c_last, c, (size_t)(b * u) * sizeof(float));
}

/* ---- the reference: the step equations as plain loops, one element at a time ---- */

static float sigmoid_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

void ck_lstm_inference_reference(int batch, int steps, int input_size, int units,
                                 int go_backwards, const float *x, const float *kernel,
                                 const float *recurrent_kernel, const float *bias, const float *h0,
                                 const float *c0, float *scratch, float *y_seq, float *h_last,
                                 float *c_last) {
    const int64_t B = batch, T = steps, I = input_size, U = units, G = 4 * U;
    /* scratch: h [B, U] | c [B, U] | z [G] (fits in ck_lstm_inference_scratch_size) */
    float *h = scratch, *c = h + B * U, *z = c + B * U;
    for (int64_t n = 0; n < B * U; n++) {
        h[n] = h0 ? h0[n] : 0.0f;
        c[n] = c0 ? c0[n] : 0.0f;
    }
    for (int64_t s = 0; s < T; s++) {
        int64_t t = go_backwards ? T - 1 - s : s;
        for (int64_t b = 0; b < B; b++) {
            const float *xr = x + (b * T + t) * I;
            for (int64_t n = 0; n < G; n++) {
                double acc = bias ? bias[n] : 0.0;
                for (int64_t f = 0; f < I; f++) acc += (double)xr[f] * kernel[f * G + n];
                for (int64_t q = 0; q < U; q++) acc += (double)h[b * U + q] * recurrent_kernel[q * G + n];
                z[n] = (float)acc;
            }
            for (int64_t q = 0; q < U; q++) {
                float i = sigmoid_ref(z[q]), f = sigmoid_ref(z[U + q]), g = tanhf(z[2 * U + q]),
                      o = sigmoid_ref(z[3 * U + q]);
                float cn = f * c[b * U + q] + i * g;
                c[b * U + q] = cn;
                z[q] = o * tanhf(cn); /* h, stored once every gate of this row is computed */
            }
            for (int64_t q = 0; q < U; q++) {
                h[b * U + q] = z[q];
                if (y_seq) y_seq[(b * T + s) * U + q] = z[q];
            }
        }
    }
    for (int64_t n = 0; n < B * U; n++) {
        if (h_last) h_last[n] = h[n];
        if (c_last) c_last[n] = c[n];
    }
}
