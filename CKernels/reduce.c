/*
 * reduce.c — sum/mean/max/min over one axis, argmax, softmax and log-softmax.
 *
 * Layout: every reduction sees x as [outer, len, inner] (contiguous) and reduces the middle axis.
 *   inner == 1  rows: each output is a reduction of one contiguous run of `len` floats.
 *   inner  > 1  columns: each output row y[o, :] accumulates x[o, l, :] over l, vectorised
 *               across inner in tiles of TILE floats that stay in registers.
 *
 * Accuracy: sums are pairwise over blocks: a block of ≤ BLOCK rows (or elements) accumulates in
 * 16 independent lanes, blocks combine as a balanced binary tree, so the error grows like
 * log2(len) instead of len. The tree depends only on len — never on the thread count or the ISA —
 * so every path returns the same bits for sums, and a 1-thread and a 3-thread run agree exactly.
 * A very long single row (reduce-all) is cut into SEGMENTS fixed pieces that threads sum in
 * parallel and the tree then joins in a fixed order.
 *
 * ISA variants: the leaves (a block's lane loop) are written once as always-inline plain C and
 * instantiated under the AVX-512, AVX2 and baseline target attributes, so the compiler emits
 * each ISA's vectors from one readable loop (the 16-lane arrays are exactly one zmm or two ymm).
 * The softmax's exponentials use the hand-written vector exp of vmath.h.
 */
#include "internal.h"
#include "vmath.h"

#include <math.h>

#define LANES 16     /* one zmm: the accumulator pattern shared by all paths */
#define BLOCK 512    /* elements summed in lanes before the tree takes over */
#define COL_BLOCK 16 /* rows of a column tile summed directly before the tree */
#define TILE 64      /* columns of an inner > 1 reduction held in registers */
#define SEGMENTS 64  /* pieces of one long row summed in parallel */
#define SEGMENT_MIN (SEGMENTS * 4096)
#define MIN_CHUNK 32768 /* elements of work per thread below which threads do not pay */

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* max/min that propagate NaN: once the accumulator is NaN it stays NaN. */
ALWAYS_INLINE float max_nan(float a, float b) { return a > b || a != a ? a : b; }
ALWAYS_INLINE float min_nan(float a, float b) { return a < b || a != a ? a : b; }

/* ------------------------------------------------------------------------------------------ */
/* Leaves: plain C, instantiated per ISA                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Σ x[0..n), n ≤ BLOCK, in LANES lanes folded 16 → 8 → 4 → 2 → 1. */
ALWAYS_INLINE float sum_block_body(const float *x, int64_t n) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l];
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* max or min of x[0..n), n ≥ 1 */
ALWAYS_INLINE float extremum_row_body(int want_max, const float *x, int64_t n) {
    float acc[LANES];
    for (int l = 0; l < LANES; l++) acc[l] = x[0];
    int64_t i = 0;
    if (want_max) {
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++) acc[l] = max_nan(acc[l], x[i + l]);
        for (int l = 0; i + l < n; l++) acc[l] = max_nan(acc[l], x[i + l]);
        for (int l = 1; l < LANES; l++) acc[0] = max_nan(acc[0], acc[l]);
    } else {
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++) acc[l] = min_nan(acc[l], x[i + l]);
        for (int l = 0; i + l < n; l++) acc[l] = min_nan(acc[l], x[i + l]);
        for (int l = 1; l < LANES; l++) acc[0] = min_nan(acc[0], acc[l]);
    }
    return acc[0];
}

/* out[j] = Σ_{l<rows} x[l·inner + j] for j < w ≤ TILE, rows ≤ COL_BLOCK */
ALWAYS_INLINE void sum_cols_block_body(const float *x, int64_t rows, int64_t inner, int64_t w,
                                       float *out) {
    float acc[TILE] = {0};
    for (int64_t l = 0; l < rows; l++)
        for (int64_t j = 0; j < w; j++) acc[j] += x[l * inner + j];
    for (int64_t j = 0; j < w; j++) out[j] = acc[j];
}

