/*
 * activation.c — the activations Keras names beyond relu/sigmoid/tanh/softmax (which eltwise.c
 * and the GEMM epilogue own): elu, selu, leaky_relu, gelu (exact erf form and the tanh
 * approximation), swish/silu, softplus, softsign, relu6, hard_sigmoid, hard_silu, exponential,
 * mish — forward, backward (the vector–Jacobian product a layer records as one tape node), and
 * a vector erf.
 *
 * Structure. Every function is written once as plain C over a block of at most BLOCK elements
 * and compiled three times (generic, AVX2, AVX-512), like optimizer.c. Plain arithmetic,
 * comparisons and selects auto-vectorise; the transcendentals cannot (a libm call stops the
 * vectoriser), so they run as separate in-place passes over a small stack buffer — exp, log,
 * tanh, sigmoid from vmath.h on the vector paths, libm on the generic one
 * (transcendental_passes.c, shared with activation_extra.c). A function is then
 * "fill the buffer with a plain loop, transform it, combine with a plain loop", and the buffer
 * stays in L1.
 *
 * Formulas follow TensorFlow's kernels and gradients, which Keras 3 calls:
 *   elu(α)       x > 0 ? x : α(eˣ − 1)            d: x > 0 ? 1 : y + α   (TF EluGrad: y + 1 at α = 1,
 *                                                                       so the slope at 0 is 1)
 *   selu         x < 0 ? λα(eˣ − 1) : λx           d: y < 0 ? y + λα : λ  (TF SeluGrad)
 *   leaky_relu   x > 0 ? x : αx                    d: x > 0 ? 1 : α      (slope α at 0)
 *   gelu         (x/2)(1 + erf(x/√2))              d: ½(1 + erf(x/√2)) + x·e^{−x²/2}/√(2π)
 *   gelu_tanh    (x/2)(1 + tanh(√(2/π)(x + 0.044715x³)))
 *   swish        x·σ(x)                            d: σ(1 + x(1 − σ))    (TF's silu gradient)
 *   softplus     max(x, 0) + log1p(e^{−|x|})       d: σ(x)               (TF SoftplusGrad)
 *   softsign     x / (1 + |x|)                     d: 1 / (1 + |x|)²
 *   relu6        min(max(x, 0), 6)                 d: 0 < x < 6
 *   hard_sigmoid relu6(x + 3) / 6                  d: −3 < x < 3 ? 1/6 : 0
 *   hard_silu    x·hard_sigmoid(x)
 *   exponential  eˣ                                d: y
 *   mish         x·tanh(softplus(x))               d: t + x(1 − t²)σ(x), t = tanh(softplus(x))
 * softplus uses log1p(u) = log(1 + u)·u / ((1 + u) − 1) (Goldberg's correction), which keeps full
 * relative accuracy for large negative x where TF's log(eˣ + 1) keeps only absolute accuracy.
 *
 * erf (no vector erf exists in vmath.h or libm): for |x| < 0.875, erf(x) = x + x·P(x²) with P of
 * degree 6; otherwise erf(x) = 1 − e^{−x²}·S(1/x − 0.7) with S of degree 10, fitted (relative
 * least squares on Chebyshev nodes, mpmath reference) to erfc(x)·e^{x²} on [0.875, 4]. |x| is
 * clamped to 4, where erf rounds to 1 in float. With a correctly rounded exp this is within 1 ulp
 * of the correctly rounded erf over every float (checked exhaustively); the vector exp adds at
 * most one more. The tests compare it with libm's erff.
 *
 * Contraction is off so each path rounds as written; the paths differ only in the exp/log/tanh
 * they call (≤ 2 ulp each, vmath.h), and the tests compare all of them with the double-precision
 * reference below.
 */
#include "internal.h"
#include "transcendental_passes.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define BLOCK 256         /* elements per stack buffer: 1 KiB each, three of them */
#define ACT_MIN_CHUNK 4096 /* transcendental work: threads pay off earlier than for copies */

#define SELU_SCALE 1.0507009873554804934193349852946f
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123f
#define GELU_SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_CUBIC 0.044715f
#define INV_SQRT_2PI 0.3989422804014327f


