/*
 * batchnorm.c — batch normalization over the last (channel) axis, x viewed as [rows, C], the
 * channels-last layout of every Keras BatchNormalization(axis=-1) (rows = N·H·W for images).
 *
 * Forward in training (PyTorch's channels-last scheme, TF's arithmetic):
 *   pass 1: per-thread partial sums Σx over its rows → mean;
 *   pass 2: per-thread partial sums Σ(x − mean)² → the BIASED variance (÷ rows), the one Keras
 *           both normalises with and feeds the moving average;
 *   pass 3: y = x·inv + (beta − mean·inv) with inv = rsqrt(var + eps)·gamma (tf.nn.
 *           batch_normalization's order of operations), optionally max(·, 0).
 * The partial sums are float vectors over C, flushed into double every BN_FLUSH_ROWS rows, so
 * the statistics of a 10⁵-row batch keep float's precision without slowing the vector loop.
 *
 * Backward (one pass of reductions, one element-wise pass), with x̂ = (x − mean)·rstd:
 *   dbeta = Σ dy,  dgamma = Σ dy·x̂,
 *   training:  dx = gamma·rstd · (dy − dbeta/rows − x̂·dgamma/rows)
 *   inference: dx = dy·gamma·rstd  (the moving statistics are constants)
 * With the fused ReLU, dy is first masked by y > 0.
 *
 * Loops are written once and compiled per ISA (as optimizer.c) with contraction off, so every
 * path rounds as the reference does, up to the order of the partial sums.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define BN_FLUSH_ROWS 64
#define BN_MAX_THREADS 64
#define BN_MIN_ELEMENTS 16384

typedef struct {
    int64_t rows, channels;
    const float *x, *dy, *y_relu; /* y_relu: forward output when the ReLU was fused, else NULL */
    const float *mean, *scale, *shift; /* per channel: mean; y = x·scale + shift */
    float *y, *dx;
    double *partials; /* [threads][2·C] */
    float *scratch;   /* [threads][2·C]: the float block sums */
    int relu, pass;
    const float *k1, *k2; /* backward: dx = scale·dy − k1 − x̂·k2 ... see below */
    const float *rstd;
} bn_job;

/* pass 0: Σx; pass 1: Σ(x − mean)²; pass 2: Σdy', Σdy'·(x − mean). One thread's rows. */
INLINE void bn_sums_loop(const bn_job *j, int64_t begin, int64_t end, double *acc,
                         float *restrict s0, float *restrict s1) {
    const int64_t C = j->channels;
    for (int64_t r0 = begin; r0 < end; r0 += BN_FLUSH_ROWS) {
        const int64_t r1 = CK_MIN(r0 + BN_FLUSH_ROWS, end);
        for (int64_t c = 0; c < C; c++) s0[c] = s1[c] = 0.0f;
        for (int64_t r = r0; r < r1; r++) {
            const float *restrict x = j->x + r * C;
            if (j->pass == 0) {
                for (int64_t c = 0; c < C; c++) s0[c] += x[c];
            } else if (j->pass == 1) {
                for (int64_t c = 0; c < C; c++) {
                    float d = x[c] - j->mean[c];
                    s0[c] += d * d;
                }
            } else {
                const float *restrict dy = j->dy + r * C;
                if (j->y_relu) {
                    const float *restrict y = j->y_relu + r * C;
                    for (int64_t c = 0; c < C; c++) {
                        float g = y[c] > 0.0f ? dy[c] : 0.0f;
                        s0[c] += g;
                        s1[c] += g * (x[c] - j->mean[c]);
                    }
                } else {
                    for (int64_t c = 0; c < C; c++) {
                        s0[c] += dy[c];
                        s1[c] += dy[c] * (x[c] - j->mean[c]);
                    }
                }
            }
        }
        for (int64_t c = 0; c < C; c++) {
            acc[c] += s0[c];
            acc[C + c] += s1[c];
        }
    }
}

