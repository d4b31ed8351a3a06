/*
 * gemm_skinny.c — SGEMM for a tiny M or a tiny N (1..4 rows or columns of C): matrix-vector
 * products, AVX-512. Dense on one sample (`predict` of one row) is (1, units, inputs).
 *
 *   C[m×n] = act(alpha · op(A)[m×k] · op(B)[k×n] + beta · C + bias[n]),   all row-major.
 *
 * Why a separate path. The blocked driver (gemm.c) computes a 1×32 tile of C at a time: a tile
 * walks all k rows of B two cache lines at a time, ldb apart, and a k beyond one KC block stores
 * C and reads it back. With M = 1 every element of B is used once, so the product is a stream
 * of B through the core, and what decides the speed is how well that stream flows: here each
 * long operand is read once, along its rows, in one of two forms.
 *
 *   axpy form — the long operand X has its rows along the output's vector axis:
 *       Y[r][x] = Σ_p coef(r, p) · X[p][x]               r < R ≤ 4, vectorised along x
 *     tiny M, op(B) = B  (X = B [k×n], coef = op(A), Y = rows of C)
 *     tiny N, op(A) = Aᵀ (X = A [k×m], coef = op(B)ᵀ, Y = columns of C)
 *     A chunk of x (8 vectors for R ≤ 2, 4 for R = 3, 4) is held in R·NV zmm accumulators over
 *     the whole k loop, so C is written once; X is read row after row of the chunk, and the
 *     next rows are prefetched (a chunk of a long row is a strided stream).
 *
 *   dot form — the long operand X has its rows along k:
 *       D[x][y] = Σ_p X[x][p] · Y[y][p]                  y < NY ≤ 4, vectorised along p
 *     tiny M, op(B) = Bᵀ (X = B [n×k], Y = rows of op(A); Aᵀ is packed into m rows first)
 *     tiny N, op(A) = A  (X = A [m×k], Y = columns of op(B); B is packed into n rows first)
 *     XR rows of X (8 for NY = 1, else 4) against all NY rows of Y: XR·NY accumulators, each a
 *     16-lane partial sum reduced to a scalar at the end. Only for k ≥ 32: below that the
 *     reductions cost more than the blocked path's broadcasts.
 *
 * Accumulator chains. An FMA has a 4-cycle latency and two ports, so fewer than 8 independent
 * accumulators leave the core waiting. A narrow axpy chunk (N = 10: one vector, R = 1) splits k
 * into P interleaved phases with their own accumulators, added at the end (as the 12×32 kernel
 * does for short tiles).
 *
 * Threads. Above 2·10^6 flops the long operand is split between threads along x (columns of B,
 * or rows of A / of Bᵀ), so each thread streams its own part of it once.
 *
 * Epilogue. alpha, beta (C never read when beta == 0), bias, ReLU in the store; sigmoid and
 * tanh through ck_bias_act_row on the stored values (rows of C, or a small staging array when
 * the output is a column of C). alpha == 0 and k == 0 never reach this file (gemm.c scales C).
 */
#include "gemm_internal.h"

#define SKINNY 4 /* at most this many rows (tiny M) or columns (tiny N) of C */
#define DOT_MIN_K 32
#define PARALLEL_MIN_FLOPS (2.0e6)
/* Rows of X ahead that the axpy form prefetches. */
#define PREFETCH_ROWS 8

#define ALWAYS_INLINE __attribute__((always_inline)) inline

typedef struct {
    int k;
    float alpha, beta;
    const float *bias;
    ck_activation act;
    float *c;
    ptrdiff_t ldc;
    /* axpy: Y[r][x] = Σ_p coef[r·crs + p·cps] · x[p·ldx + x]; dot: D[x][y] = Σ_p x[x·ldx + p] · y[y·ldy + p] */
    const float *x;
    ptrdiff_t ldx;
    const float *coef;
    ptrdiff_t crs, cps;
    const float *y;
    ptrdiff_t ldy;
    int rows; /* R (axpy) or NY (dot) */
    int len;  /* extent of x */
    /* Where output (r, x) goes — r < rows the small index (a row of coef, or of Y), x < len —
     * C[r·ldc + x] (tiny M, transposed_out == 0) or C[x·ldc + r] (tiny N); bias is indexed by
     * the column of C. */
    int transposed_out;
} skinny_job;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static inline __mmask16 lanes_mask(int lanes) {
    return (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1);
}