/* out = erf(a) for len elements; t is scratch. */
INLINE void erf_block(int64_t len, const float *restrict a, float *restrict out, float *restrict t,
                      const ck_transcendental_passes *p) {
    for (int64_t i = 0; i < len; i++) {
        float ax = fminf(fabsf(a[i]), 4.0f);
        t[i] = -(ax * ax);
    }
    p->exp(ck_pad16(len, t), t);
    for (int64_t i = 0; i < len; i++) {
        float ax = fminf(fabsf(a[i]), 4.0f);
        float z = ax * ax;
        float q = 8.671101267e-05f;
        q = q * z + -8.210109186e-04f;
        q = q * z + 5.206660757e-03f;
        q = q * z + -2.686154979e-02f;
        q = q * z + 1.128373236e-01f;
        q = q * z + -3.761263602e-01f;
        q = q * z + 1.283791671e-01f;
        float small = ax + ax * q;
        float u = 1.0f / ax - 0.7f;
        float s = -2.182155561e-02f;
        s = s * u + 1.041213589e-02f;
        s = s * u + 1.265130717e-02f;
        s = s * u + -2.287141706e-02f;
        s = s * u + 3.036046000e-02f;
        s = s * u + -3.028735026e-02f;
        s = s * u + 9.014134892e-03f;
        s = s * u + 4.845529229e-02f;
        s = s * u + -1.619392575e-01f;
        s = s * u + 3.571957010e-01f;
        s = s * u + 3.336736555e-01f;
        float large = 1.0f - t[i] * s;
        float r = ax < 0.875f ? small : large;
        r = copysignf(r, a[i]);
        out[i] = a[i] != a[i] ? a[i] : r; /* fminf dropped a NaN; put it back */
    }
}

/* out = softplus(x) = max(x, 0) + log1p(e^{−|x|}); u and w are scratch. */
INLINE void softplus_block(int64_t len, const float *restrict x, float *restrict out,
                           float *restrict u, float *restrict w, const ck_transcendental_passes *p) {
    for (int64_t i = 0; i < len; i++) u[i] = -fabsf(x[i]);
    p->exp(ck_pad16(len, u), u); /* u = e^{−|x|} in (0, 1] */
    for (int64_t i = 0; i < len; i++) w[i] = 1.0f + u[i];
    p->log(ck_pad16(len, w), w);
    for (int64_t i = 0; i < len; i++) {
        float d = (1.0f + u[i]) - 1.0f;
        float log1p_u = d == 0.0f ? u[i] : w[i] * (u[i] / d);
        out[i] = (x[i] > 0.0f ? x[i] : 0.0f) + log1p_u;
    }
}

typedef struct {
    ck_act_fn fn;
    float alpha;
    const float *x, *y, *dy;
    float *out; /* y forward, dx backward */
} act_job;

/* y[0, len) = f(x[0, len)). */
INLINE void forward_block(ck_act_fn fn, float alpha, int64_t len, const float *restrict x,
                          float *restrict y, float *restrict t1, float *restrict t2,
                          float *restrict t3, const ck_transcendental_passes *p) {
    switch (fn) {
    case CK_ACT_FN_ELU:
    case CK_ACT_FN_SELU: {
        for (int64_t i = 0; i < len; i++) t1[i] = x[i] > 0.0f ? 0.0f : x[i]; /* NaN stays NaN */
        p->exp(ck_pad16(len, t1), t1);
        if (fn == CK_ACT_FN_ELU) {
            for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * (t1[i] - 1.0f);
        } else {
            for (int64_t i = 0; i < len; i++)
                y[i] = x[i] < 0.0f ? SELU_SCALE_ALPHA * (t1[i] - 1.0f) : SELU_SCALE * x[i];
        }
        break;
    }
    case CK_ACT_FN_LEAKY_RELU:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
        break;
    case CK_ACT_FN_GELU:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i] / 1.4142135623730951f;
        erf_block(len, t1, t2, t3, p);
        for (int64_t i = 0; i < len; i++) y[i] = (0.5f * x[i]) * (1.0f + t2[i]);
        break;
    case CK_ACT_FN_GELU_TANH:
        for (int64_t i = 0; i < len; i++)
            t1[i] = GELU_SQRT_2_OVER_PI * (x[i] + GELU_CUBIC * (x[i] * x[i] * x[i]));
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) y[i] = (0.5f * x[i]) * (1.0f + t1[i]);
        break;
    case CK_ACT_FN_SWISH:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->sigmoid(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) y[i] = x[i] * t1[i];
        break;
    case CK_ACT_FN_SOFTPLUS:
        softplus_block(len, x, y, t1, t2, p);
        break;
    case CK_ACT_FN_SOFTSIGN:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case CK_ACT_FN_RELU6:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
        break;
    case CK_ACT_FN_HARD_SIGMOID:
    case CK_ACT_FN_HARD_SILU:
        for (int64_t i = 0; i < len; i++) {
            float r = x[i] + 3.0f;
            r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
            y[i] = fn == CK_ACT_FN_HARD_SILU ? x[i] * (r / 6.0f) : r / 6.0f;
        }
        break;
    case CK_ACT_FN_EXPONENTIAL:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->exp(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) y[i] = t1[i];
        break;
    case CK_ACT_FN_MISH:
        softplus_block(len, x, t1, t2, t3, p);
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) y[i] = x[i] * t1[i];
        break;
    }
}