INLINE void bn_apply_loop(const bn_job *j, int64_t begin, int64_t end) {
    const int64_t C = j->channels;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = j->x + r * C;
        float *restrict y = j->y + r * C;
        if (j->relu) {
            for (int64_t c = 0; c < C; c++) {
                float v = x[c] * j->scale[c] + j->shift[c];
                y[c] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (int64_t c = 0; c < C; c++) y[c] = x[c] * j->scale[c] + j->shift[c];
        }
    }
}

/* dx = dy'·scale − k1 − (x − mean)·k2, with k1 = scale·Σdy'/rows and
 * k2 = scale·rstd²·Σdy'(x − mean)/rows in training, k1 = k2 = 0 in inference. */
INLINE void bn_backward_apply_loop(const bn_job *j, int64_t begin, int64_t end) {
    const int64_t C = j->channels;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = j->x + r * C, *restrict dy = j->dy + r * C;
        float *restrict dx = j->dx + r * C;
        if (j->y_relu) {
            const float *restrict yr = j->y_relu + r * C;
            for (int64_t c = 0; c < C; c++) {
                float g = yr[c] > 0.0f ? dy[c] : 0.0f;
                dx[c] = g * j->scale[c] - j->k1[c] - (x[c] - j->mean[c]) * j->k2[c];
            }
        } else {
            for (int64_t c = 0; c < C; c++)
                dx[c] = dy[c] * j->scale[c] - j->k1[c] - (x[c] - j->mean[c]) * j->k2[c];
        }
    }
}

#define BN_SUMS_ARGS const bn_job *j, int64_t b, int64_t e, double *acc, float *s0, float *s1
static void bn_sums_generic(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }
CK_TARGET_AVX2 static void bn_sums_avx2(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }
CK_TARGET_AVX512 static void bn_sums_avx512(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }

static void bn_sums_thread(void *ctx, int thread, int nthreads) {
    const bn_job *j = ctx;
    int64_t begin, end;
    ck_split_range(j->rows, nthreads, thread, 1, &begin, &end);
    double *acc = j->partials + (int64_t)thread * 2 * j->channels;
    memset(acc, 0, (size_t)(2 * j->channels) * sizeof(double));
    float *s0 = j->scratch + (int64_t)thread * 2 * j->channels, *s1 = s0 + j->channels;
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: bn_sums_avx512(j, begin, end, acc, s0, s1); break;
    case CK_ISA_AVX2: bn_sums_avx2(j, begin, end, acc, s0, s1); break;
    default: bn_sums_generic(j, begin, end, acc, s0, s1); break;
    }
}

#define BN_RANGE(name)                                                                           \
    static void name##_generic(const bn_job *j, int64_t b, int64_t e) { name##_loop(j, b, e); }   \
    CK_TARGET_AVX2 static void name##_avx2(const bn_job *j, int64_t b, int64_t e) {              \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    CK_TARGET_AVX512 static void name##_avx512(const bn_job *j, int64_t b, int64_t e) {          \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    static void name##_range(void *ctx, int64_t b, int64_t e) {                                  \
        switch (ck_isa_active()) {                                                               \
        case CK_ISA_AVX512: name##_avx512(ctx, b, e); break;                                     \
        case CK_ISA_AVX2: name##_avx2(ctx, b, e); break;                                         \
        default: name##_generic(ctx, b, e); break;                                               \
        }                                                                                        \
    }
BN_RANGE(bn_apply)
BN_RANGE(bn_backward_apply)

static int bn_threads(int64_t rows, int64_t channels) {
    int64_t useful = rows * channels / BN_MIN_ELEMENTS;
    return (int)CK_MAX(1, CK_MIN(CK_MIN((int64_t)ck_num_threads(), useful), BN_MAX_THREADS));
}

static int64_t bn_min_rows(int64_t channels) { return BN_MIN_ELEMENTS / CK_MAX(channels, 1) + 1; }

