/*
 * eltwise_backward.c — the vector–Jacobian products of the element-wise functions and of the
 * row-wise softmaxes: one fused pass each, instead of the two to four tensor ops (and
 * temporaries) that composing the derivative from forward ops would take.
 *
 * The formulas are TensorFlow's gradient registrations, so gradients match Keras's: they use the
 * forward output y where TF does (tanh: dy·(1 − y²), sigmoid: dy·y·(1 − y), sqrt: dy·0.5/y,
 * exp: dy·y, relu: dy where y > 0), and the sub-gradient conventions at 0 (relu' = abs' = 0).
 *
 * Written once as a loop and compiled for each ISA (as optimizer.c): no transcendental is needed
 * backward, so every path vectorises and agrees bit for bit with the scalar loop, and contraction
 * is off so the roundings are TF's.
 */
#include "internal.h"

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define BACKWARD_MIN_CHUNK 32768

typedef struct {
    ck_unary_op op;
    const float *x, *y, *dy;
    float *dx;
    float p;
} unary_backward_job;

/* dx[i] = dy[i] · f'(x[i]), with f' from x or y as TF computes it. op is a compile-time
 * constant at each call below, so each case is its own branch-free loop. */
INLINE void unary_backward_loop(const unary_backward_job *j, int64_t begin, int64_t end,
                                ck_unary_op op) {
    const float *restrict x = j->x, *restrict y = j->y, *restrict dy = j->dy;
    float *restrict dx = j->dx;
    for (int64_t i = begin; i < end; i++) {
        switch (op) {
        case CK_UNARY_NEG: dx[i] = -dy[i]; break;
        case CK_UNARY_EXP: dx[i] = dy[i] * y[i]; break;
        case CK_UNARY_LOG: dx[i] = dy[i] / x[i]; break;
        case CK_UNARY_SQRT: dx[i] = dy[i] * 0.5f / y[i]; break;
        case CK_UNARY_ABS: dx[i] = x[i] > 0.0f ? dy[i] : (x[i] < 0.0f ? -dy[i] : 0.0f); break;
        case CK_UNARY_TANH: dx[i] = dy[i] * (1.0f - y[i] * y[i]); break;
        case CK_UNARY_SIGMOID: dx[i] = dy[i] * y[i] * (1.0f - y[i]); break;
        case CK_UNARY_RELU: dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; break;
        case CK_UNARY_SQUARE: dx[i] = dy[i] * (2.0f * x[i]); break;
        }
    }
}

/* d/dx x^p = p·x^(p−1), TF's PowGrad for a constant exponent: dy·p·x^(p−1) with x^(p−1)
 * computed as y/x would lose x == 0; use the powf of the reference instead (scalar: rare op). */
INLINE void pow_backward_loop(const unary_backward_job *j, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        float x = j->x[i], p = j->p;
        float d = p == 2.0f ? 2.0f * x : (p == 1.0f ? 1.0f : p * __builtin_powf(x, p - 1.0f));
        j->dx[i] = j->dy[i] * d;
    }
}

#define UNARY_CASES(j, b, e)                                                                     \
    switch ((j)->op) {                                                                           \
    case CK_UNARY_NEG: unary_backward_loop(j, b, e, CK_UNARY_NEG); break;                        \
    case CK_UNARY_EXP: unary_backward_loop(j, b, e, CK_UNARY_EXP); break;                        \
    case CK_UNARY_LOG: unary_backward_loop(j, b, e, CK_UNARY_LOG); break;                        \
    case CK_UNARY_SQRT: unary_backward_loop(j, b, e, CK_UNARY_SQRT); break;                      \
    case CK_UNARY_ABS: unary_backward_loop(j, b, e, CK_UNARY_ABS); break;                        \
    case CK_UNARY_TANH: unary_backward_loop(j, b, e, CK_UNARY_TANH); break;                      \
    case CK_UNARY_SIGMOID: unary_backward_loop(j, b, e, CK_UNARY_SIGMOID); break;                \
    case CK_UNARY_RELU: unary_backward_loop(j, b, e, CK_UNARY_RELU); break;                      \
    case CK_UNARY_SQUARE: unary_backward_loop(j, b, e, CK_UNARY_SQUARE); break;                  \
    }

static void unary_backward_generic(const unary_backward_job *j, int64_t b, int64_t e) {
    UNARY_CASES(j, b, e)
}
CK_TARGET_AVX2 static void unary_backward_avx2(const unary_backward_job *j, int64_t b, int64_t e) {
    UNARY_CASES(j, b, e)
}
CK_TARGET_AVX512 static void unary_backward_avx512(const unary_backward_job *j, int64_t b,
                                                   int64_t e) {
    UNARY_CASES(j, b, e)
}

static void unary_backward_range(void *ctx, int64_t begin, int64_t end) {
    const unary_backward_job *j = ctx;
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: unary_backward_avx512(j, begin, end); break;
    case CK_ISA_AVX2: unary_backward_avx2(j, begin, end); break;
    default: unary_backward_generic(j, begin, end); break;
    }
}

