/*
 * eltwise.c — element-wise math: y = op(x), y = op(a, b) with broadcasting, fills.
 *
 * These loops are memory-bound except exp/log/tanh/sigmoid, so the design is simple: one pass,
 * full-width vectors (AVX-512 tails use masked loads, AVX2 tails fall back to the scalar loop),
 * and threads only when the array is large enough that a parallel region (a few µs) pays off.
 *
 * Each operation has three bodies: the plain scalar loop (the generic path, and what the tests
 * compare every path against), an AVX2 one and an AVX-512 one; dispatch reads ck_isa_active()
 * once per call.
 *
 * Broadcasting (ck_binary): the caller hands output-shaped strides with 0 on broadcast
 * dimensions. We first drop size-1 dimensions and merge neighbours that are contiguous in both
 * inputs, so that e.g. [64, 128] + [128] becomes 64 rows of the (1, 1) pattern (each against
 * the same bias row), and a same-shape add becomes one flat row. The innermost
 * dimension then runs one of three vector patterns — (1,1), (1,0) scalar-b, (0,1) scalar-a — or
 * a strided scalar loop for anything else (transposed views).
 */
#include "internal.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

/* Cheap ops stream at ~10 GB/s per core; below this many elements a second thread costs more
 * than it saves. Transcendentals are ~10x more work per element, so they split earlier. */
#define CHEAP_MIN_CHUNK 32768
#define COSTLY_MIN_CHUNK 4096

/* ------------------------------------------------------------------------------------------ */
/* Unary                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* The reference: one libm call or expression per element. */
static void unary_generic(ck_unary_op op, int64_t n, const float *x, float *y) {
    switch (op) {
    case CK_UNARY_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case CK_UNARY_EXP: for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]); break;
    case CK_UNARY_LOG: for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]); break;
    case CK_UNARY_SQRT: for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case CK_UNARY_ABS: for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
    case CK_UNARY_TANH: for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
    case CK_UNARY_SIGMOID: for (int64_t i = 0; i < n; i++) y[i] = ck_sigmoid_scalar(x[i]); break;
    /* x > 0 ? x : 0 maps NaN to 0 like Keras's relu on most backends; we keep NaN visible. */
    case CK_UNARY_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i]; break;
    case CK_UNARY_SQUARE: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    }
}

#ifdef CK_HAVE_X86
CK_TARGET_AVX512 static inline __m512 unary_vec_avx512(ck_unary_op op, __m512 v) {
    switch (op) {
    case CK_UNARY_NEG: return _mm512_xor_ps(v, _mm512_set1_ps(-0.0f));
    case CK_UNARY_EXP: return ck_exp_avx512(v);
    case CK_UNARY_LOG: return ck_log_avx512(v);
    case CK_UNARY_SQRT: return _mm512_sqrt_ps(v);
    case CK_UNARY_ABS: return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), v);
    case CK_UNARY_TANH: return ck_tanh_avx512(v);
    case CK_UNARY_SIGMOID: return ck_sigmoid_avx512(v);
    case CK_UNARY_RELU: /* x < 0 ? 0 : x, NaN kept */
        return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                                  _mm512_setzero_ps());
    case CK_UNARY_SQUARE: return _mm512_mul_ps(v, v);
    }
    return v;
}

