/*
 * optimizer.c — the optimizers' update steps, each one fused pass over a variable and its slots.
 *
 * The arithmetic is Keras's, operation for operation and rounding for rounding (KERAS_SPEC §5):
 * every product and sum is rounded to float32 separately, so FMA contraction is switched off
 * here — a fused multiply-add would round once where Keras rounds twice, and the trajectories
 * would drift apart in the last bit. Hyper-parameters such as 1 - beta_1 arrive precomputed
 * (Keras computes them in float64 and casts), so the kernels only see float32 scalars.
 *
 * Each update is written once as a loop; the AVX-512, AVX2 and generic variants are that loop
 * compiled for each ISA (it vectorises; IEEE division and square root round the same in every
 * lane width, so all paths agree bit for bit with a scalar loop of the same formula).
 */
#include "internal.h"

#include <math.h>

#pragma clang fp contract(off)

/* Updates cost ~10 flops per element and stream 3–5 arrays: threads pay off past ~64K. */
#define UPDATE_MIN_CHUNK 32768

/* sqrt without errno (Keras never sees a negative argument here), so the loops vectorise. */
#define SQRT(x) __builtin_elementwise_sqrt(x)
#define INLINE static inline __attribute__((always_inline))

typedef struct {
    float *w;
    const float *g;
    float *velocity, *m, *v, *v_hat, *mean_g, *momentum_buf, *acc;
    float lr, momentum, alpha, one_minus_beta1, one_minus_beta2, epsilon, rho, one_minus_rho;
    float decay;
    int nesterov;
} update_params;

/* ---- the updates, one loop each; flags are compile-time constants at every call site below,
 *      so each variant compiles to its own branch-free vector loop ---- */

/* SGD: w -= g·lr; with momentum m = -g·lr + m·μ, w += m (nesterov: w += -g·lr + m·μ). */
INLINE void sgd_loop(const update_params *p, int64_t begin, int64_t end, int momentum,
                     int nesterov) {
    float *restrict w = p->w, *restrict vel = p->velocity;
    const float *restrict g = p->g;
    const float lr = p->lr, mu = p->momentum;
    for (int64_t i = begin; i < end; i++) {
        if (!momentum) {
            w[i] = w[i] - g[i] * lr;
        } else {
            float m = -g[i] * lr + vel[i] * mu;
            vel[i] = m;
            w[i] = nesterov ? w[i] + (-g[i] * lr + m * mu) : w[i] + m;
        }
    }
}

/* Adam, Keras's epsilon-hat form: m += (g-m)(1-β1); v += (g²-v)(1-β2);
 * amsgrad: v̂ = max(v̂, v) is used; w -= m·α / (sqrt(v) + ε). */
INLINE void adam_loop(const update_params *p, int64_t begin, int64_t end, int amsgrad) {
    float *restrict w = p->w, *restrict m = p->m, *restrict v = p->v, *restrict vh = p->v_hat;
    const float *restrict g = p->g;
    const float a = p->alpha, b1 = p->one_minus_beta1, b2 = p->one_minus_beta2, eps = p->epsilon;
    for (int64_t i = begin; i < end; i++) {
        float mi = m[i] + (g[i] - m[i]) * b1;
        float vi = v[i] + (g[i] * g[i] - v[i]) * b2;
        m[i] = mi;
        v[i] = vi;
        if (amsgrad) {
            vi = vh[i] > vi ? vh[i] : vi;
            vh[i] = vi;
        }
        w[i] = w[i] - (mi * a) / (SQRT(vi) + eps);
    }
}

/* RMSprop: v = ρv + (1-ρ)g²; centered: ḡ = ρḡ + (1-ρ)g, den = v - ḡ² + ε, else den = v + ε;
 * inc = lr·g / sqrt(den); momentum: mom = μ·mom + inc, w -= mom; else w -= inc. */
INLINE void rmsprop_loop(const update_params *p, int64_t begin, int64_t end, int centered,
                         int momentum) {
    float *restrict w = p->w, *restrict v = p->v, *restrict mg = p->mean_g,
                    *restrict mom = p->momentum_buf;
    const float *restrict g = p->g;
    const float lr = p->lr, rho = p->rho, omr = p->one_minus_rho, mu = p->momentum,
                eps = p->epsilon;
    for (int64_t i = begin; i < end; i++) {
        float vi = rho * v[i] + omr * (g[i] * g[i]);
        v[i] = vi;
        float den = vi + eps;
        if (centered) {
            float a = rho * mg[i] + omr * g[i];
            mg[i] = a;
            den = vi - a * a + eps;
        }
        float inc = lr * g[i] / SQRT(den);
        if (momentum) {
            float mi = mu * mom[i] + inc;
            mom[i] = mi;
            w[i] = w[i] - mi;
        } else {
            w[i] = w[i] - inc;
        }
    }
}

/* Adagrad: acc += g²; w -= lr·g / sqrt(acc + ε). */
INLINE void adagrad_loop(const update_params *p, int64_t begin, int64_t end) {
    float *restrict w = p->w, *restrict acc = p->acc;
    const float *restrict g = p->g;
    const float lr = p->lr, eps = p->epsilon;
    for (int64_t i = begin; i < end; i++) {
        float ai = acc[i] + g[i] * g[i];
        acc[i] = ai;
        w[i] = w[i] - lr * g[i] / SQRT(ai + eps);
    }
}