/* out[j] = max or min over l < len of x[l·inner + j], j < w ≤ TILE, len ≥ 1 */
ALWAYS_INLINE void extremum_cols_body(int want_max, const float *x, int64_t len, int64_t inner,
                                      int64_t w, float *out) {
    float acc[TILE];
    for (int64_t j = 0; j < w; j++) acc[j] = x[j];
    for (int64_t l = 1; l < len; l++) {
        const float *row = x + l * inner;
        if (want_max)
            for (int64_t j = 0; j < w; j++) acc[j] = max_nan(acc[j], row[j]);
        else
            for (int64_t j = 0; j < w; j++) acc[j] = min_nan(acc[j], row[j]);
    }
    for (int64_t j = 0; j < w; j++) out[j] = acc[j];
}

typedef struct {
    float (*sum_block)(const float *x, int64_t n);
    float (*extremum_row)(int want_max, const float *x, int64_t n);
    void (*sum_cols_block)(const float *x, int64_t rows, int64_t inner, int64_t w, float *out);
    void (*extremum_cols)(int want_max, const float *x, int64_t len, int64_t inner, int64_t w,
                          float *out);
} leaves;

#define INSTANTIATE_LEAVES(suffix, target)                                                        \
    target static float sum_block_##suffix(const float *x, int64_t n) {                          \
        return sum_block_body(x, n);                                                              \
    }                                                                                             \
    target static float extremum_row_##suffix(int want_max, const float *x, int64_t n) {         \
        return extremum_row_body(want_max, x, n);                                                 \
    }                                                                                             \
    target static void sum_cols_block_##suffix(const float *x, int64_t rows, int64_t inner,      \
                                               int64_t w, float *out) {                           \
        sum_cols_block_body(x, rows, inner, w, out);                                              \
    }                                                                                             \
    target static void extremum_cols_##suffix(int want_max, const float *x, int64_t len,         \
                                              int64_t inner, int64_t w, float *out) {             \
        extremum_cols_body(want_max, x, len, inner, w, out);                                      \
    }                                                                                             \
    static const leaves leaves_##suffix = {sum_block_##suffix, extremum_row_##suffix,             \
                                           sum_cols_block_##suffix, extremum_cols_##suffix};

#define NO_TARGET
INSTANTIATE_LEAVES(generic, NO_TARGET)
#ifdef CK_HAVE_X86
INSTANTIATE_LEAVES(avx2, CK_TARGET_AVX2)
INSTANTIATE_LEAVES(avx512, CK_TARGET_AVX512)
#endif

static const leaves *active_leaves(void) {
#ifdef CK_HAVE_X86
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: return &leaves_avx512;
    case CK_ISA_AVX2: return &leaves_avx2;
    default: break;
    }
#endif
    return &leaves_generic;
}

/* ------------------------------------------------------------------------------------------ */
/* Pairwise trees                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Σ x[0..n) as a balanced tree over BLOCK-sized leaves. Halves are cut at a multiple of LANES so
 * that the leaves' lane loops have no tails except at the very end. */
static float sum_tree(const leaves *lv, const float *x, int64_t n) {
    if (n <= BLOCK) return lv->sum_block(x, n);
    int64_t half = (n / 2 + LANES - 1) / LANES * LANES;
    return sum_tree(lv, x, half) + sum_tree(lv, x + half, n - half);
}

/* out[0..w) = Σ_{l<len} x[l·inner + 0..w) as a balanced tree over COL_BLOCK-row leaves. The
 * right half goes to a TILE-sized stack buffer: depth ≤ 64, so at most 16 KiB of stack. */
static void sum_cols_tree(const leaves *lv, const float *x, int64_t len, int64_t inner, int64_t w,
                          float *out) {
    if (len <= COL_BLOCK) {
        lv->sum_cols_block(x, len, inner, w, out);
        return;
    }
    int64_t half = len / 2;
    float right[TILE];
    sum_cols_tree(lv, x, half, inner, w, out);
    sum_cols_tree(lv, x + half * inner, len - half, inner, w, right);
    for (int64_t j = 0; j < w; j++) out[j] += right[j];
}