/* Scalar epilogue of values staged in v[count] that land at C[out[i]], bias index bidx[i]. */
static void finish_scalars(const skinny_job *g, float *v, const ptrdiff_t *out, const int *bidx,
                           int count) {
    for (int i = 0; i < count; i++) {
        float x = g->alpha * v[i];
        if (g->beta != 0.0f) x += g->beta * g->c[out[i]];
        if (g->bias) x += g->bias[bidx[i]];
        if (g->act == CK_ACT_RELU) x = x > 0.0f ? x : 0.0f;
        v[i] = x;
    }
    if (g->act == CK_ACT_SIGMOID || g->act == CK_ACT_TANH) ck_bias_act_row(count, NULL, g->act, v);
    for (int i = 0; i < count; i++) g->c[out[i]] = v[i];
}

/* ---- axpy form ---- */

/* One chunk [x0, x0 + w) of the output, w ≤ 16·NV, NV = ceil(w / 16), for R rows. */
CK_TARGET_AVX512 static ALWAYS_INLINE void axpy_chunk(const skinny_job *g, int x0, int w,
                                                       const int R, const int NV) {
    /* Phases: at least 8 independent chains (see the file comment), at most 4 phases. */
    const int chains = R * NV;
    const int P = chains >= 8 ? 1 : chains >= 4 ? 2 : 4;
    const __mmask16 last = lanes_mask(w - 16 * (NV - 1));
    __m512 acc[4][SKINNY][8];
#pragma clang loop unroll(full)
    for (int q = 0; q < 4; q++)
#pragma clang loop unroll(full)
        for (int r = 0; r < SKINNY; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < 8; v++) acc[q][r][v] = _mm512_setzero_ps();

    const ptrdiff_t ldx = g->ldx, crs = g->crs, cps = g->cps;
    const float *x = g->x + x0;
    const float *cf = g->coef;
    const int k = g->k;
    /* A chunk narrower than a row of X is a strided stream: fetch PREFETCH_ROWS rows ahead. */
    const int prefetch = w < g->len || ldx > g->len;

#define STEP(q)                                                                                    \
    do {                                                                                           \
        _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) {                          \
            const __m512 xv = _mm512_maskz_loadu_ps(v == NV - 1 ? last : (__mmask16)0xFFFF,       \
                                                    x + (q) * ldx + 16 * v);                       \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) acc[q][r][v] =          \
                _mm512_fmadd_ps(_mm512_set1_ps(cf[r * crs + (q) * cps]), xv, acc[q][r][v]);        \
        }                                                                                          \
    } while (0)

    int p = 0;
    for (; p + P <= k; p += P) {
        if (prefetch)
#pragma clang loop unroll(full)
            for (int q = 0; q < P; q++)
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    _mm_prefetch((const char *)(x + (PREFETCH_ROWS + q) * ldx + 16 * v),
                                 _MM_HINT_T0);
        STEP(0);
        if (P > 1) STEP(1);
        if (P > 2) STEP(2);
        if (P > 3) STEP(3);
        x += P * ldx;
        cf += P * cps;
    }
    for (; p < k; p++) {
        STEP(0);
        x += ldx;
        cf += cps;
    }