/* dx[0, len) = dy · f'(x), using y = f(x) where TF's gradient does. */
INLINE void backward_block(ck_act_fn fn, float alpha, int64_t len, const float *restrict x,
                           const float *restrict y, const float *restrict dy, float *restrict dx,
                           float *restrict t1, float *restrict t2, float *restrict t3,
                           const ck_transcendental_passes *p) {
    switch (fn) {
    case CK_ACT_FN_ELU:
        for (int64_t i = 0; i < len; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
        break;
    case CK_ACT_FN_SELU:
        for (int64_t i = 0; i < len; i++)
            dx[i] = y[i] < 0.0f ? dy[i] * (y[i] + SELU_SCALE_ALPHA) : dy[i] * SELU_SCALE;
        break;
    case CK_ACT_FN_LEAKY_RELU:
        for (int64_t i = 0; i < len; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * alpha;
        break;
    case CK_ACT_FN_GELU:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i] / 1.4142135623730951f;
        erf_block(len, t1, t2, t3, p);
        for (int64_t i = 0; i < len; i++) t1[i] = -(t1[i] * t1[i]);
        p->exp(ck_pad16(len, t1), t1); /* e^{−x²/2} */
        for (int64_t i = 0; i < len; i++)
            dx[i] = dy[i] * (0.5f * (1.0f + t2[i]) + x[i] * (INV_SQRT_2PI * t1[i]));
        break;
    case CK_ACT_FN_GELU_TANH:
        for (int64_t i = 0; i < len; i++)
            t1[i] = GELU_SQRT_2_OVER_PI * (x[i] + GELU_CUBIC * (x[i] * x[i] * x[i]));
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) {
            float t = t1[i];
            float inner = GELU_SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * (x[i] * x[i]));
            dx[i] = dy[i] * (0.5f * (1.0f + t) + (0.5f * x[i]) * ((1.0f - t * t) * inner));
        }
        break;
    case CK_ACT_FN_SWISH:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->sigmoid(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) dx[i] = dy[i] * (t1[i] * (1.0f + x[i] * (1.0f - t1[i])));
        break;
    case CK_ACT_FN_SOFTPLUS:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->sigmoid(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) dx[i] = dy[i] * t1[i];
        break;
    case CK_ACT_FN_SOFTSIGN:
        for (int64_t i = 0; i < len; i++) {
            float a = 1.0f + fabsf(x[i]);
            dx[i] = dy[i] / (a * a);
        }
        break;
    case CK_ACT_FN_RELU6:
        for (int64_t i = 0; i < len; i++) dx[i] = (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
        break;
    case CK_ACT_FN_HARD_SIGMOID:
        for (int64_t i = 0; i < len; i++)
            dx[i] = (x[i] > -3.0f && x[i] < 3.0f) ? dy[i] / 6.0f : 0.0f;
        break;
    case CK_ACT_FN_HARD_SILU:
        for (int64_t i = 0; i < len; i++) {
            float r = x[i] + 3.0f;
            r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
            float slope = (x[i] > -3.0f && x[i] < 3.0f) ? x[i] / 6.0f : 0.0f;
            dx[i] = dy[i] * (r / 6.0f + slope);
        }
        break;
    case CK_ACT_FN_EXPONENTIAL:
        for (int64_t i = 0; i < len; i++) dx[i] = dy[i] * y[i];
        break;
    case CK_ACT_FN_MISH:
        softplus_block(len, x, t1, t2, t3, p);
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) t2[i] = x[i];
        p->sigmoid(ck_pad16(len, t2), t2);
        for (int64_t i = 0; i < len; i++) {
            float t = t1[i];
            dx[i] = dy[i] * (t + x[i] * ((1.0f - t * t) * t2[i]));
        }
        break;
    }
}