/* The pairwise join of `count` partial sums, in the same balanced shape as sum_tree. */
static float join_tree(const float *partial, int count) {
    if (count == 1) return partial[0];
    int half = count / 2;
    return join_tree(partial, half) + join_tree(partial + half, count - half);
}

/* ------------------------------------------------------------------------------------------ */
/* ck_reduce                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    ck_reduce_op op;
    const leaves *lv;
    int64_t len, inner, tiles;
    const float *x;
    float *y;
    float partial[SEGMENTS];
} reduce_job;

static float finish(ck_reduce_op op, float sum, int64_t len) {
    return op == CK_REDUCE_MEAN ? sum / (float)len : sum;
}

/* One contiguous row of len ≥ 1. */
static float reduce_row(const reduce_job *j, const float *x) {
    if (j->op == CK_REDUCE_MAX || j->op == CK_REDUCE_MIN)
        return j->lv->extremum_row(j->op == CK_REDUCE_MAX, x, j->len);
    float s;
    if (j->len >= SEGMENT_MIN) { /* the same segmentation the parallel path uses */
        float partial[SEGMENTS];
        for (int s_ = 0; s_ < SEGMENTS; s_++) {
            int64_t b = j->len * s_ / SEGMENTS, e = j->len * (s_ + 1) / SEGMENTS;
            partial[s_] = sum_tree(j->lv, x + b, e - b);
        }
        s = join_tree(partial, SEGMENTS);
    } else {
        s = sum_tree(j->lv, x, j->len);
    }
    return finish(j->op, s, j->len);
}

static void reduce_rows(void *ctx, int64_t begin, int64_t end) {
    const reduce_job *j = ctx;
    for (int64_t o = begin; o < end; o++) j->y[o] = reduce_row(j, j->x + o * j->len);
}

/* Work units are (o, tile) pairs: a TILE-wide strip of one output row. */
static void reduce_cols(void *ctx, int64_t begin, int64_t end) {
    const reduce_job *j = ctx;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / j->tiles, j0 = (u % j->tiles) * TILE;
        int64_t w = CK_MIN(TILE, j->inner - j0);
        const float *x = j->x + o * j->len * j->inner + j0;
        float *y = j->y + o * j->inner + j0;
        if (j->op == CK_REDUCE_MAX || j->op == CK_REDUCE_MIN) {
            j->lv->extremum_cols(j->op == CK_REDUCE_MAX, x, j->len, j->inner, w, y);
        } else {
            sum_cols_tree(j->lv, x, j->len, j->inner, w, y);
            if (j->op == CK_REDUCE_MEAN)
                for (int64_t k = 0; k < w; k++) y[k] /= (float)j->len;
        }
    }
}

/* One long row: each thread sums whole segments into partial[]. */
static void reduce_segments(void *ctx, int64_t begin, int64_t end) {
    reduce_job *j = ctx;
    for (int64_t s = begin; s < end; s++) {
        int64_t b = j->len * s / SEGMENTS, e = j->len * (s + 1) / SEGMENTS;
        j->partial[s] = sum_tree(j->lv, j->x + b, e - b);
    }
}

static void reduce_segments_extremum(void *ctx, int64_t begin, int64_t end) {
    reduce_job *j = ctx;
    for (int64_t s = begin; s < end; s++) {
        int64_t b = j->len * s / SEGMENTS, e = j->len * (s + 1) / SEGMENTS;
        j->partial[s] = j->lv->extremum_row(j->op == CK_REDUCE_MAX, j->x + b, e - b);
    }
}

