/*
 * gemm_avx512.c — the AVX-512 SGEMM micro-kernel: a 12×32 tile of C in 24 zmm accumulators.
 *
 * Per k-step: two 16-float loads of B, twelve broadcasts of A, 24 FMAs. 24 independent
 * accumulators cover the FMA latency (4 cycles) on two FMA ports with room to spare, and 14 loads
 * per 24 FMAs stay inside the load ports' budget. The other 8 zmm registers hold the two B
 * vectors and the broadcasts. Measured here: ~90% of the FMA peak with operands in L1.
 *
 * One body, specialised by the compiler (always_inline + constant arguments):
 *   nv   = 2 or 1 live vectors across N (a tile of at most 16 columns, e.g. N = 10, costs half),
 *   rows = 1..12 computed rows (an edge sliver of M = 64 or 128 does not pay for 12, and an
 *          edge of A read in place is computed in place: no copy, no row read past M),
 *   A k-major (packed, or transposed in memory: 12 contiguous floats per k-step) or row-major
 *   (A read in place, one base pointer per three rows: the small-matrix path),
 *   packed = 1 for a full tile of packed A and B (the big squares): constant strides, four
 *          k-steps per loop iteration,
 *   prefetch = 1 for a full 12×32 tile of row-major A that also fetches the next sliver's rows
 *          (t->a_next; the driver says when it pays), a separate body so the others pay nothing.
 * The N edge is a lane mask, on the B loads (B may be read in place, so no lane past n is
 * touched; a masked load costs what a load costs here) and on the C load/store.
 * The epilogue — alpha, beta (C not read when beta == 0), bias, ReLU — is fused into the store.
 */
#include "gemm_internal.h"

#include <immintrin.h>

#define MR 12
#define NR 32

#define ALWAYS_INLINE __attribute__((always_inline)) inline