/* Runs one reduction pass and sums the threads' partials (in thread order) into out[2·C]. */
static int bn_reduce(bn_job *j, int pass, double *out) {
    const int64_t C = j->channels;
    const int nthreads = bn_threads(j->rows, C);
    double *partials = malloc((size_t)(nthreads * 2 * C) * sizeof(double));
    float *scratch = malloc((size_t)(nthreads * 2 * C) * sizeof(float));
    if (!partials || !scratch) {
        free(partials);
        free(scratch);
        return -1;
    }
    j->partials = partials;
    j->scratch = scratch;
    j->pass = pass;
    ck_parallel_run(nthreads, bn_sums_thread, j);
    memset(out, 0, (size_t)(2 * C) * sizeof(double));
    for (int t = 0; t < nthreads; t++)
        for (int64_t c = 0; c < 2 * C; c++) out[c] += partials[(int64_t)t * 2 * C + c];
    free(partials);
    return 0;
}

void ck_batchnorm_forward_training(int64_t rows, int64_t channels, const float *x,
                                   const float *gamma, const float *beta, float epsilon, int relu,
                                   float *y, float *mean, float *variance) {
    const int64_t C = channels;
    if (C == 0) return;
    double *sums = malloc((size_t)(2 * C) * sizeof(double));
    float *scale = malloc((size_t)(2 * C) * sizeof(float));
    if (!sums || !scale) {
        free(sums);
        free(scale);
        return;
    }
    float *shift = scale + C;
    bn_job j = {.rows = rows, .channels = C, .x = x, .mean = mean, .y = y, .relu = relu,
                .scale = scale, .shift = shift};
    if (bn_reduce(&j, 0, sums) == 0) {
        for (int64_t c = 0; c < C; c++) mean[c] = (float)(sums[c] / (double)rows);
        if (bn_reduce(&j, 1, sums) == 0) {
            for (int64_t c = 0; c < C; c++) variance[c] = (float)(sums[c] / (double)rows);
            for (int64_t c = 0; c < C; c++) {
                float inv = 1.0f / sqrtf(variance[c] + epsilon);
                if (gamma) inv = inv * gamma[c];
                scale[c] = inv;
                shift[c] = (beta ? beta[c] : 0.0f) - mean[c] * inv;
            }
            ck_parallel_for(rows, bn_min_rows(C), bn_apply_range, &j);
        }
    }
    free(sums);
    free(scale);
}

void ck_batchnorm_forward_inference(int64_t rows, int64_t channels, const float *x,
                                    const float *gamma, const float *beta,
                                    const float *moving_mean, const float *moving_variance,
                                    float epsilon, int relu, float *y) {
    const int64_t C = channels;
    if (C == 0) return;
    float *scale = malloc((size_t)(2 * C) * sizeof(float));
    if (!scale) return;
    float *shift = scale + C;
    for (int64_t c = 0; c < C; c++) {
        float inv = 1.0f / sqrtf(moving_variance[c] + epsilon);
        if (gamma) inv = inv * gamma[c];
        scale[c] = inv;
        shift[c] = (beta ? beta[c] : 0.0f) - moving_mean[c] * inv;
    }
    bn_job j = {.rows = rows, .channels = C, .x = x, .y = y, .relu = relu, .scale = scale,
                .shift = shift};
    ck_parallel_for(rows, bn_min_rows(C), bn_apply_range, &j);
    free(scale);
}

