/*
 * activation_extra.c — the rest of Keras 3's activation strings, those activation.c does not
 * own: celu, hard_tanh, hard_shrink, soft_shrink, tanh_shrink, log_sigmoid, sparse_plus,
 * sparse_sigmoid, squareplus and threshold (element-wise, up to two parameters), and glu and
 * sparsemax (along the last axis of a [rows, n] view).
 *
 * Formulas are Keras 3.15's TensorFlow backend (keras/src/backend/tensorflow/nn.py); the
 * backward passes are what TF's autodiff makes of those expressions, kinks included:
 *   celu(α)         max(x,0) + α·expm1(min(x,0)/α)   d: [x ≥ 0] + [x ≤ 0]·e^{x/α}
 *                   (TF's Maximum/Minimum gradients both pass at a tie, so celu'(0) = 2)
 *   hard_tanh       clip(x, −1, 1)                     d: [−1 ≤ x ≤ 1]
 *   hard_shrink(t)  |x| > t ? x : 0                    d: [|x| > t]
 *   soft_shrink(t)  x > t ? x − t : x < −t ? x + t : 0 d: [|x| > t]
 *   tanh_shrink     x − tanh(x)                        d: 1 − (1 − tanh²x), rounded as TF
 *   log_sigmoid     −softplus(−x)                      d: σ(−x)
 *   sparse_plus     x ≤ −1 ? 0 : x < 1 ? (x+1)²/4 : x  d: 0, (x+1)/2, 1 on the same pieces
 *   sparse_sigmoid  x ≤ −1 ? 0 : x ≥ 1 ? 1 : (x+1)/2   d: ½ on (−1, 1), else 0
 *   squareplus(b)   (x + √(x² + b)) / 2                d: (1 + x/√(x² + b)) / 2
 *   threshold(t,v)  x > t ? x : v                      d: [x > t]
 *   glu             a·σ(b), [a | b] = the two halves of the last axis
 *                   da = g·σ(b), db = g·a·σ(b)(1 − σ(b))
 *   sparsemax       max(x − τ, 0) along the last axis, with Keras's τ: sort descending
 *                   (ties by index), cumsum c_r, support s_r = [z_r − (c_r − 1)/(r+1) > 0],
 *                   k = Σ s_r, τ = (Σ_r s_r·c_r − 1)/k.
 *                   Keras sums the cumulative sums over the support (the paper's τ is
 *                   (c_{k−1} − 1)/k): its output need not sum to 1. We follow Keras.
 *                   Backward: m_j = [x_j − τ ≥ 0], S = Σ m_j g_j, and τ's derivative by the
 *                   element at sorted position q is #{r ≥ q : s_r}/k; dx_j = m_j g_j − S·∂τ/∂x_j.
 *
 * Structure as activation.c: each element-wise function is plain C over a block of BLOCK
 * elements compiled per ISA, with the transcendentals (exp, tanh, sigmoid, log) as in-place
 * vmath.h passes over a stack buffer. glu runs the same way over each row's halves; sparsemax is
 * a sort per row (rows split between threads), the same code on every ISA.
 */
#include "internal.h"
#include "transcendental_passes.h"
#include "vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define BLOCK 256
#define ACT_MIN_CHUNK 4096


/* out = log_sigmoid(x) = −(max(−x, 0) + log1p(e^{−|x|})); u, w scratch (softplus as activation.c). */
INLINE void log_sigmoid_block(int64_t len, const float *restrict x, float *restrict out,
                              float *restrict u, float *restrict w, const ck_transcendental_passes *p) {
    for (int64_t i = 0; i < len; i++) u[i] = -fabsf(x[i]);
    p->exp(ck_pad16(len, u), u);
    for (int64_t i = 0; i < len; i++) w[i] = 1.0f + u[i];
    p->log(ck_pad16(len, w), w);
    for (int64_t i = 0; i < len; i++) {
        float d = (1.0f + u[i]) - 1.0f;
        float log1p_u = d == 0.0f ? u[i] : w[i] * (u[i] / d);
        float nx = -x[i];
        out[i] = -((nx > 0.0f ? nx : 0.0f) + log1p_u);
    }
}