#undef STEP
#pragma clang loop unroll(full)
    for (int q = 1; q < 4; q++)
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++)
                if (q < P) acc[0][r][v] = _mm512_add_ps(acc[0][r][v], acc[q][r][v]);

    if (!g->transposed_out) {
        /* Rows of C: C[r][x0 + ...] = act(alpha·acc + beta·C + bias), vector by vector. */
        const __m512 alpha = _mm512_set1_ps(g->alpha), beta = _mm512_set1_ps(g->beta);
        const int read_c = g->beta != 0.0f, relu = g->act == CK_ACT_RELU;
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            float *c = g->c + r * g->ldc + x0;
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) {
                const __mmask16 mask = v == NV - 1 ? last : (__mmask16)0xFFFF;
                __m512 o = _mm512_mul_ps(acc[0][r][v], alpha);
                if (read_c) o = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask, c + 16 * v), o);
                if (g->bias) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(mask, g->bias + x0 + 16 * v));
                if (relu) o = _mm512_max_ps(o, _mm512_setzero_ps());
                _mm512_mask_storeu_ps(c + 16 * v, mask, o);
            }
            if (g->act == CK_ACT_SIGMOID || g->act == CK_ACT_TANH)
                ck_bias_act_row(w, NULL, g->act, c);
        }
    } else {
        /* Columns of C: output (r, x) is C[x][r], bias[r]; staged and finished as scalars. */
        float v_[16 * 8];
        ptrdiff_t out[16 * 8];
        int bidx[16 * 8];
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(v_ + 16 * v, acc[0][r][v]);
            for (int i = 0; i < w; i++) out[i] = (ptrdiff_t)(x0 + i) * g->ldc + r, bidx[i] = r;
            finish_scalars(g, v_, out, bidx, w);
        }
    }
}

/* Chunk [x0, x0 + w), w ≤ 16·NVMAX, for a compile-time R: the body with NV = ceil(w / 16). */
#define AXPY_NV_SWITCH(R, NVMAX)                                                                  \
    do {                                                                                          \
        switch ((w + 15) / 16) {                                                                  \
        case 1: axpy_chunk(g, x0, w, R, 1); break;                                                \
        case 2: axpy_chunk(g, x0, w, R, 2); break;                                                \
        case 3: axpy_chunk(g, x0, w, R, 3); break;                                                \
        case 4: axpy_chunk(g, x0, w, R, 4); break;                                                \
        case 5: if (NVMAX > 4) axpy_chunk(g, x0, w, R, (NVMAX > 4 ? 5 : 1)); break;               \
        case 6: if (NVMAX > 4) axpy_chunk(g, x0, w, R, (NVMAX > 4 ? 6 : 1)); break;               \
        case 7: if (NVMAX > 4) axpy_chunk(g, x0, w, R, (NVMAX > 4 ? 7 : 1)); break;               \
        default: axpy_chunk(g, x0, w, R, NVMAX); break;                                           \
        }                                                                                         \
    } while (0)

/* Vectors per chunk: 8 for one or two rows (8 or 16 accumulators), 4 for three or four. */
static inline int axpy_nv(int rows) { return rows <= 2 ? 8 : 4; }

CK_TARGET_AVX512 static void axpy_range(const skinny_job *g, int begin, int end) {
    const int W = 16 * axpy_nv(g->rows);
    for (int x0 = begin; x0 < end; x0 += W) {
        const int w = CK_MIN(W, end - x0);
        switch (g->rows) {
        case 1: AXPY_NV_SWITCH(1, 8); break;
        case 2: AXPY_NV_SWITCH(2, 8); break;
        case 3: AXPY_NV_SWITCH(3, 4); break;
        default: AXPY_NV_SWITCH(4, 4); break;
        }
    }
}
#undef AXPY_NV_SWITCH

/* ---- dot form ---- */

/* Rows [x0, x0 + xr) of X (xr ≤ XR) against the NY rows of Y. */
CK_TARGET_AVX512 static ALWAYS_INLINE void dot_group(const skinny_job *g, int x0, const int xr,
                                                      const int NY) {
    __m512 acc[8][SKINNY];
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++)
#pragma clang loop unroll(full)
        for (int y = 0; y < SKINNY; y++) acc[i][y] = _mm512_setzero_ps();
    const float *x = g->x + (ptrdiff_t)x0 * g->ldx;
    const ptrdiff_t ldx = g->ldx, ldy = g->ldy;
    const int k = g->k;
    /* Whole vectors, then one masked step for the k tail (no load past a row). */