/* One thread's range, in blocks of BLOCK elements with three scratch buffers (12 KiB). */
INLINE void forward_range(const act_job *j, int64_t begin, int64_t end, const ck_transcendental_passes *p) {
    float t1[BLOCK], t2[BLOCK], t3[BLOCK];
    for (int64_t b = begin; b < end; b += BLOCK)
        forward_block(j->fn, j->alpha, CK_MIN(BLOCK, end - b), j->x + b, j->out + b, t1, t2, t3, p);
}

INLINE void backward_range(const act_job *j, int64_t begin, int64_t end, const ck_transcendental_passes *p) {
    float t1[BLOCK], t2[BLOCK], t3[BLOCK];
    for (int64_t b = begin; b < end; b += BLOCK) {
        int64_t len = CK_MIN(BLOCK, end - b);
        backward_block(j->fn, j->alpha, len, j->x + b, j->y ? j->y + b : NULL, j->dy + b,
                       j->out + b, t1, t2, t3, p);
    }
}

INLINE void erf_range(const act_job *j, int64_t begin, int64_t end, const ck_transcendental_passes *p) {
    float t[BLOCK];
    for (int64_t b = begin; b < end; b += BLOCK)
        erf_block(CK_MIN(BLOCK, end - b), j->x + b, j->out + b, t, p);
}

static void forward_generic(const act_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_generic); }
static void backward_generic(const act_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_generic); }
static void erf_generic(const act_job *j, int64_t b, int64_t e) { erf_range(j, b, e, &ck_passes_generic); }