typedef struct {
    ck_act2_fn fn;
    float a, b;
    const float *x, *dy;
    float *out;
} act2_job;

INLINE void forward_block(ck_act2_fn fn, float a, float bv, int64_t len, const float *restrict x,
                          float *restrict y, float *restrict t1, float *restrict t2,
                          const ck_transcendental_passes *p) {
    switch (fn) {
    case CK_ACT2_CELU:
        for (int64_t i = 0; i < len; i++) t1[i] = (x[i] < 0.0f ? x[i] : 0.0f) / a;
        p->exp(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++)
            y[i] = (x[i] > 0.0f ? x[i] : 0.0f) + a * (t1[i] - 1.0f);
        break;
    case CK_ACT2_HARD_TANH:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] < -1.0f ? -1.0f : (x[i] > 1.0f ? 1.0f : x[i]);
        break;
    case CK_ACT2_HARD_SHRINK:
        for (int64_t i = 0; i < len; i++) y[i] = fabsf(x[i]) > a ? x[i] : 0.0f;
        break;
    case CK_ACT2_SOFT_SHRINK:
        for (int64_t i = 0; i < len; i++)
            y[i] = x[i] > a ? x[i] - a : (x[i] < -a ? x[i] + a : 0.0f);
        break;
    case CK_ACT2_TANH_SHRINK:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) y[i] = x[i] - t1[i];
        break;
    case CK_ACT2_LOG_SIGMOID:
        log_sigmoid_block(len, x, y, t1, t2, p);
        break;
    case CK_ACT2_SPARSE_PLUS:
        for (int64_t i = 0; i < len; i++) {
            float s = x[i] + 1.0f;
            y[i] = x[i] <= -1.0f ? 0.0f : (x[i] < 1.0f ? 0.25f * (s * s) : x[i]);
        }
        break;
    case CK_ACT2_SPARSE_SIGMOID:
        for (int64_t i = 0; i < len; i++)
            y[i] = x[i] <= -1.0f ? 0.0f : (x[i] >= 1.0f ? 1.0f : 0.5f * (x[i] + 1.0f));
        break;
    case CK_ACT2_SQUAREPLUS:
        for (int64_t i = 0; i < len; i++) y[i] = (x[i] + sqrtf(x[i] * x[i] + a)) / 2.0f;
        break;
    case CK_ACT2_THRESHOLD:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] > a ? x[i] : bv;
        break;
    }
}

INLINE void backward_block(ck_act2_fn fn, float a, int64_t len, const float *restrict x,
                           const float *restrict dy, float *restrict dx, float *restrict t1,
                           const ck_transcendental_passes *p) {
    switch (fn) {
    case CK_ACT2_CELU:
        for (int64_t i = 0; i < len; i++) t1[i] = (x[i] < 0.0f ? x[i] : 0.0f) / a;
        p->exp(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) {
            float pos = x[i] >= 0.0f ? dy[i] : 0.0f;
            float neg = x[i] <= 0.0f ? dy[i] * t1[i] : 0.0f;
            dx[i] = pos + neg;
        }
        break;
    case CK_ACT2_HARD_TANH:
        for (int64_t i = 0; i < len; i++) dx[i] = (x[i] >= -1.0f && x[i] <= 1.0f) ? dy[i] : 0.0f;
        break;
    case CK_ACT2_HARD_SHRINK:
    case CK_ACT2_SOFT_SHRINK:
        for (int64_t i = 0; i < len; i++) dx[i] = fabsf(x[i]) > a ? dy[i] : 0.0f;
        break;
    case CK_ACT2_TANH_SHRINK:
        for (int64_t i = 0; i < len; i++) t1[i] = x[i];
        p->tanh(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) dx[i] = dy[i] + (-dy[i]) * (1.0f - t1[i] * t1[i]);
        break;
    case CK_ACT2_LOG_SIGMOID:
        for (int64_t i = 0; i < len; i++) t1[i] = -x[i];
        p->sigmoid(ck_pad16(len, t1), t1);
        for (int64_t i = 0; i < len; i++) dx[i] = dy[i] * t1[i];
        break;
    case CK_ACT2_SPARSE_PLUS:
        for (int64_t i = 0; i < len; i++)
            dx[i] = x[i] <= -1.0f ? 0.0f : (x[i] < 1.0f ? dy[i] * (0.5f * (x[i] + 1.0f)) : dy[i]);
        break;
    case CK_ACT2_SPARSE_SIGMOID:
        for (int64_t i = 0; i < len; i++) dx[i] = (x[i] > -1.0f && x[i] < 1.0f) ? 0.5f * dy[i] : 0.0f;
        break;
    case CK_ACT2_SQUAREPLUS:
        for (int64_t i = 0; i < len; i++) {
            float half = dy[i] / 2.0f;
            dx[i] = half + half * (x[i] / sqrtf(x[i] * x[i] + a));
        }
        break;
    case CK_ACT2_THRESHOLD:
        for (int64_t i = 0; i < len; i++) dx[i] = x[i] > a ? dy[i] : 0.0f;
        break;
    }
}

