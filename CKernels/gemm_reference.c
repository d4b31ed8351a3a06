/*
 * gemm_reference.c — the plain GEMM every tuned path is tested against.
 *
 * Accumulates in double so that it is a better answer than any float kernel, not just another
 * float ordering: the tests then bound the tuned kernels' error by k·eps·Σ|a||b|.
 */
#include "internal.h"

#include <math.h>

static float activate(ck_activation act, float x) {
    switch (act) {
    case CK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case CK_ACT_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
    case CK_ACT_TANH: return (float)tanh((double)x);
    default: return x;
    }
}

/* C[m×n] = act(alpha·op(A)[m×k]·op(B)[k×n] + beta·C + bias[n]) */
void ck_sgemm_reference(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc, const float *bias, ck_activation act) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            if (alpha != 0.0f) {
                for (int p = 0; p < k; p++) {
                    float aip = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                    float bpj = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                    sum += (double)aip * (double)bpj;
                }
                sum *= alpha;
            }
            if (beta != 0.0f) sum += (double)beta * c[(size_t)i * ldc + j];
            if (bias) sum += bias[j];
            c[(size_t)i * ldc + j] = activate(act, (float)sum);
        }
    }
}