CK_TARGET_AVX512 static void unary_avx512(ck_unary_op op, int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, unary_vec_avx512(op, _mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        /* masked-off lanes load as 0, which no op here faults on (masked loads never fault) */
        __m512 v = unary_vec_avx512(op, _mm512_maskz_loadu_ps(m, x + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

CK_TARGET_AVX2 static inline __m256 unary_vec_avx2(ck_unary_op op, __m256 v) {
    switch (op) {
    case CK_UNARY_NEG: return _mm256_xor_ps(v, _mm256_set1_ps(-0.0f));
    case CK_UNARY_EXP: return ck_exp_avx2(v);
    case CK_UNARY_LOG: return ck_log_avx2(v);
    case CK_UNARY_SQRT: return _mm256_sqrt_ps(v);
    case CK_UNARY_ABS: return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
    case CK_UNARY_TANH: return ck_tanh_avx2(v);
    case CK_UNARY_SIGMOID: return ck_sigmoid_avx2(v);
    case CK_UNARY_RELU:
        return _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    case CK_UNARY_SQUARE: return _mm256_mul_ps(v, v);
    }
    return v;
}

CK_TARGET_AVX2 static void unary_avx2(ck_unary_op op, int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, unary_vec_avx2(op, _mm256_loadu_ps(x + i)));
    if (i < n) {
        /* the tail goes through a padded buffer so it gets the same vector math (same ulps) */
        float buf[8] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        _mm256_storeu_ps(buf, unary_vec_avx2(op, _mm256_loadu_ps(buf)));
        memcpy(y + i, buf, (size_t)(n - i) * sizeof(float));
    }
}
#endif

typedef struct {
    ck_unary_op op;
    ck_isa isa;
    const float *x;
    float *y;
} unary_job;

static void unary_range(void *ctx, int64_t begin, int64_t end) {
    const unary_job *j = ctx;
    int64_t n = end - begin;
    const float *x = j->x + begin;
    float *y = j->y + begin;
#ifdef CK_HAVE_X86
    if (j->isa == CK_ISA_AVX512) { unary_avx512(j->op, n, x, y); return; }
    if (j->isa == CK_ISA_AVX2) { unary_avx2(j->op, n, x, y); return; }
#endif
    unary_generic(j->op, n, x, y);
}

static int unary_is_costly(ck_unary_op op) {
    return op == CK_UNARY_EXP || op == CK_UNARY_LOG || op == CK_UNARY_TANH ||
           op == CK_UNARY_SIGMOID;
}

void ck_unary(ck_unary_op op, int64_t n, const float *x, float *y) {
    unary_job job = {op, ck_isa_active(), x, y};
    ck_parallel_for(n, unary_is_costly(op) ? COSTLY_MIN_CHUNK : CHEAP_MIN_CHUNK, unary_range, &job);
}

/* ------------------------------------------------------------------------------------------ */
/* Power by a scalar                                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const float *x;
    float p;
    float *y;
} pow_job;

/* p == 2 and p == 0.5 are what losses and normalisers use; x·x and sqrtf are exact-rounded,
 * which powf may not be. Otherwise powf per element: no vector pow is worth its error here. */
static void pow_range(void *ctx, int64_t begin, int64_t end) {
    const pow_job *j = ctx;
    const float *x = j->x;
    float *y = j->y, p = j->p;
    if (p == 2.0f) {
        for (int64_t i = begin; i < end; i++) y[i] = x[i] * x[i];
    } else if (p == 0.5f) {
        for (int64_t i = begin; i < end; i++) y[i] = sqrtf(x[i]);
    } else if (p == 1.0f) {
        for (int64_t i = begin; i < end; i++) y[i] = x[i];
    } else {
        for (int64_t i = begin; i < end; i++) y[i] = powf(x[i], p);
    }
}

void ck_pow_scalar(int64_t n, const float *x, float p, float *y) {
    pow_job job = {x, p, y};
    ck_parallel_for(n, COSTLY_MIN_CHUNK, pow_range, &job);
}

/* ------------------------------------------------------------------------------------------ */
/* Binary with broadcasting                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* max/min propagate NaN from either side (NumPy's maximum/minimum, and what ck_reduce does). */
static inline float max_nan(float a, float b) { return a > b || a != a ? a : b; }
static inline float min_nan(float a, float b) { return a < b || a != a ? a : b; }

static inline float binary_scalar(ck_binary_op op, float a, float b) {
    switch (op) {
    case CK_BINARY_ADD: return a + b;
    case CK_BINARY_SUB: return a - b;
    case CK_BINARY_MUL: return a * b;
    case CK_BINARY_DIV: return a / b;
    case CK_BINARY_POW: return powf(a, b);
    case CK_BINARY_MAX: return max_nan(a, b);
    case CK_BINARY_MIN: return min_nan(a, b);
    }
    return 0.0f;
}

/* The reference row: y[i] = op(a[i·sa], b[i·sb]). */
static void binary_row_generic(ck_binary_op op, int64_t n, const float *a, int64_t sa,
                               const float *b, int64_t sb, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = binary_scalar(op, a[i * sa], b[i * sb]);
}

#ifdef CK_HAVE_X86
CK_TARGET_AVX512 static inline __m512 binary_vec_avx512(ck_binary_op op, __m512 a, __m512 b) {
    switch (op) {
    case CK_BINARY_ADD: return _mm512_add_ps(a, b);
    case CK_BINARY_SUB: return _mm512_sub_ps(a, b);
    case CK_BINARY_MUL: return _mm512_mul_ps(a, b);
    case CK_BINARY_DIV: return _mm512_div_ps(a, b);
    /* vmaxps returns its second operand when either is NaN: put a second, then re-pick a
     * where a is NaN, which gives max_nan exactly. */
    case CK_BINARY_MAX:
        return _mm512_mask_mov_ps(_mm512_max_ps(b, a), _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q), b);
    case CK_BINARY_MIN:
        return _mm512_mask_mov_ps(_mm512_min_ps(b, a), _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q), b);
    default: return a; /* POW never comes here */
    }
}

/* sa, sb ∈ {0, 1}: a stride of 0 keeps that operand's broadcast scalar in a register. */
CK_TARGET_AVX512 static void binary_row_avx512(ck_binary_op op, int64_t n, const float *a,
                                               int64_t sa, const float *b, int64_t sb, float *y) {
    int64_t i = 0;
    __m512 va = _mm512_set1_ps(a[0]), vb = _mm512_set1_ps(b[0]);
    for (; i + 16 <= n; i += 16) {
        if (sa) va = _mm512_loadu_ps(a + i);
        if (sb) vb = _mm512_loadu_ps(b + i);
        _mm512_storeu_ps(y + i, binary_vec_avx512(op, va, vb));
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        if (sa) va = _mm512_maskz_loadu_ps(m, a + i);
        if (sb) vb = _mm512_maskz_loadu_ps(m, b + i);
        _mm512_mask_storeu_ps(y + i, m, binary_vec_avx512(op, va, vb));
    }
}

CK_TARGET_AVX2 static inline __m256 binary_vec_avx2(ck_binary_op op, __m256 a, __m256 b) {
    switch (op) {
    case CK_BINARY_ADD: return _mm256_add_ps(a, b);
    case CK_BINARY_SUB: return _mm256_sub_ps(a, b);
    case CK_BINARY_MUL: return _mm256_mul_ps(a, b);
    case CK_BINARY_DIV: return _mm256_div_ps(a, b);
    case CK_BINARY_MAX:
        return _mm256_blendv_ps(_mm256_max_ps(b, a), b, _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    case CK_BINARY_MIN:
        return _mm256_blendv_ps(_mm256_min_ps(b, a), b, _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    default: return a;
    }
}

CK_TARGET_AVX2 static void binary_row_avx2(ck_binary_op op, int64_t n, const float *a, int64_t sa,
                                           const float *b, int64_t sb, float *y) {
    int64_t i = 0;
    __m256 va = _mm256_set1_ps(a[0]), vb = _mm256_set1_ps(b[0]);
    for (; i + 8 <= n; i += 8) {
        if (sa) va = _mm256_loadu_ps(a + i);
        if (sb) vb = _mm256_loadu_ps(b + i);
        _mm256_storeu_ps(y + i, binary_vec_avx2(op, va, vb));
    }
    binary_row_generic(op, n - i, a + i * sa, sa, b + i * sb, sb, y + i);
}
#endif

static void binary_row(ck_isa isa, ck_binary_op op, int64_t n, const float *a, int64_t sa,
                       const float *b, int64_t sb, float *y) {
#ifdef CK_HAVE_X86
    int vector_pattern = (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && op != CK_BINARY_POW;
    if (vector_pattern && isa == CK_ISA_AVX512) { binary_row_avx512(op, n, a, sa, b, sb, y); return; }
    if (vector_pattern && isa == CK_ISA_AVX2) { binary_row_avx2(op, n, a, sa, b, sb, y); return; }
#else
    (void)isa;
#endif
    binary_row_generic(op, n, a, sa, b, sb, y);
}

/* The broadcast after collapsing: rank ≥ 1, shape[rank-1] is the row the kernels run. */
typedef struct {
    ck_binary_op op;
    ck_isa isa;
    int rank;
    int64_t shape[CK_MAX_RANK];
    int64_t sa[CK_MAX_RANK], sb[CK_MAX_RANK];
    const float *a, *b;
    float *y;
    int64_t rows, cols;
} binary_job;

/* Rows [begin, end) of the flattened outer dimensions. The starting multi-index is decoded once,
 * then advanced like an odometer, so the offsets are additions, not divisions, per row. */
static void binary_rows(void *ctx, int64_t begin, int64_t end) {
    const binary_job *j = ctx;
    int outer = j->rank - 1;
    int64_t idx[CK_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0, rem = begin;
    for (int d = outer - 1; d >= 0; d--) {
        idx[d] = rem % j->shape[d];
        rem /= j->shape[d];
        oa += idx[d] * j->sa[d];
        ob += idx[d] * j->sb[d];
    }
    for (int64_t r = begin; r < end; r++) {
        binary_row(j->isa, j->op, j->cols, j->a + oa, j->sa[outer], j->b + ob, j->sb[outer],
                   j->y + r * j->cols);
        for (int d = outer - 1; d >= 0; d--) {
            oa += j->sa[d];
            ob += j->sb[d];
            if (++idx[d] < j->shape[d]) break;
            oa -= idx[d] * j->sa[d];
            ob -= idx[d] * j->sb[d];
            idx[d] = 0;
        }
    }
}

/* One long row: split the columns across threads instead. */
static void binary_cols(void *ctx, int64_t begin, int64_t end) {
    const binary_job *j = ctx;
    binary_row(j->isa, j->op, end - begin, j->a + begin * j->sa[0], j->sa[0],
               j->b + begin * j->sb[0], j->sb[0], j->y + begin);
}

void ck_binary(ck_binary_op op, int rank, const int64_t *shape, const float *a,
               const int64_t *a_strides, const float *b, const int64_t *b_strides, float *y) {
    binary_job j = {.op = op, .isa = ck_isa_active(), .a = a, .b = b, .y = y};
    /* Collapse: drop size-1 dimensions, merge d into the kept dimension before it when both
     * inputs step through them as one (stride[prev] == stride[d]·shape[d]). y is contiguous, so
     * it always merges. */
    int r = 0;
    int64_t total = 1;
    for (int d = 0; d < rank; d++) {
        total *= shape[d];
        if (shape[d] == 1) continue;
        if (r > 0 && j.sa[r - 1] == a_strides[d] * shape[d] && j.sb[r - 1] == b_strides[d] * shape[d]) {
            j.shape[r - 1] *= shape[d];
            j.sa[r - 1] = a_strides[d];
            j.sb[r - 1] = b_strides[d];
            continue;
        }
        j.shape[r] = shape[d];
        j.sa[r] = a_strides[d];
        j.sb[r] = b_strides[d];
        r++;
    }
    if (total == 0) return;
    if (r == 0) { /* every dimension is 1: a single element */
        y[0] = binary_scalar(op, a[0], b[0]);
        return;
    }
    j.rank = r;
    j.cols = j.shape[r - 1];
    j.rows = total / j.cols;
    int64_t min_chunk = op == CK_BINARY_POW ? COSTLY_MIN_CHUNK : CHEAP_MIN_CHUNK;
    if (j.rows == 1)
        ck_parallel_for(j.cols, min_chunk, binary_cols, &j);
    else
        ck_parallel_for(j.rows, CK_MAX(1, min_chunk / j.cols), binary_rows, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* Fill                                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    float value;
    float *y;
} fill_job;

static void fill_range(void *ctx, int64_t begin, int64_t end) {
    const fill_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->y[i] = j->value; /* the compiler vectorises this */
}

void ck_fill(int64_t n, float value, float *y) {
    fill_job job = {value, y};
    ck_parallel_for(n, CHEAP_MIN_CHUNK * 4, fill_range, &job);
}

typedef struct {
    int32_t value;
    int32_t *y;
} fill_i32_job;

static void fill_i32_range(void *ctx, int64_t begin, int64_t end) {
    const fill_i32_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->y[i] = j->value;
}

void ck_fill_int32(int64_t n, int32_t value, int32_t *y) {
    fill_i32_job job = {value, y};
    ck_parallel_for(n, CHEAP_MIN_CHUNK * 4, fill_i32_range, &job);
}

typedef struct {
    const int32_t *x;
    float *y;
} convert_job;

static void int32_to_float_range(void *ctx, int64_t begin, int64_t end) {
    const convert_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->y[i] = (float)j->x[i];
}

void ck_int32_to_float(int64_t n, const int32_t *x, float *y) {
    convert_job job = {x, y};
    ck_parallel_for(n, CHEAP_MIN_CHUNK, int32_to_float_range, &job);
}