void ck_unary_backward(ck_unary_op op, int64_t n, const float *x, const float *y, const float *dy,
                       float *dx) {
    unary_backward_job j = {.op = op, .x = x, .y = y, .dy = dy, .dx = dx};
    ck_parallel_for(n, BACKWARD_MIN_CHUNK, unary_backward_range, &j);
}

static void pow_backward_range(void *ctx, int64_t begin, int64_t end) {
    pow_backward_loop(ctx, begin, end);
}

void ck_pow_scalar_backward(int64_t n, const float *x, float p, const float *dy, float *dx) {
    unary_backward_job j = {.x = x, .dy = dy, .dx = dx, .p = p};
    ck_parallel_for(n, BACKWARD_MIN_CHUNK, pow_backward_range, &j);
}

/* ---- softmax and log-softmax over rows ---- */

typedef struct {
    int64_t cols;
    const float *y, *dy;
    float *dx;
    int log;
} softmax_backward_job;

/* softmax:     dx = y · (dy − Σ_j dy_j·y_j)      (TF's _SoftmaxGrad)
 * log-softmax: dx = dy − exp(y) · Σ_j dy_j        (TF's _LogSoftmaxGrad) */
static void softmax_backward_rows(void *ctx, int64_t begin, int64_t end) {
    const softmax_backward_job *j = ctx;
    const int64_t cols = j->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = j->y + r * cols, *dy = j->dy + r * cols;
        float *dx = j->dx + r * cols;
        float sum = 0.0f;
        if (j->log) {
            for (int64_t c = 0; c < cols; c++) sum += dy[c];
            for (int64_t c = 0; c < cols; c++) dx[c] = dy[c] - __builtin_expf(y[c]) * sum;
        } else {
            for (int64_t c = 0; c < cols; c++) sum += dy[c] * y[c];
            for (int64_t c = 0; c < cols; c++) dx[c] = y[c] * (dy[c] - sum);
        }
    }
}

void ck_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx) {
    softmax_backward_job j = {cols, y, dy, dx, 0};
    ck_parallel_for(rows, BACKWARD_MIN_CHUNK / (cols > 0 ? cols : 1) + 1, softmax_backward_rows, &j);
}

void ck_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy,
                             float *dx) {
    softmax_backward_job j = {cols, y, dy, dx, 1};
    ck_parallel_for(rows, BACKWARD_MIN_CHUNK / (cols > 0 ? cols : 1) + 1, softmax_backward_rows, &j);
}

/* ---- binary functions whose derivatives need a comparison or a logarithm ---- */

typedef struct {
    const float *x, *y, *z, *dz;
    float *dx, *dy;
    int is_max;
} binary_backward_job;

/* maximum: x takes the gradient where x >= y (ties go to the first argument, TF's
 * _MaximumGrad), y elsewhere; minimum: x where x <= y. Either output may be NULL. */
static void minmax_backward_range(void *ctx, int64_t begin, int64_t end) {
    const binary_backward_job *j = ctx;
    for (int64_t i = begin; i < end; i++) {
        int to_x = j->is_max ? j->x[i] >= j->y[i] : j->x[i] <= j->y[i];
        if (j->dx) j->dx[i] = to_x ? j->dz[i] : 0.0f;
        if (j->dy) j->dy[i] = to_x ? 0.0f : j->dz[i];
    }
}

void ck_minmax_backward(int is_max, int64_t n, const float *x, const float *y, const float *dz,
                        float *dx, float *dy) {
    binary_backward_job j = {.x = x, .y = y, .dz = dz, .dx = dx, .dy = dy, .is_max = is_max};
    ck_parallel_for(n, BACKWARD_MIN_CHUNK, minmax_backward_range, &j);
}

/* z = x^y: dx = dz·y·x^(y−1); dy = dz·z·log(x) where x > 0, else 0 (TF's _PowGrad). */
static void pow_backward_both_range(void *ctx, int64_t begin, int64_t end) {
    const binary_backward_job *j = ctx;
    for (int64_t i = begin; i < end; i++) {
        const float x = j->x[i], y = j->y[i];
        if (j->dx) j->dx[i] = j->dz[i] * (y * __builtin_powf(x, y - 1.0f));
        if (j->dy) j->dy[i] = x > 0.0f ? j->dz[i] * (j->z[i] * __builtin_logf(x)) : 0.0f;
    }
}

void ck_pow_backward(int64_t n, const float *x, const float *y, const float *z, const float *dz,
                     float *dx, float *dy) {
    binary_backward_job j = {.x = x, .y = y, .z = z, .dz = dz, .dx = dx, .dy = dy};
    ck_parallel_for(n, BACKWARD_MIN_CHUNK, pow_backward_both_range, &j);
}

typedef struct {
    const float *a, *b;
    float *mask;
} equal_job;

static void equal_mask_range(void *ctx, int64_t begin, int64_t end) {
    const equal_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->mask[i] = j->a[i] == j->b[i] ? 1.0f : 0.0f;
}

void ck_equal_mask(int64_t n, const float *a, const float *b, float *mask) {
    equal_job j = {a, b, mask};
    ck_parallel_for(n, BACKWARD_MIN_CHUNK, equal_mask_range, &j);
}