INLINE void forward_range(const act2_job *j, int64_t begin, int64_t end, const ck_transcendental_passes *p) {
    float t1[BLOCK], t2[BLOCK];
    for (int64_t b = begin; b < end; b += BLOCK)
        forward_block(j->fn, j->a, j->b, CK_MIN(BLOCK, end - b), j->x + b, j->out + b, t1, t2, p);
}

INLINE void backward_range(const act2_job *j, int64_t begin, int64_t end, const ck_transcendental_passes *p) {
    float t1[BLOCK];
    for (int64_t b = begin; b < end; b += BLOCK)
        backward_block(j->fn, j->a, CK_MIN(BLOCK, end - b), j->x + b, j->dy + b, j->out + b, t1, p);
}

/* glu over rows [r0, r1) of x [rows, 2h]: y [rows, h] forward; dx [rows, 2h] backward. */
typedef struct {
    int64_t half;
    const float *x, *dy;
    float *out;
} glu_job;

INLINE void glu_forward_rows(const glu_job *j, int64_t r0, int64_t r1, const ck_transcendental_passes *p) {
    float s[BLOCK];
    int64_t h = j->half;
    for (int64_t r = r0; r < r1; r++) {
        const float *a = j->x + r * 2 * h, *bb = a + h;
        float *y = j->out + r * h;
        for (int64_t c = 0; c < h; c += BLOCK) {
            int64_t len = CK_MIN(BLOCK, h - c);
            for (int64_t i = 0; i < len; i++) s[i] = bb[c + i];
            p->sigmoid(ck_pad16(len, s), s);
            for (int64_t i = 0; i < len; i++) y[c + i] = a[c + i] * s[i];
        }
    }
}

INLINE void glu_backward_rows(const glu_job *j, int64_t r0, int64_t r1, const ck_transcendental_passes *p) {
    float s[BLOCK];
    int64_t h = j->half;
    for (int64_t r = r0; r < r1; r++) {
        const float *a = j->x + r * 2 * h, *bb = a + h, *g = j->dy + r * h;
        float *da = j->out + r * 2 * h, *db = da + h;
        for (int64_t c = 0; c < h; c += BLOCK) {
            int64_t len = CK_MIN(BLOCK, h - c);
            for (int64_t i = 0; i < len; i++) s[i] = bb[c + i];
            p->sigmoid(ck_pad16(len, s), s);
            for (int64_t i = 0; i < len; i++) {
                da[c + i] = g[c + i] * s[i];
                db[c + i] = (g[c + i] * a[c + i]) * (s[i] * (1.0f - s[i]));
            }
        }
    }
}

static void forward_generic(const act2_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_generic); }
static void backward_generic(const act2_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_generic); }
static void gluf_generic(const glu_job *j, int64_t b, int64_t e) { glu_forward_rows(j, b, e, &ck_passes_generic); }
static void glub_generic(const glu_job *j, int64_t b, int64_t e) { glu_backward_rows(j, b, e, &ck_passes_generic); }