#ifdef CK_HAVE_X86
CK_TARGET_AVX2 static void forward_avx2(const act_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX2 static void backward_avx2(const act_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX2 static void erf_avx2(const act_job *j, int64_t b, int64_t e) { erf_range(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX512 static void forward_avx512(const act_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_avx512); }
CK_TARGET_AVX512 static void backward_avx512(const act_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_avx512); }
CK_TARGET_AVX512 static void erf_avx512(const act_job *j, int64_t b, int64_t e) { erf_range(j, b, e, &ck_passes_avx512); }
#define DISPATCH(name, j, b, e)                                                                   \
    switch (ck_isa_active()) {                                                                   \
    case CK_ISA_AVX512: name##_avx512(j, b, e); break;                                           \
    case CK_ISA_AVX2: name##_avx2(j, b, e); break;                                               \
    default: name##_generic(j, b, e); break;                                                     \
    }
#else
#define DISPATCH(name, j, b, e) name##_generic(j, b, e)
#endif

static void forward_any(void *ctx, int64_t b, int64_t e) { DISPATCH(forward, (const act_job *)ctx, b, e) }
static void backward_any(void *ctx, int64_t b, int64_t e) { DISPATCH(backward, (const act_job *)ctx, b, e) }
static void erf_any(void *ctx, int64_t b, int64_t e) { DISPATCH(erf, (const act_job *)ctx, b, e) }

void ck_activation_forward(ck_act_fn fn, float alpha, int64_t n, const float *x, float *y) {
    act_job j = {.fn = fn, .alpha = alpha, .x = x, .out = y};
    ck_parallel_for(n, ACT_MIN_CHUNK, forward_any, &j);
}

void ck_activation_backward(ck_act_fn fn, float alpha, int64_t n, const float *x, const float *y,
                            const float *dy, float *dx) {
    act_job j = {.fn = fn, .alpha = alpha, .x = x, .y = y, .dy = dy, .out = dx};
    ck_parallel_for(n, ACT_MIN_CHUNK, backward_any, &j);
}

void ck_erf(int64_t n, const float *x, float *y) {
    act_job j = {.x = x, .out = y};
    ck_parallel_for(n, ACT_MIN_CHUNK, erf_any, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* References: the defining formulas in double precision, one element at a time                 */
/* ------------------------------------------------------------------------------------------ */

static double softplus_d(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }
static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }
static double hard_sigmoid_d(double x) { double r = x + 3; return (r < 0 ? 0 : (r > 6 ? 6 : r)) / 6; }

static double forward_d(ck_act_fn fn, double a, double x) {
    const double sa = 1.7580993408473768599402175208123, s = 1.0507009873554804934193349852946;
    switch (fn) {
    case CK_ACT_FN_ELU: return x > 0 ? x : a * expm1(x);
    case CK_ACT_FN_SELU: return x < 0 ? sa * expm1(x) : s * x;
    case CK_ACT_FN_LEAKY_RELU: return x > 0 ? x : a * x;
    case CK_ACT_FN_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case CK_ACT_FN_GELU_TANH:
        return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case CK_ACT_FN_SWISH: return x * sigmoid_d(x);
    case CK_ACT_FN_SOFTPLUS: return softplus_d(x);
    case CK_ACT_FN_SOFTSIGN: return x / (1 + fabs(x));
    case CK_ACT_FN_RELU6: return x < 0 ? 0 : (x > 6 ? 6 : x);
    case CK_ACT_FN_HARD_SIGMOID: return hard_sigmoid_d(x);
    case CK_ACT_FN_HARD_SILU: return x * hard_sigmoid_d(x);
    case CK_ACT_FN_EXPONENTIAL: return exp(x);
    case CK_ACT_FN_MISH: return x * tanh(softplus_d(x));
    }
    return NAN;
}

static double derivative_d(ck_act_fn fn, double a, double x) {
    const double sa = 1.7580993408473768599402175208123, s = 1.0507009873554804934193349852946;
    switch (fn) {
    case CK_ACT_FN_ELU: return x > 0 ? 1 : a * exp(x);
    case CK_ACT_FN_SELU: return x < 0 ? sa * exp(x) : s;
    case CK_ACT_FN_LEAKY_RELU: return x > 0 ? 1 : a;
    case CK_ACT_FN_GELU:
        return 0.5 * (1 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2 * M_PI);
    case CK_ACT_FN_GELU_TANH: {
        double c = sqrt(2 / M_PI), t = tanh(c * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
    }
    case CK_ACT_FN_SWISH: { double sg = sigmoid_d(x); return sg * (1 + x * (1 - sg)); }
    case CK_ACT_FN_SOFTPLUS: return sigmoid_d(x);
    case CK_ACT_FN_SOFTSIGN: return 1 / ((1 + fabs(x)) * (1 + fabs(x)));
    case CK_ACT_FN_RELU6: return x > 0 && x < 6 ? 1 : 0;
    case CK_ACT_FN_HARD_SIGMOID: return x > -3 && x < 3 ? 1.0 / 6 : 0;
    case CK_ACT_FN_HARD_SILU: return hard_sigmoid_d(x) + (x > -3 && x < 3 ? x / 6 : 0);
    case CK_ACT_FN_EXPONENTIAL: return exp(x);
    case CK_ACT_FN_MISH: {
        double t = tanh(softplus_d(x));
        return t + x * (1 - t * t) * sigmoid_d(x);
    }
    }
    return NAN;
}

void ck_activation_forward_reference(ck_act_fn fn, float alpha, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)forward_d(fn, alpha, x[i]);
}

void ck_activation_backward_reference(ck_act_fn fn, float alpha, int64_t n, const float *x,
                                      const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = (float)((double)dy[i] * derivative_d(fn, alpha, x[i]));
}

void ck_erf_reference(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = erff(x[i]);
}