void ck_reduce(ck_reduce_op op, int64_t outer, int64_t len, int64_t inner, const float *x,
               float *y) {
    int64_t outputs = outer * inner;
    if (outputs == 0) return;
    if (len == 0) {
        float empty = op == CK_REDUCE_SUM    ? 0.0f
                      : op == CK_REDUCE_MEAN ? __builtin_nanf("")
                      : op == CK_REDUCE_MAX  ? -__builtin_inff()
                                             : __builtin_inff();
        for (int64_t i = 0; i < outputs; i++) y[i] = empty;
        return;
    }
    reduce_job j = {.op = op, .lv = active_leaves(), .len = len, .inner = inner, .x = x, .y = y};
    if (inner == 1) {
        int is_sum = op == CK_REDUCE_SUM || op == CK_REDUCE_MEAN;
        if (outer == 1 && is_sum && len >= SEGMENT_MIN) {
            ck_parallel_for(SEGMENTS, 1, reduce_segments, &j);
            y[0] = finish(op, join_tree(j.partial, SEGMENTS), len);
        } else if (outer == 1 && !is_sum && len >= 2 * MIN_CHUNK) {
            /* max/min are order-free: let each segment reduce, then reduce the segments */
            ck_parallel_for(SEGMENTS, 1, reduce_segments_extremum, &j);
            y[0] = j.lv->extremum_row(op == CK_REDUCE_MAX, j.partial, SEGMENTS);
        } else {
            ck_parallel_for(outer, CK_MAX(1, MIN_CHUNK / len), reduce_rows, &j);
        }
    } else {
        j.tiles = (inner + TILE - 1) / TILE;
        ck_parallel_for(outer * j.tiles, CK_MAX(1, MIN_CHUNK / (len * TILE)), reduce_cols, &j);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* ck_argmax                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* NaN counts as the largest value (NumPy's argmax): the first NaN wins and nothing replaces it. */
static inline int beats(float v, float best) { return v > best || (v != v && best == best); }

typedef struct {
    int64_t len, inner, tiles;
    const float *x;
    int32_t *idx;
} argmax_job;

static void argmax_units(void *ctx, int64_t begin, int64_t end) {
    const argmax_job *j = ctx;
    for (int64_t u = begin; u < end; u++) {
        int64_t o = u / j->tiles, j0 = (u % j->tiles) * TILE;
        int64_t w = CK_MIN(TILE, j->inner - j0);
        const float *x = j->x + o * j->len * j->inner + j0;
        int32_t *idx = j->idx + o * j->inner + j0;
        float best[TILE];
        for (int64_t k = 0; k < w; k++) { best[k] = x[k]; idx[k] = 0; }
        for (int64_t l = 1; l < j->len; l++)
            for (int64_t k = 0; k < w; k++) {
                float v = x[l * j->inner + k];
                if (beats(v, best[k])) { best[k] = v; idx[k] = (int32_t)l; }
            }
    }
}

void ck_argmax(int64_t outer, int64_t len, int64_t inner, const float *x, int32_t *idx) {
    if (outer * inner == 0) return;
    if (len == 0) { /* no maximum exists; the Swift layer rejects this, the kernel stays defined */
        for (int64_t i = 0; i < outer * inner; i++) idx[i] = 0;
        return;
    }
    argmax_job j = {len, inner, (inner + TILE - 1) / TILE, x, idx};
    ck_parallel_for(outer * j.tiles, CK_MAX(1, MIN_CHUNK / (len * CK_MIN(inner, TILE))),
                    argmax_units, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* Softmax and log-softmax                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Per row: m = max(x); softmax: y = exp(x − m) / Σ exp(x − m); log-softmax:
 * y = x − (m + log Σ exp(x − m)). Subtracting the max makes every exponent ≤ 0, so nothing
 * overflows and the largest term is exactly 1. A row containing +inf gives NaN (inf − inf), as
 * in NumPy; a row of −inf gives NaN (0/0). */

/* y[i] = exp(x[i] − shift); returns Σ y in LANES lanes (the same order on every path). y may be
 * NULL (log-softmax only needs the sum, and must not overwrite x when y aliases it). */
static float exp_shift_generic(int64_t n, const float *x, float shift, float *y) {
    float acc[LANES] = {0};
    for (int64_t i = 0; i < n; i++) {
        float e = expf(x[i] - shift);
        if (y) y[i] = e;
        acc[i % LANES] += e;
    }
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

#ifdef CK_HAVE_X86
CK_TARGET_AVX512 static float exp_shift_avx512(int64_t n, const float *x, float shift, float *y) {
    __m512 acc = _mm512_setzero_ps(), s = _mm512_set1_ps(shift);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = ck_exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        if (y) _mm512_storeu_ps(y + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = ck_exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s));
        if (y) _mm512_mask_storeu_ps(y + i, m, e);
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(m, e));
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, acc);
    for (int w = 8; w > 0; w /= 2)
        for (int l = 0; l < w; l++) lanes[l] += lanes[l + w];
    return lanes[0];
}

/* Two ymm accumulators = the same 16 lanes as the AVX-512 path, so both sum in one order. */
CK_TARGET_AVX2 static float exp_shift_avx2(int64_t n, const float *x, float shift, float *y) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(), s = _mm256_set1_ps(shift);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 e0 = ck_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        __m256 e1 = ck_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s));
        if (y) { _mm256_storeu_ps(y + i, e0); _mm256_storeu_ps(y + i + 8, e1); }
        lo = _mm256_add_ps(lo, e0);
        hi = _mm256_add_ps(hi, e1);
    }
    float lanes[16];
    _mm256_storeu_ps(lanes, lo);
    _mm256_storeu_ps(lanes + 8, hi);
    if (i < n) {
        float buf[16] = {0}, out[16];
        for (int64_t k = 0; k < n - i; k++) buf[k] = x[i + k] - shift;
        _mm256_storeu_ps(out, ck_exp_avx2(_mm256_loadu_ps(buf)));
        _mm256_storeu_ps(out + 8, ck_exp_avx2(_mm256_loadu_ps(buf + 8)));
        for (int64_t k = 0; k < n - i; k++) {
            if (y) y[i + k] = out[k];
            lanes[k] += out[k];
        }
    }
    for (int w = 8; w > 0; w /= 2)
        for (int l = 0; l < w; l++) lanes[l] += lanes[l + w];
    return lanes[0];
}
#endif