#ifdef CK_HAVE_X86
CK_TARGET_AVX2 static void forward_avx2(const act2_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX2 static void backward_avx2(const act2_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX2 static void gluf_avx2(const glu_job *j, int64_t b, int64_t e) { glu_forward_rows(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX2 static void glub_avx2(const glu_job *j, int64_t b, int64_t e) { glu_backward_rows(j, b, e, &ck_passes_avx2); }
CK_TARGET_AVX512 static void forward_avx512(const act2_job *j, int64_t b, int64_t e) { forward_range(j, b, e, &ck_passes_avx512); }
CK_TARGET_AVX512 static void backward_avx512(const act2_job *j, int64_t b, int64_t e) { backward_range(j, b, e, &ck_passes_avx512); }
CK_TARGET_AVX512 static void gluf_avx512(const glu_job *j, int64_t b, int64_t e) { glu_forward_rows(j, b, e, &ck_passes_avx512); }
CK_TARGET_AVX512 static void glub_avx512(const glu_job *j, int64_t b, int64_t e) { glu_backward_rows(j, b, e, &ck_passes_avx512); }
#define DISPATCH(name, type, ctx, b, e)                                                           \
    switch (ck_isa_active()) {                                                                   \
    case CK_ISA_AVX512: name##_avx512((const type *)ctx, b, e); break;                           \
    case CK_ISA_AVX2: name##_avx2((const type *)ctx, b, e); break;                               \
    default: name##_generic((const type *)ctx, b, e); break;                                     \
    }
#else
#define DISPATCH(name, type, ctx, b, e) name##_generic((const type *)ctx, b, e)
#endif

static void forward_any(void *ctx, int64_t b, int64_t e) { DISPATCH(forward, act2_job, ctx, b, e) }
static void backward_any(void *ctx, int64_t b, int64_t e) { DISPATCH(backward, act2_job, ctx, b, e) }
static void gluf_any(void *ctx, int64_t b, int64_t e) { DISPATCH(gluf, glu_job, ctx, b, e) }
static void glub_any(void *ctx, int64_t b, int64_t e) { DISPATCH(glub, glu_job, ctx, b, e) }

void ck_activation2_forward(ck_act2_fn fn, float a, float b, int64_t n, const float *x, float *y) {
    act2_job j = {.fn = fn, .a = a, .b = b, .x = x, .out = y};
    ck_parallel_for(n, ACT_MIN_CHUNK, forward_any, &j);
}

void ck_activation2_backward(ck_act2_fn fn, float a, float b, int64_t n, const float *x,
                             const float *dy, float *dx) {
    act2_job j = {.fn = fn, .a = a, .b = b, .x = x, .dy = dy, .out = dx};
    ck_parallel_for(n, ACT_MIN_CHUNK, backward_any, &j);
}

static int64_t rows_per_chunk(int64_t width) { return CK_MAX((int64_t)1, ACT_MIN_CHUNK / CK_MAX((int64_t)1, width)); }

void ck_glu_forward(int64_t rows, int64_t half, const float *x, float *y) {
    glu_job j = {.half = half, .x = x, .out = y};
    if (half > 0) ck_parallel_for(rows, rows_per_chunk(2 * half), gluf_any, &j);
}

void ck_glu_backward(int64_t rows, int64_t half, const float *x, const float *dy, float *dx) {
    glu_job j = {.half = half, .x = x, .dy = dy, .out = dx};
    if (half > 0) ck_parallel_for(rows, rows_per_chunk(2 * half), glub_any, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* sparsemax: a sort per row                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    float v;
    int64_t i;
} ranked;

/* Descending by value, ties by ascending index (TF's top_k order). */
static int by_value_desc(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->v > b->v) return -1;
    if (a->v < b->v) return 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* τ of one row; fills order[] with the sorted entries and support[] (1/0 per sorted position). */
static float sparsemax_tau(int64_t n, const float *x, ranked *order, unsigned char *support,
                           int64_t *k_out) {
    for (int64_t i = 0; i < n; i++) order[i] = (ranked){x[i], i};
    qsort(order, (size_t)n, sizeof(ranked), by_value_desc);
    float cumsum = 0.0f, safe_sum = 0.0f;
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++) {
        cumsum += order[r].v;
        int s = order[r].v - (cumsum - 1.0f) / (float)(r + 1) > 0.0f;
        support[r] = (unsigned char)s;
        if (s) { safe_sum += cumsum; k++; }
    }
    *k_out = k;
    return (safe_sum - 1.0f) / (float)k; /* k = 0 only for NaN rows: NaN, as Keras */
}

typedef struct {
    int64_t n;
    const float *x, *dy;
    float *out;
} sparsemax_job;

static void sparsemax_rows(void *ctx, int64_t r0, int64_t r1, int backward) {
    const sparsemax_job *j = ctx;
    int64_t n = j->n;
    ranked *order = malloc((size_t)n * sizeof(ranked));
    unsigned char *support = malloc((size_t)n);
    float *weight = backward ? malloc((size_t)n * sizeof(float)) : NULL;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * n;
        float *out = j->out + r * n;
        int64_t k;
        float tau = sparsemax_tau(n, x, order, support, &k);
        if (!backward) {
            for (int64_t i = 0; i < n; i++) {
                float d = x[i] - tau;
                out[i] = d > 0.0f ? d : 0.0f;
            }
            continue;
        }
        const float *g = j->dy + r * n;
        float s = 0.0f;
        for (int64_t i = 0; i < n; i++)
            if (x[i] - tau >= 0.0f) s += g[i];
        int64_t after = 0; /* #{r' ≥ q : support} while walking q from the end */
        for (int64_t q = n - 1; q >= 0; q--) {
            after += support[q];
            weight[order[q].i] = (float)after / (float)k;
        }
        for (int64_t i = 0; i < n; i++) {
            float pass = x[i] - tau >= 0.0f ? g[i] : 0.0f;
            out[i] = pass - s * weight[i];
        }
    }
    free(order);
    free(support);
    free(weight);
}

static void sparsemax_forward_rows(void *ctx, int64_t r0, int64_t r1) { sparsemax_rows(ctx, r0, r1, 0); }
static void sparsemax_backward_rows(void *ctx, int64_t r0, int64_t r1) { sparsemax_rows(ctx, r0, r1, 1); }

void ck_sparsemax_forward(int64_t rows, int64_t n, const float *x, float *y) {
    sparsemax_job j = {.n = n, .x = x, .out = y};
    if (n > 0) ck_parallel_for(rows, rows_per_chunk(8 * n), sparsemax_forward_rows, &j);
}

void ck_sparsemax_backward(int64_t rows, int64_t n, const float *x, const float *dy, float *dx) {
    sparsemax_job j = {.n = n, .x = x, .dy = dy, .out = dx};
    if (n > 0) ck_parallel_for(rows, rows_per_chunk(8 * n), sparsemax_backward_rows, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* References: the defining formulas in double precision, element by element                    */
/* ------------------------------------------------------------------------------------------ */

static double forward_d(ck_act2_fn fn, double a, double b, double x) {
    switch (fn) {
    case CK_ACT2_CELU: return (x > 0 ? x : 0) + a * expm1((x < 0 ? x : 0) / a);
    case CK_ACT2_HARD_TANH: return x < -1 ? -1 : (x > 1 ? 1 : x);
    case CK_ACT2_HARD_SHRINK: return fabs(x) > a ? x : 0;
    case CK_ACT2_SOFT_SHRINK: return x > a ? x - a : (x < -a ? x + a : 0);
    case CK_ACT2_TANH_SHRINK: return x - tanh(x);
    case CK_ACT2_LOG_SIGMOID: return -((-x > 0 ? -x : 0) + log1p(exp(-fabs(x))));
    case CK_ACT2_SPARSE_PLUS: return x <= -1 ? 0 : (x < 1 ? 0.25 * (x + 1) * (x + 1) : x);
    case CK_ACT2_SPARSE_SIGMOID: return x <= -1 ? 0 : (x >= 1 ? 1 : 0.5 * (x + 1));
    case CK_ACT2_SQUAREPLUS: return (x + sqrt(x * x + a)) / 2;
    case CK_ACT2_THRESHOLD: return x > a ? x : b;
    }
    return NAN;
}

static double derivative_d(ck_act2_fn fn, double a, double x) {
    switch (fn) {
    case CK_ACT2_CELU: return (x >= 0 ? 1 : 0) + (x <= 0 ? exp(x / a) : 0);
    case CK_ACT2_HARD_TANH: return x >= -1 && x <= 1 ? 1 : 0;
    case CK_ACT2_HARD_SHRINK:
    case CK_ACT2_SOFT_SHRINK: return fabs(x) > a ? 1 : 0;
    case CK_ACT2_TANH_SHRINK: return tanh(x) * tanh(x);
    case CK_ACT2_LOG_SIGMOID: return 1.0 / (1.0 + exp(x));
    case CK_ACT2_SPARSE_PLUS: return x <= -1 ? 0 : (x < 1 ? 0.5 * (x + 1) : 1);
    case CK_ACT2_SPARSE_SIGMOID: return x > -1 && x < 1 ? 0.5 : 0;
    case CK_ACT2_SQUAREPLUS: return (1 + x / sqrt(x * x + a)) / 2;
    case CK_ACT2_THRESHOLD: return x > a ? 1 : 0;
    }
    return NAN;
}

void ck_activation2_forward_reference(ck_act2_fn fn, float a, float b, int64_t n, const float *x,
                                      float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)forward_d(fn, a, b, x[i]);
}

void ck_activation2_backward_reference(ck_act2_fn fn, float a, float b, int64_t n,
                                       const float *x, const float *dy, float *dx) {
    (void)b;
    for (int64_t i = 0; i < n; i++) dx[i] = (float)((double)dy[i] * derivative_d(fn, a, x[i]));
}

void ck_glu_forward_reference(int64_t rows, int64_t half, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < half; c++) {
            double a = x[r * 2 * half + c], b = x[r * 2 * half + half + c];
            y[r * half + c] = (float)(a / (1.0 + exp(-b)));
        }
}

void ck_glu_backward_reference(int64_t rows, int64_t half, const float *x, const float *dy,
                               float *dx) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < half; c++) {
            double a = x[r * 2 * half + c], b = x[r * 2 * half + half + c], g = dy[r * half + c];
            double s = 1.0 / (1.0 + exp(-b));
            dx[r * 2 * half + c] = (float)(g * s);
            dx[r * 2 * half + half + c] = (float)(g * a * s * (1 - s));
        }
}

/* The reference sparsemax: Keras's formula in double with a selection sort (ties by index). */
static double sparsemax_tau_d(int64_t n, const float *x, int64_t *order, unsigned char *support,
                              int64_t *k_out) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    for (int64_t a = 0; a < n; a++) {
        int64_t best = a;
        for (int64_t b = a + 1; b < n; b++)
            if (x[order[b]] > x[order[best]] ||
                (x[order[b]] == x[order[best]] && order[b] < order[best]))
                best = b;
        int64_t t = order[a]; order[a] = order[best]; order[best] = t;
    }
    double cumsum = 0, safe = 0;
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++) {
        cumsum += x[order[r]];
        support[r] = x[order[r]] - (cumsum - 1) / (double)(r + 1) > 0;
        if (support[r]) { safe += cumsum; k++; }
    }
    *k_out = k;
    return (safe - 1) / (double)k;
}

