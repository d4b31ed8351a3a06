/*
 * gemm_epilogue.c — bias + activation over rows of C: the GEMM store's tail for the activations
 * the micro-kernels do not vectorise (sigmoid, tanh), the generic path's whole epilogue, and the
 * standalone ck_bias_activation.
 *
 * Scalar expf/tanhf for now; the vector math of eltwise.c can replace the two transcendental
 * loops without touching the GEMM. The identity/ReLU loops are plain enough for the compiler's
 * vectoriser.
 */
#include "internal.h"

#include <math.h>

void ck_bias_act_row(int n, const float *bias, ck_activation act, float *row) {
    switch (act) {
    case CK_ACT_RELU:
        if (bias)
            for (int j = 0; j < n; j++) {
                float x = row[j] + bias[j];
                row[j] = x > 0.0f ? x : 0.0f;
            }
        else
            for (int j = 0; j < n; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
        break;
    case CK_ACT_SIGMOID:
        for (int j = 0; j < n; j++) {
            float x = bias ? row[j] + bias[j] : row[j];
            row[j] = 1.0f / (1.0f + expf(-x));
        }
        break;
    case CK_ACT_TANH:
        for (int j = 0; j < n; j++) row[j] = tanhf(bias ? row[j] + bias[j] : row[j]);
        break;
    default:
        if (bias)
            for (int j = 0; j < n; j++) row[j] += bias[j];
        break;
    }
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
