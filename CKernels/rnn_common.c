/*
 * rnn_common.c — the pieces every recurrent kernel uses: the in-place row activation on each ISA
 * path (the gate passes call it on L1-resident gate rows; sigmoid and tanh are gate_math.h's,
 * cheaper than vmath's), and the gather/scatter between the caller's batch-major sequences and
 * the kernels' time-major processing order.
 */
#include "rnn_common.h"
#include "gate_math.h"

#include <math.h>
#include <string.h>

static void act_row_generic(ck_activation act, int n, float *row) {
    switch (act) {
    case CK_ACT_SIGMOID: for (int j = 0; j < n; j++) row[j] = ck_gate_sigmoid_scalar(row[j]); break;
    case CK_ACT_TANH: for (int j = 0; j < n; j++) row[j] = ck_gate_tanh_scalar(row[j]); break;
    case CK_ACT_RELU: for (int j = 0; j < n; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j]; break;
    default: break;
    }
}

#ifdef CK_HAVE_X86
CK_TARGET_AVX512 static inline __m512 act_vec_avx512(ck_activation act, __m512 v) {
    switch (act) {
    case CK_ACT_SIGMOID: return ck_gate_sigmoid_avx512(v);
    case CK_ACT_TANH: return ck_gate_tanh_avx512(v);
    case CK_ACT_RELU:
        return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                                  _mm512_setzero_ps());
    default: return v;
    }
}

CK_TARGET_AVX512 static void act_row_avx512(ck_activation act, int n, float *row) {
    if (act == CK_ACT_IDENTITY) return;
    int j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(row + j, act_vec_avx512(act, _mm512_loadu_ps(row + j)));
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1);
        _mm512_mask_storeu_ps(row + j, m, act_vec_avx512(act, _mm512_maskz_loadu_ps(m, row + j)));
    }
}

CK_TARGET_AVX2 static inline __m256 act_vec_avx2(ck_activation act, __m256 v) {
    switch (act) {
    case CK_ACT_SIGMOID: return ck_gate_sigmoid_avx2(v);
    case CK_ACT_TANH: return ck_gate_tanh_avx2(v);
    case CK_ACT_RELU:
        return _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    default: return v;
    }
}

CK_TARGET_AVX2 static void act_row_avx2(ck_activation act, int n, float *row) {
    if (act == CK_ACT_IDENTITY) return;
    int j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(row + j, act_vec_avx2(act, _mm256_loadu_ps(row + j)));
    if (j < n) {
        /* masked lanes load as 0 (no fault) and are not stored */
        const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        __m256i m = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (n - j)));
        _mm256_maskstore_ps(row + j, m, act_vec_avx2(act, _mm256_maskload_ps(row + j, m)));
    }
}
#endif

rnn_act_row_fn rnn_act_row_for(ck_isa isa) {
#ifdef CK_HAVE_X86
    if (isa == CK_ISA_AVX512) return act_row_avx512;
    if (isa == CK_ISA_AVX2) return act_row_avx2;
#endif
    (void)isa;
    return act_row_generic;
}

void ck_rnn_activation(ck_activation act, int64_t n, const float *x, float *y) {
    rnn_act_row_fn row = rnn_act_row_for(ck_isa_active());
    for (int64_t i = 0; i < n; i += 1 << 20) {
        int chunk = (int)CK_MIN(n - i, (int64_t)1 << 20);
        if (y + i != x + i) memmove(y + i, x + i, (size_t)chunk * sizeof(float));
        row(act, chunk, y + i);
    }
}

void rnn_gather_steps(int batch, int steps, int features, int go_backwards, const float *x,
                      float *xt, int64_t ld) {
    /* over [s, b, f]: x offset b·T·F + t(s)·F + f, the s stride negative when reversed */
    int64_t shape[3] = {steps, batch, features};
    int64_t xs[3] = {go_backwards ? -(int64_t)features : features, (int64_t)steps * features, 1};
    int64_t ys[3] = {(int64_t)batch * ld, ld, 1};
    const float *x0 = go_backwards ? x + (int64_t)(steps - 1) * features : x;
    if ((int64_t)steps * batch * features == 0) return;
    ck_copy_strided32(3, shape, x0, xs, xt, ys);
}

void rnn_scatter_steps(int batch, int steps, int features, int go_backwards, const float *dxt,
                       float *dx) {
    /* over [b, t, f]: dxt offset s(t)·B·F + b·F + f */
    int64_t shape[3] = {batch, steps, features};
    int64_t bf = (int64_t)batch * features;
    int64_t xs[3] = {features, go_backwards ? -bf : bf, 1};
    int64_t ys[3] = {(int64_t)steps * features, features, 1};
    const float *x0 = go_backwards ? dxt + (int64_t)(steps - 1) * bf : dxt;
    if ((int64_t)steps * batch * features == 0) return;
    ck_copy_strided32(3, shape, x0, xs, dx, ys);
}

void rnn_run_batch_threads(int64_t batch, ck_parallel_body body, void *ctx) {
    int64_t threads = CK_MIN((int64_t)ck_num_threads(), batch / RNN_MIN_ROWS_PER_THREAD);
    if (threads <= 1) body(ctx, 0, 1);
    else ck_parallel_run((int)threads, body, ctx);
}

/* ---- weights re-laid out once per sequence ---- */

static _Thread_local ck_scratch weight_buffer;

float *rnn_weight_buffer(int64_t floats) { return ck_scratch_reserve(&weight_buffer, (size_t)floats); }

/* Both are ck_copy_strided32 (copy.c) with the destination's strides. */
void rnn_copy_weights(int64_t rows, int64_t cols, const float *src, int64_t ld, float *dst) {
    const int64_t shape[2] = {rows, cols}, from[2] = {cols, 1}, to[2] = {ld, 1};
    ck_copy_strided32(2, shape, src, from, dst, to);
}

void rnn_transpose_weights(int64_t rows, int64_t cols, const float *src, int64_t ld, float *dst) {
    const int64_t shape[2] = {rows, cols}, from[2] = {cols, 1}, to[2] = {1, ld};
    ck_copy_strided32(2, shape, src, from, dst, to);
}