/* Decoupled weight decay, Keras's order of rounding: w = w - (w·wd)·lr. */
INLINE void decay_loop(const update_params *p, int64_t begin, int64_t end) {
    float *restrict w = p->w;
    const float wd = p->decay, lr = p->lr;
    for (int64_t i = begin; i < end; i++) w[i] = w[i] - w[i] * wd * lr;
}

/* Picks the variant from the parameters; expanded once per ISA below. */
#define RUN_UPDATE(kind, p, b, e)                                                                \
    switch (kind) {                                                                              \
    case SGD:                                                                                    \
        if (!(p)->velocity) sgd_loop(p, b, e, 0, 0);                                             \
        else if ((p)->nesterov) sgd_loop(p, b, e, 1, 1);                                         \
        else sgd_loop(p, b, e, 1, 0);                                                            \
        break;                                                                                   \
    case ADAM:                                                                                   \
        if ((p)->v_hat) adam_loop(p, b, e, 1);                                                   \
        else adam_loop(p, b, e, 0);                                                              \
        break;                                                                                   \
    case RMSPROP:                                                                                \
        if ((p)->mean_g && (p)->momentum_buf) rmsprop_loop(p, b, e, 1, 1);                       \
        else if ((p)->mean_g) rmsprop_loop(p, b, e, 1, 0);                                       \
        else if ((p)->momentum_buf) rmsprop_loop(p, b, e, 0, 1);                                 \
        else rmsprop_loop(p, b, e, 0, 0);                                                        \
        break;                                                                                   \
    case ADAGRAD: adagrad_loop(p, b, e); break;                                                  \
    case DECAY: decay_loop(p, b, e); break;                                                      \
    }

typedef enum { SGD, ADAM, RMSPROP, ADAGRAD, DECAY } update_kind;

typedef struct {
    update_kind kind;
    update_params params;
} update_job;

static void update_generic(update_kind kind, const update_params *p, int64_t b, int64_t e) {
    RUN_UPDATE(kind, p, b, e)
}

CK_TARGET_AVX2 static void update_avx2(update_kind kind, const update_params *p, int64_t b,
                                       int64_t e) {
    RUN_UPDATE(kind, p, b, e)
}

CK_TARGET_AVX512 static void update_avx512(update_kind kind, const update_params *p, int64_t b,
                                           int64_t e) {
    RUN_UPDATE(kind, p, b, e)
}

static void update_range(void *ctx, int64_t begin, int64_t end) {
    const update_job *job = ctx;
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: update_avx512(job->kind, &job->params, begin, end); break;
    case CK_ISA_AVX2: update_avx2(job->kind, &job->params, begin, end); break;
    default: update_generic(job->kind, &job->params, begin, end); break;
    }
}

static void run_update(int64_t n, update_kind kind, update_params params) {
    update_job job = {kind, params};
    ck_parallel_for(n, UPDATE_MIN_CHUNK, update_range, &job);
}

void ck_sgd_update(int64_t n, float *w, const float *g, float *velocity, float lr, float momentum,
                   int nesterov) {
    run_update(n, SGD, (update_params){.w = w, .g = g, .velocity = velocity, .lr = lr,
                                       .momentum = momentum, .nesterov = nesterov});
}

void ck_adam_update(int64_t n, float *w, const float *g, float *m, float *v, float *v_hat,
                    float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon) {
    run_update(n, ADAM, (update_params){.w = w, .g = g, .m = m, .v = v, .v_hat = v_hat,
                                        .alpha = alpha, .one_minus_beta1 = one_minus_beta1,
                                        .one_minus_beta2 = one_minus_beta2, .epsilon = epsilon});
}

void ck_rmsprop_update(int64_t n, float *w, const float *g, float *v, float *mean_g,
                       float *momentum_buf, float lr, float rho, float one_minus_rho,
                       float momentum, float epsilon) {
    run_update(n, RMSPROP, (update_params){.w = w, .g = g, .v = v, .mean_g = mean_g,
                                           .momentum_buf = momentum_buf, .lr = lr, .rho = rho,
                                           .one_minus_rho = one_minus_rho, .momentum = momentum,
                                           .epsilon = epsilon});
}

void ck_adagrad_update(int64_t n, float *w, const float *g, float *acc, float lr, float epsilon) {
    run_update(n, ADAGRAD, (update_params){.w = w, .g = g, .acc = acc, .lr = lr, .epsilon = epsilon});
}

void ck_weight_decay(int64_t n, float *w, float weight_decay, float lr) {
    run_update(n, DECAY, (update_params){.w = w, .decay = weight_decay, .lr = lr});
}

/* ---- gradient clipping's norms ---- */

typedef struct {
    int64_t n;
    const float *x;
    double partial[64];
} sum_squares_job;

static void sum_squares_body(void *ctx, int thread, int nthreads) {
    sum_squares_job *job = ctx;
    int64_t begin, end;
    ck_split_range(job->n, nthreads, thread, 16, &begin, &end);
    double sum = 0.0;
    for (int64_t i = begin; i < end; i++) sum += (double)job->x[i] * job->x[i];
    job->partial[thread] = sum;
}

double ck_sum_of_squares(int64_t n, const float *x) {
    sum_squares_job job = {.n = n, .x = x};
    int threads = n >= 2 * UPDATE_MIN_CHUNK ? CK_MIN(ck_num_threads(), 64) : 1;
    ck_parallel_run(threads, sum_squares_body, &job);
    double sum = 0.0;  // summed in thread order, so the result depends only on the thread count
    for (int t = 0; t < threads; t++) sum += job.partial[t];
    return sum;
}