CK_TARGET_AVX512 static ALWAYS_INLINE void tile_kernel(const ck_gemm_tile *t, const int nv,
                                                        const int rmajor, const int rows,
                                                        const int packed, const int prefetch) {
    __m512 acc[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    /* The C tile is touched only after the k loop; ask for it now so the store does not wait
     * (a short k loop would not hide the fetch, and its tile is usually in L1 already). */
    if (t->kc >= 64) {
        float *const c = t->c;
        const ptrdiff_t ldc = t->ldc;
        for (int r = 0; r < MR; r++)
            if (r < t->m) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
    }

    const float *b = t->b;
    const ptrdiff_t bs = packed ? NR : t->b_rs; /* packed: a constant, so addresses fold */
    const int kc = t->kc;
    /* Lanes of the last live vector that hold columns < n (B in place must not read past them). */
    const int n_last = t->n - 16 * (nv - 1); /* 1..16 */
    const __mmask16 last_mask = (__mmask16)(n_last >= 16 ? 0xFFFF : (1u << n_last) - 1);
    const __mmask16 b0_mask = nv > 1 ? (__mmask16)0xFFFF : last_mask;

    /* A tile of few rows has few accumulators: 4 rows × 1 vector is 4 dependent FMA chains,
     * which wait on the FMA latency (4 cycles) instead of filling two ports. Such tiles split k
     * into P interleaved phases, phase q summing into the idle accumulators of rows r + q·rows,
     * and add the phases at the end: at least 8 chains, P ≤ 4, P·rows ≤ MR. */
    const int chains = rows * nv;
    int P = (8 + chains - 1) / chains;
    if (P > 4) P = 4;
    while (P > 1 && P * rows > MR) P--;

    /* One k-step j of an unrolled group into accumulator set q; AVAL(r, j) is A's element. */
#define STEP(q, j, AVAL)                                                                          \
    do {                                                                                          \
        const __m512 b0 = _mm512_maskz_loadu_ps(b0_mask, b + (j) * bs);                           \
        const __m512 b1 = nv > 1 ? _mm512_maskz_loadu_ps(last_mask, b + (j) * bs + 16) : b0;      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                         \
            if (r < rows && r + (q) * rows < MR) {                                                \
                const __m512 av = _mm512_set1_ps(AVAL(r, j));                                     \
                acc[r + (q) * rows][0] = _mm512_fmadd_ps(av, b0, acc[r + (q) * rows][0]);         \
                if (nv > 1)                                                                       \
                    acc[r + (q) * rows][1] = _mm512_fmadd_ps(av, b1, acc[r + (q) * rows][1]);     \
            }                                                                                     \
        }                                                                                         \
    } while (0)
#define GROUP(AVAL)                                                                               \
    do {                                                                                          \
        STEP(0, 0, AVAL);                                                                         \
        if (P > 1) STEP(1, 1, AVAL);                                                              \
        if (P > 2) STEP(2, 2, AVAL);                                                              \
        if (P > 3) STEP(3, 3, AVAL);                                                              \
    } while (0)

    int p = 0;
    if (rmajor) {
        /* Rows r, r+1, r+2 of A are base[0], base[rs], base[2·rs]: one base pointer per three rows
         * keeps every address a [base + rs·4|8] form and leaves the GPRs for the loop. */
        const ptrdiff_t rs = t->a_rs;
        const float *a0 = t->a, *a3 = a0 + 3 * rs, *a6 = a0 + 6 * rs, *a9 = a0 + 9 * rs;
        const float *next = t->a_next; /* with prefetch only */
#define AVAL_R(r, j) ((r) < 3 ? a0 : (r) < 6 ? a3 : (r) < 9 ? a6 : a9)[((r) % 3) * rs + (j)]
        for (; p + P <= kc; p += P) {
            /* The next sliver's rows (gemm.c says when), one cache line of each per 16
             * k-steps, into L2: into L1 they would evict the sliver the second tile reuses.
             * Not in one-vector tiles (N ≤ 16): with half the FMAs per k-step the extra load
             * slots cost more than the misses (128×10×512: 6% slower). */
            if (prefetch && (p & 15) < P) {
                _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++)
                    _mm_prefetch((const char *)(next + r * rs + p), _MM_HINT_T1);
            }
            GROUP(AVAL_R);
            a0 += P, a3 += P, a6 += P, a9 += P;
            /* Opaque to the optimiser: otherwise it rewrites the twelve addresses as a chain of
             * pointer adds, ALU uops that compete with the FMAs for ports 0 and 5. */
            __asm__("" : "+r"(a0), "+r"(a3), "+r"(a6), "+r"(a9));
            b += P * bs;
        }
        for (; p < kc; p++) {
            STEP(0, 0, AVAL_R);
            a0++, a3++, a6++, a9++;
            b += bs;
        }
#undef AVAL_R
    } else if (packed) {
        /* Packed sliver and panel (the big squares' inner loop): constant strides (the
         * addresses fold into displacements) and four k-steps per iteration. A software
         * prefetch of the B stream 8 steps ahead measured no gain here (the panel is one
         * contiguous stream the hardware follows). */
        const float *a = t->a;
#define AVAL_P(r, j) a[(j) * MR + (r)]
        for (; p + 4 <= kc; p += 4) {
            STEP(0, 0, AVAL_P);
            STEP(0, 1, AVAL_P);
            STEP(0, 2, AVAL_P);
            STEP(0, 3, AVAL_P);
            a += 4 * MR;
            b += 4 * NR;
        }
        for (; p < kc; p++) {
            STEP(0, 0, AVAL_P);
            a += MR;
            b += NR;
        }
#undef AVAL_P
    } else {
        /* A sliver: MR×kc, column-major (12 contiguous floats per k-step), stride a_cs. */
        const ptrdiff_t cs = t->a_cs;
        const float *a = t->a;
        /* Transposed A read in place steps a whole row of A per k-step, often across a page,
         * where the hardware prefetchers stop: fetch the sliver a few steps ahead. A packed
         * sliver is contiguous and needs no help. */
        const int prefetch_a = cs != MR;
#define AVAL_K(r, j) a[(j) * cs + (r)]
        for (; p + P <= kc; p += P) {
            if (prefetch_a)
                for (int j = 0; j < P; j++)
                    _mm_prefetch((const char *)(a + (8 + j) * cs), _MM_HINT_T0);
            GROUP(AVAL_K);
            a += P * cs;
            b += P * bs;
        }
        for (; p < kc; p++) {
            STEP(0, 0, AVAL_K);
            a += cs;
            b += bs;
        }
#undef AVAL_K
    }