typedef struct {
    int log;
    ck_isa isa;
    const leaves *lv;
    int64_t cols;
    const float *x;
    float *y;
} softmax_job;

static void softmax_rows(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *j = ctx;
    int64_t n = j->cols;
    float (*exp_shift)(int64_t, const float *, float, float *) = exp_shift_generic;
#ifdef CK_HAVE_X86
    if (j->isa == CK_ISA_AVX512) exp_shift = exp_shift_avx512;
    else if (j->isa == CK_ISA_AVX2) exp_shift = exp_shift_avx2;
#endif
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->x + r * n;
        float *y = j->y + r * n;
        float m = j->lv->extremum_row(1, x, n);
        if (j->log) {
            float shift = m + logf(exp_shift(n, x, m, NULL));
            for (int64_t i = 0; i < n; i++) y[i] = x[i] - shift;
        } else {
            float inv = 1.0f / exp_shift(n, x, m, y);
            for (int64_t i = 0; i < n; i++) y[i] *= inv;
        }
    }
}

static void softmax_any(int log, int64_t rows, int64_t cols, const float *x, float *y) {
    if (rows <= 0 || cols <= 0) return;
    softmax_job j = {log, ck_isa_active(), active_leaves(), cols, x, y};
    /* exp costs ~10 cheap ops: split once a thread gets a few thousand elements */
    ck_parallel_for(rows, CK_MAX(1, 4096 / cols), softmax_rows, &j);
}

void ck_softmax(int64_t rows, int64_t cols, const float *x, float *y) {
    softmax_any(0, rows, cols, x, y);
}

void ck_log_softmax(int64_t rows, int64_t cols, const float *x, float *y) {
    softmax_any(1, rows, cols, x, y);
}
