/*
 * loss.c — the cross-entropies on logits, fused and numerically stable.
 *
 * Keras computes a cross-entropy on logits as -Σ y·log_softmax(x) (or, for sigmoid outputs,
 * max(x,0) - x·y + log(1 + exp(-|x|))), and every probability that came out of a softmax or
 * sigmoid activation is routed here through its logits (KERAS_SPEC §4). Done as separate tensor
 * ops that is five passes and a temporary; fused it is one pass per row that writes the per-sample
 * loss and, in the same pass, the gradient with respect to the logits:
 *
 *   softmax CE:  d loss_r / d x_rj = softmax(x_r)_j − y_rj   (TF's kernel: exact when the
 *                targets of a row sum to 1, which is what Keras differentiates either way)
 *   sigmoid CE:  d loss_i / d x_i  = sigmoid(x_i) − y_i
 *
 * scaled per row by the caller's factor (sample weight / reduction divisor), so the loss's
 * backward pass needs no further kernel. Row lengths are class counts (10 to a few thousand): the
 * work is tiny next to the GEMMs, so rows are threaded only when there are many of them.
 */
#include "internal.h"

#include <math.h>

/* Rows per thread below which a parallel region costs more than it saves. */
#define LOSS_MIN_ELEMENTS 32768

typedef struct {
    int64_t cols;
    const float *logits, *targets;
    const int32_t *labels;
    float *loss, *grad;
    const float *grad_scale;
} softmax_ce_job;

/* max and log Σ exp(x - max) of one row: log_softmax(x)_j = x_j - max - log_sum. */
static void row_log_sum_exp(int64_t cols, const float *x, float *max_out, float *log_sum_out) {
    float max = -INFINITY;
    for (int64_t j = 0; j < cols; j++) max = x[j] > max ? x[j] : max;
    double sum = 0.0;  // double: the sum of up to thousands of terms in [0, 1] stays exact enough
    for (int64_t j = 0; j < cols; j++) sum += expf(x[j] - max);
    *max_out = max;
    *log_sum_out = (float)log(sum);
}

static void softmax_ce_rows(void *ctx, int64_t begin, int64_t end) {
    const softmax_ce_job *job = ctx;
    const int64_t cols = job->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = job->logits + r * cols;
        float max, log_sum;
        row_log_sum_exp(cols, x, &max, &log_sum);
        float loss = 0.0f;
        if (job->labels) {
            loss = -(x[job->labels[r]] - max - log_sum);
        } else {
            const float *y = job->targets + r * cols;
            for (int64_t j = 0; j < cols; j++) loss -= y[j] * (x[j] - max - log_sum);
        }
        job->loss[r] = loss;
        if (job->grad) {
            float *g = job->grad + r * cols;
            const float scale = job->grad_scale ? job->grad_scale[r] : 1.0f;
            for (int64_t j = 0; j < cols; j++) {
                float p = expf(x[j] - max - log_sum);
                float y = job->labels ? (j == job->labels[r] ? 1.0f : 0.0f) : job->targets[r * cols + j];
                g[j] = scale * (p - y);
            }
        }
    }
}

void ck_softmax_cross_entropy(int64_t rows, int64_t cols, const float *logits,
                              const float *targets, float *loss, float *grad,
                              const float *grad_scale) {
    softmax_ce_job job = {cols, logits, targets, NULL, loss, grad, grad_scale};
    ck_parallel_for(rows, LOSS_MIN_ELEMENTS / (cols > 0 ? cols : 1) + 1, softmax_ce_rows, &job);
}

void ck_sparse_softmax_cross_entropy(int64_t rows, int64_t cols, const float *logits,
                                     const int32_t *labels, float *loss, float *grad,
                                     const float *grad_scale) {
    softmax_ce_job job = {cols, logits, NULL, labels, loss, grad, grad_scale};
    ck_parallel_for(rows, LOSS_MIN_ELEMENTS / (cols > 0 ? cols : 1) + 1, softmax_ce_rows, &job);
}

typedef struct {
    const float *logits, *targets;
    float *loss, *grad;
    float grad_scale;
} sigmoid_ce_job;

static void sigmoid_ce_range(void *ctx, int64_t begin, int64_t end) {
    const sigmoid_ce_job *job = ctx;
    for (int64_t i = begin; i < end; i++) {
        const float x = job->logits[i], y = job->targets[i];
        // max(x, 0) - x·y + log(1 + exp(-|x|)): no overflow for any x, exact for large |x|.
        job->loss[i] = (x > 0.0f ? x : 0.0f) - x * y + log1pf(expf(-fabsf(x)));
        if (job->grad) {
            // sigmoid from the same exp(-|x|), stable on both sides.
            const float e = expf(-fabsf(x));
            const float s = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            job->grad[i] = job->grad_scale * (s - y);
        }
    }
}

void ck_sigmoid_cross_entropy(int64_t n, const float *logits, const float *targets, float *loss,
                              float *grad, float grad_scale) {
    sigmoid_ce_job job = {logits, targets, loss, grad, grad_scale};
    ck_parallel_for(n, LOSS_MIN_ELEMENTS, sigmoid_ce_range, &job);
}

int64_t ck_sparse_labels(int64_t n, const float *x, int32_t classes, int has_ignore,
                         int32_t ignore_class, int32_t *labels, float *valid) {
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        const int ignored = has_ignore && v == (float)ignore_class;
        // A label must be an exact integer in [0, classes): 2.5 or NaN is an error, not a class.
        if (!ignored && !(v >= 0.0f && v < (float)classes && v == (float)(int32_t)v)) return i;
        labels[i] = ignored ? 0 : (int32_t)v;
        if (valid) valid[i] = ignored ? 0.0f : 1.0f;
    }
    return -1;
}
