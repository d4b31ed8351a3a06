/*
 * gemm_epilogue.c — bias + activation over rows of C: the tail of the GEMM store for the
 * activations the micro-kernels do not fuse into their register epilogue (sigmoid, tanh: a
 * polynomial per lane would triple the unrolled store's code), the generic path's whole
 * epilogue, and the standalone ck_bias_activation.
 *
 * One row at a time, vectorised on the active ISA with the vector exp/tanh/sigmoid of vmath.h
 * (≤ 3 ulp); a masked tail, so any n and no reads past the row. The portable path uses libm.
 * Identity/ReLU rows from the micro-kernels never come here: they are done in registers.
 */
#include "internal.h"
#include "vmath.h"

#include <math.h>

static void bias_act_row_generic(int n, const float *bias, ck_activation act, float *row) {
    for (int j = 0; j < n; j++) {
        float x = bias ? row[j] + bias[j] : row[j];
        switch (act) {
        case CK_ACT_RELU: x = x > 0.0f ? x : 0.0f; break;
        case CK_ACT_SIGMOID: x = ck_sigmoid_scalar(x); break;
        case CK_ACT_TANH: x = tanhf(x); break;
        default: break;
        }
        row[j] = x;
    }
}

#ifdef CK_HAVE_X86
CK_TARGET_AVX512 static void bias_act_row_avx512(int n, const float *bias, ck_activation act,
                                                 float *row) {
    for (int j = 0; j < n; j += 16) {
        const __mmask16 mask = (__mmask16)(n - j >= 16 ? 0xFFFF : (1u << (n - j)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(mask, row + j);
        if (bias) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, bias + j));
        switch (act) {
        case CK_ACT_RELU: x = _mm512_max_ps(x, _mm512_setzero_ps()); break;
        case CK_ACT_SIGMOID: x = ck_sigmoid_avx512(x); break;
        case CK_ACT_TANH: x = ck_tanh_avx512(x); break;
        default: break;
        }
        _mm512_mask_storeu_ps(row + j, mask, x);
    }
}

/* Lane mask for the first n (0..8) lanes of a ymm: a sliding window over this table. */
static const int32_t mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

CK_TARGET_AVX2 static void bias_act_row_avx2(int n, const float *bias, ck_activation act,
                                             float *row) {
    for (int j = 0; j < n; j += 8) {
        const int left = n - j >= 8 ? 8 : n - j;
        const __m256i mask = _mm256_loadu_si256((const __m256i *)(mask_window + 8 - left));
        __m256 x = _mm256_maskload_ps(row + j, mask);
        if (bias) x = _mm256_add_ps(x, _mm256_maskload_ps(bias + j, mask));
        switch (act) {
        case CK_ACT_RELU: x = _mm256_max_ps(x, _mm256_setzero_ps()); break;
        case CK_ACT_SIGMOID: x = ck_sigmoid_avx2(x); break;
        case CK_ACT_TANH: x = ck_tanh_avx2(x); break;
        default: break;
        }
        _mm256_maskstore_ps(row + j, mask, x);
    }
}
#endif

void ck_bias_act_row(int n, const float *bias, ck_activation act, float *row) {
    if (n <= 0 || (bias == NULL && act == CK_ACT_IDENTITY)) return;
#ifdef CK_HAVE_X86
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: bias_act_row_avx512(n, bias, act, row); return;
    case CK_ISA_AVX2: bias_act_row_avx2(n, bias, act, row); return;
    default: break;
    }
#endif
    bias_act_row_generic(n, bias, act, row);
}

typedef struct {
    int n, ldc;
    const float *bias;
    ck_activation act;
    float *c;
} bias_act_job;

static void bias_act_rows(void *ctx, int64_t begin, int64_t end) {
    const bias_act_job *job = ctx;
    for (int64_t i = begin; i < end; i++)
        ck_bias_act_row(job->n, job->bias, job->act, job->c + (size_t)i * job->ldc);
}

void ck_bias_activation(int m, int n, const float *bias, ck_activation act, float *c, int ldc) {
    if (m <= 0 || n <= 0 || (bias == NULL && act == CK_ACT_IDENTITY)) return;
    bias_act_job job = {n, ldc, bias, act, c};
    /* ~32K elements per thread at least: below that the parallel region costs more than it saves. */
    ck_parallel_for(m, CK_MAX(1, 32768 / n), bias_act_rows, &job);
}