void ck_batchnorm_backward(int64_t rows, int64_t channels, const float *x, const float *dy,
                           const float *y_relu, const float *mean, const float *variance,
                           const float *gamma, float epsilon, int training, float *dx,
                           float *dgamma, float *dbeta) {
    const int64_t C = channels;
    if (C == 0) return;
    double *sums = malloc((size_t)(2 * C) * sizeof(double));
    float *buf = malloc((size_t)(4 * C) * sizeof(float));
    if (!sums || !buf) {
        free(sums);
        free(buf);
        return;
    }
    float *scale = buf, *k1 = buf + C, *k2 = buf + 2 * C, *rstd = buf + 3 * C;
    bn_job j = {.rows = rows, .channels = C, .x = x, .dy = dy, .y_relu = y_relu, .mean = mean,
                .dx = dx, .scale = scale, .k1 = k1, .k2 = k2, .rstd = rstd};
    if (bn_reduce(&j, 2, sums) == 0) {
        for (int64_t c = 0; c < C; c++) {
            rstd[c] = 1.0f / sqrtf(variance[c] + epsilon);
            const float g = gamma ? gamma[c] : 1.0f;
            const float sum_dy = (float)sums[c], sum_dy_xc = (float)sums[C + c];
            if (dbeta) dbeta[c] = sum_dy;
            if (dgamma) dgamma[c] = sum_dy_xc * rstd[c];
            scale[c] = g * rstd[c];
            if (training && rows > 0) {
                k1[c] = scale[c] * sum_dy / (float)rows;
                k2[c] = scale[c] * rstd[c] * rstd[c] * sum_dy_xc / (float)rows;
            } else {
                k1[c] = 0.0f;
                k2[c] = 0.0f;
            }
        }
        if (dx) ck_parallel_for(rows, bn_min_rows(C), bn_backward_apply_range, &j);
    }
    free(sums);
    free(buf);
}

void ck_batchnorm_update_moving(int64_t channels, float momentum, float one_minus_momentum,
                                const float *mean, const float *variance, float *moving_mean,
                                float *moving_variance) {
    for (int64_t c = 0; c < channels; c++) {
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * one_minus_momentum;
        moving_variance[c] = moving_variance[c] * momentum + variance[c] * one_minus_momentum;
    }
}

/* ---- references: the formulas, one channel at a time, in double ---- */

void ck_batchnorm_forward_training_reference(int64_t rows, int64_t channels, const float *x,
                                             const float *gamma, const float *beta,
                                             float epsilon, int relu, float *y, float *mean,
                                             float *variance) {
    const int64_t C = channels;
    for (int64_t c = 0; c < C; c++) {
        double s = 0.0;
        for (int64_t r = 0; r < rows; r++) s += x[r * C + c];
        mean[c] = (float)(s / (double)rows);
        double v = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double d = (double)x[r * C + c] - mean[c];
            v += d * d;
        }
        variance[c] = (float)(v / (double)rows);
        float inv = 1.0f / sqrtf(variance[c] + epsilon);
        if (gamma) inv = inv * gamma[c];
        float shift = (beta ? beta[c] : 0.0f) - mean[c] * inv;
        for (int64_t r = 0; r < rows; r++) {
            float o = x[r * C + c] * inv + shift;
            y[r * C + c] = relu && o < 0.0f ? 0.0f : o;
        }
    }
}

void ck_batchnorm_backward_reference(int64_t rows, int64_t channels, const float *x,
                                     const float *dy, const float *y_relu, const float *mean,
                                     const float *variance, const float *gamma, float epsilon,
                                     int training, float *dx, float *dgamma, float *dbeta) {
    const int64_t C = channels;
    for (int64_t c = 0; c < C; c++) {
        const double rstd = 1.0 / sqrt((double)variance[c] + epsilon);
        const double g = gamma ? gamma[c] : 1.0;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double d = dy[r * C + c];
            if (y_relu && !(y_relu[r * C + c] > 0.0f)) d = 0.0;
            sum_dy += d;
            sum_dy_xhat += d * ((double)x[r * C + c] - mean[c]) * rstd;
        }
        if (dbeta) dbeta[c] = (float)sum_dy;
        if (dgamma) dgamma[c] = (float)sum_dy_xhat;
        if (!dx) continue;
        for (int64_t r = 0; r < rows; r++) {
            double d = dy[r * C + c];
            if (y_relu && !(y_relu[r * C + c] > 0.0f)) d = 0.0;
            double xhat = ((double)x[r * C + c] - mean[c]) * rstd;
            double v = training ? g * rstd * (d - sum_dy / rows - xhat * sum_dy_xhat / rows)
                                : g * rstd * d;
            dx[r * C + c] = (float)v;
        }
    }
}