#define DOT_STEP(MASK)                                                                            \
    do {                                                                                          \
        __m512 yv[SKINNY];                                                                        \
        _Pragma("clang loop unroll(full)") for (int y = 0; y < NY; y++) yv[y] =                   \
            _mm512_maskz_loadu_ps(MASK, g->y + y * ldy + p);                                      \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < xr; i++) {                         \
            const __m512 xv = _mm512_maskz_loadu_ps(MASK, x + i * ldx + p);                       \
            _Pragma("clang loop unroll(full)") for (int y = 0; y < NY; y++) acc[i][y] =           \
                _mm512_fmadd_ps(xv, yv[y], acc[i][y]);                                            \
        }                                                                                         \
    } while (0)
    int p = 0;
    for (; p + 16 <= k; p += 16) DOT_STEP((__mmask16)0xFFFF);
    if (p < k) DOT_STEP(lanes_mask(k - p));
#undef DOT_STEP
    float v[8 * SKINNY];
    ptrdiff_t out[8 * SKINNY];
    int bidx[8 * SKINNY];
    int count = 0;
#pragma clang loop unroll(full)
    for (int i = 0; i < xr; i++)
#pragma clang loop unroll(full)
        for (int y = 0; y < NY; y++) {
            v[count] = _mm512_reduce_add_ps(acc[i][y]);
            /* Output (y, x0 + i): C[y][x] for a tiny M, C[x][y] for a tiny N. */
            out[count] = g->transposed_out ? (ptrdiff_t)(x0 + i) * g->ldc + y
                                           : (ptrdiff_t)y * g->ldc + x0 + i;
            bidx[count] = g->transposed_out ? y : x0 + i;
            count++;
        }
    finish_scalars(g, v, out, bidx, count);
}

#define DOT_XR_SWITCH(XR, NY)                                                                     \
    do {                                                                                          \
        for (; x0 + XR <= end; x0 += XR) dot_group(g, x0, XR, NY);                                \
        switch (end - x0) {                                                                       \
        case 1: dot_group(g, x0, 1, NY); break;                                                   \
        case 2: dot_group(g, x0, 2, NY); break;                                                   \
        case 3: dot_group(g, x0, 3, NY); break;                                                   \
        case 4: if (XR > 4) dot_group(g, x0, (XR > 4 ? 4 : 1), NY); break;                        \
        case 5: if (XR > 5) dot_group(g, x0, (XR > 5 ? 5 : 1), NY); break;                        \
        case 6: if (XR > 6) dot_group(g, x0, (XR > 6 ? 6 : 1), NY); break;                        \
        case 7: if (XR > 7) dot_group(g, x0, (XR > 7 ? 7 : 1), NY); break;                        \
        default: break;                                                                           \
        }                                                                                         \
    } while (0)

/* Rows of X per group: 8 against one row of Y, else 4 (8..16 accumulators). */
static inline int dot_xr(int ny) { return ny == 1 ? 8 : 4; }

CK_TARGET_AVX512 static void dot_range(const skinny_job *g, int begin, int end) {
    int x0 = begin;
    switch (g->rows) {
    case 1: DOT_XR_SWITCH(8, 1); break;
    case 2: DOT_XR_SWITCH(4, 2); break;
    case 3: DOT_XR_SWITCH(4, 3); break;
    default: DOT_XR_SWITCH(4, 4); break;
    }
}
#undef DOT_XR_SWITCH

/* ---- driver ---- */

typedef struct {
    const skinny_job *job;
    int dot;
} skinny_run;