#undef GROUP
#undef STEP
    /* Sum the phases into the first set. */
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        for (int q = 1; q < 4; q++) {
            if (q < P && r < rows && r + q * rows < MR) {
                acc[r][0] = _mm512_add_ps(acc[r][0], acc[r + q * rows][0]);
                if (nv > 1) acc[r][1] = _mm512_add_ps(acc[r][1], acc[r + q * rows][1]);
            }
        }
    }

    /* Epilogue: C = act(alpha·acc + beta·C + bias), masked on the last vector of a short tile. */
    const __m512 alpha = _mm512_set1_ps(t->alpha), beta = _mm512_set1_ps(t->beta);
    const int scale = t->alpha != 1.0f, read_c = t->beta != 0.0f;
    const int relu = t->act == CK_ACT_RELU;
    __m512 bias[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (t->bias) {
        for (int v = 0; v < nv; v++)
            bias[v] = _mm512_maskz_loadu_ps(v == nv - 1 ? last_mask : 0xFFFF, t->bias + 16 * v);
    }
    /* Fully unrolled (constant indices), so acc[][] stays in registers rather than on the stack.
     * Rows past `rows` are never stored (m ≤ rows), so small bodies carry no checks for them; the
     * plain store (alpha 1, beta 0, no bias, no activation) tests nothing per row. */
    float *const c0 = t->c;
    const ptrdiff_t ldc = t->ldc;
    const int m = t->m;
    if (!scale && !read_c && !t->bias && !relu) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            if (r >= rows || r >= m) continue;
            for (int v = 0; v < nv; v++)
                _mm512_mask_storeu_ps(c0 + r * ldc + 16 * v,
                                      v == nv - 1 ? last_mask : (__mmask16)0xFFFF, acc[r][v]);
        }
    } else {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            if (r >= rows || r >= m) continue;
            float *c = c0 + r * ldc;
            for (int v = 0; v < nv; v++) {
                __mmask16 mask = v == nv - 1 ? last_mask : (__mmask16)0xFFFF;
                __m512 x = scale ? _mm512_mul_ps(acc[r][v], alpha) : acc[r][v];
                if (read_c) x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask, c + 16 * v), x);
                if (t->bias) x = _mm512_add_ps(x, bias[v]);
                if (relu) x = _mm512_max_ps(x, _mm512_setzero_ps());
                _mm512_mask_storeu_ps(c + 16 * v, mask, x);
            }
        }
    }
    /* Sigmoid and tanh: a vector pass over the stored tile (bias is already in; the tile is in
     * L1), after the last accumulator is dead so that the call spills nothing. */
    if (t->act == CK_ACT_SIGMOID || t->act == CK_ACT_TANH)
        for (int r = 0; r < t->m; r++) ck_bias_act_row(t->n, NULL, t->act, t->c + r * t->ldc);
}

/* The row count is a compile-time constant of each body: rows 1..12, two widths. A packed
 * sliver is zero-padded to MR rows, so an edge computes 4, 8 or 12 of them (fewer bodies hot);
 * A read in place (t->a_rows == t->m) computes exactly its rows and reads no row past them, so
 * the driver never copies a ragged sliver (the small-matrix path: 8×8, 33×17, M = 64 or 1). */
#define ROW_CASE(R, RMAJOR)                                                                       \
    case R:                                                                                       \
        if (wide) tile_kernel(t, 2, RMAJOR, R, 0, 0);                                             \
        else tile_kernel(t, 1, RMAJOR, R, 0, 0);                                                  \
        return;
#define ROW_SWITCH(rows, RMAJOR)                                                                  \
    switch (rows) {                                                                               \
        ROW_CASE(1, RMAJOR) ROW_CASE(2, RMAJOR) ROW_CASE(3, RMAJOR) ROW_CASE(4, RMAJOR)           \
        ROW_CASE(5, RMAJOR) ROW_CASE(6, RMAJOR) ROW_CASE(7, RMAJOR) ROW_CASE(8, RMAJOR)           \
        ROW_CASE(9, RMAJOR) ROW_CASE(10, RMAJOR) ROW_CASE(11, RMAJOR)                             \
    default:                                                                                      \
        if (wide) tile_kernel(t, 2, RMAJOR, MR, 0, 0);                                            \
        else tile_kernel(t, 1, RMAJOR, MR, 0, 0);                                                 \
        return;                                                                                   \
    }

/* Rows to compute: m, or m rounded up to 4/8/12 when that many rows may be read (padded). */
static inline int rows_for(const ck_gemm_tile *t) {
    const int rounded = (t->m + 3) & ~3;
    return rounded <= t->a_rows ? rounded : t->m;
}

CK_TARGET_AVX512 static void kernel_kmajor(const ck_gemm_tile *t) {
    const int wide = t->n > 16;
    if (wide && t->a_cs == MR && t->b_rs == NR && rows_for(t) == MR) {
        tile_kernel(t, 2, 0, MR, 1, 0); /* packed A and B, a full 12-row tile */
        return;
    }
    ROW_SWITCH(rows_for(t), 0)
}

CK_TARGET_AVX512 static void kernel_rmajor(const ck_gemm_tile *t) {
    const int wide = t->n > 16;
    if (wide && t->m == MR && t->a_next) {
        tile_kernel(t, 2, 1, MR, 0, 1); /* a full tile that prefetches the next sliver */
        return;
    }
    ROW_SWITCH(t->m, 1)
}
#undef ROW_SWITCH
#undef ROW_CASE

const ck_gemm_kernels ck_gemm_kernels_avx512 = {
    .mr = MR,
    .nr = NR,
    .lanes = 16,
    .kc = 384,
    .kc_packed = 512,
    .kc_rmajor = 800, /* a 12×800 sliver of A is 37.5 KiB of the 48 KiB L1 */
    .nc = 512,
    .mc = 3072, /* 2048² in one A block: B is packed once, not once per block (+1-2%) */
    .b_in_place = 1,
    .a_edges_in_place = 1,
    .kernel_kmajor = kernel_kmajor,
    .kernel_rmajor = kernel_rmajor,
    .pack_b = ck_gemm_pack_b_avx2,
    .pack_a = ck_gemm_pack_a_avx2,
};
