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
 *   ONE pass   over Z's rows: the gates (lstm_gates.h), c updated in place, h written straight
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

/* Row b of step s: its gates (in z, this call's scratch), c in place, h into the h columns of
 * the next step's A operand (lstm_gates.h, per ISA); then the row's next x. */
static void gate_rows(const lstm_inference_job *j, int64_t b0, int64_t b1, int64_t s) {
    const int64_t u = j->u;
    for (int64_t b = b0; b < b1; b++) {
        float *z = j->z + b * 4 * u, *c = j->c + b * u, *h = j->a + b * (j->in + u) + j->in;
        float *y = j->y ? j->y + (b * j->t + s) * u : NULL;
        switch (j->isa) {
#ifdef CK_HAVE_X86
        case CK_ISA_AVX512: lstm_gate_row_avx512(u, z, c, c, NULL, h, y); break;
        case CK_ISA_AVX2: lstm_gate_row_avx2(u, z, c, c, NULL, h, y); break;
#endif
        default: lstm_gate_row_generic(u, z, c, c, NULL, h, y); break;
        }
        load_x(j, b, s + 1);
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