static void skinny_thread(void *ctx, int thread, int nthreads) {
    const skinny_run *run = ctx;
    const skinny_job *g = run->job;
    int64_t begin, end;
    const int align = run->dot ? dot_xr(g->rows) : 16 * axpy_nv(g->rows);
    ck_split_range(g->len, nthreads, thread, align, &begin, &end);
    if (begin >= end) return;
    if (run->dot) dot_range(g, (int)begin, (int)end);
    else axpy_range(g, (int)begin, (int)end);
}

static _Thread_local ck_scratch packed_rows_buffer;

/* rows[r][p] = src[r·rs + p·ps] for r < count, p < k: Aᵀ's or B's few vectors made contiguous. */
static float *pack_rows(int count, int k, const float *src, ptrdiff_t rs, ptrdiff_t ps) {
    float *packed_rows = ck_scratch_reserve(&packed_rows_buffer, (size_t)count * k);
    if (!packed_rows) return NULL;
    for (int r = 0; r < count; r++)
        for (int p = 0; p < k; p++) packed_rows[(size_t)r * k + p] = src[r * rs + p * ps];
    return packed_rows;
}
#endif /* x86 */

int ck_gemm_skinny(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc,
                   const float *bias, ck_activation act) {
#if defined(__x86_64__) || defined(__i386__)
    if (ck_isa_active() != CK_ISA_AVX512 || (m > SKINNY && n > SKINNY)) return 0;
    skinny_job g = {.k = k, .alpha = alpha, .beta = beta, .bias = bias, .act = act, .c = c,
                    .ldc = ldc};
    int dot;
    if (m <= SKINNY && !trans_b) { /* axpy along the columns of B */
        dot = 0;
        g.x = b, g.ldx = ldb, g.len = n, g.rows = m;
        g.coef = a, g.crs = trans_a ? 1 : lda, g.cps = trans_a ? lda : 1;
        g.transposed_out = 0;
    } else if (m <= SKINNY) { /* dot: rows of Bᵀ [n×k] against the rows of op(A) */
        if (k < DOT_MIN_K) return 0;
        dot = 1;
        g.x = b, g.ldx = ldb, g.len = n, g.rows = m;
        g.y = a, g.ldy = lda;
        if (trans_a) { /* op(A) row i is A[p·lda + i]: make it contiguous */
            g.y = pack_rows(m, k, a, 1, lda), g.ldy = k;
            if (!g.y) return 0;
        }
        g.transposed_out = 0;
    } else if (trans_a) { /* axpy along the columns of Aᵀ [k×m] */
        dot = 0;
        g.x = a, g.ldx = lda, g.len = m, g.rows = n;
        g.coef = b, g.crs = trans_b ? ldb : 1, g.cps = trans_b ? 1 : ldb;
        g.transposed_out = 1;
    } else { /* dot: rows of A [m×k] against the columns of op(B) */
        if (k < DOT_MIN_K) return 0;
        dot = 1;
        g.x = a, g.ldx = lda, g.len = m, g.rows = n;
        g.y = b, g.ldy = ldb;
        if (!trans_b) { /* column j of B is B[p·ldb + j]: make it contiguous */
            g.y = pack_rows(n, k, b, 1, ldb), g.ldy = k;
            if (!g.y) return 0;
        }
        g.transposed_out = 1;
    }
    skinny_run run = {&g, dot};
    int nthreads = 2.0 * m * n * k < PARALLEL_MIN_FLOPS ? 1 : ck_num_threads();
    const int align = dot ? dot_xr(g.rows) : 16 * axpy_nv(g.rows);
    const int pieces = (g.len + align - 1) / align;
    if (nthreads > pieces) nthreads = pieces;
    if (nthreads <= 1) skinny_thread(&run, 0, 1);
    else ck_parallel_run(nthreads, skinny_thread, &run);
    return 1;
#else
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda;
    (void)b, (void)ldb, (void)beta, (void)c, (void)ldc, (void)bias, (void)act;
    return 0;
#endif
}