void ck_sparsemax_forward_reference(int64_t rows, int64_t n, const float *x, float *y) {
    int64_t *order = malloc((size_t)CK_MAX(n, 1) * sizeof(int64_t));
    unsigned char *support = malloc((size_t)CK_MAX(n, 1));
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        double tau = sparsemax_tau_d(n, x + r * n, order, support, &k);
        for (int64_t i = 0; i < n; i++) {
            double d = x[r * n + i] - tau;
            y[r * n + i] = (float)(d > 0 ? d : 0);
        }
    }
    free(order);
    free(support);
}

void ck_sparsemax_backward_reference(int64_t rows, int64_t n, const float *x, const float *dy,
                                     float *dx) {
    int64_t *order = malloc((size_t)CK_MAX(n, 1) * sizeof(int64_t));
    unsigned char *support = malloc((size_t)CK_MAX(n, 1));
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        const float *xr = x + r * n, *g = dy + r * n;
        double tau = sparsemax_tau_d(n, xr, order, support, &k);
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            if (xr[i] - tau >= 0) s += g[i];
        for (int64_t q = 0; q < n; q++) {
            int64_t after = 0;
            for (int64_t p = q; p < n; p++) after += support[p];
            int64_t i = order[q];
            dx[r * n + i] = (float)((xr[i] - tau >= 0 ? g[i] : 0) - s * (double)after / (double)k);
        }
    }
    free(order);
    free(support);
}
