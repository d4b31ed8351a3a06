/*
 * gemm_avx2.c — the AVX2+FMA SGEMM micro-kernel (a 6×16 tile of C in 12 ymm accumulators) and
 * the vectorised packing (Bᵀ and untransposed A through 8×8 / 4×4 register transposes) that the
 * AVX-512 path shares.
 *
 * 6×16 is the classic Haswell shape: 12 accumulators cover FMA latency × two ports, two B loads
 * and six broadcasts per 12 FMAs, 16 ymm registers in all. Same structure as gemm_avx512.c:
 * nv = 2 or 1 live vectors across N, A k-major (packed/transposed) or row-major (in place), lane
 * masks on the C edge, the epilogue fused into the store. Unlike AVX-512 masks, vmaskmovps costs
 * extra uops, so B loads are masked only in the variant for a ragged tile of in-place B.
 */
#include "gemm_internal.h"

#include <immintrin.h>

#define MR 6
#define NR 16

#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* Lane mask for the first n (0..8) lanes of a ymm: a sliding window over this table. */
static const int32_t mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

CK_TARGET_AVX2 static ALWAYS_INLINE void tile_kernel(const ck_gemm_tile *t, const int nv,
                                                      const int rmajor, const int masked_b) {
    __m256 acc[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
    }
    for (int r = 0; r < MR; r++)
        if (r < t->m) _mm_prefetch((const char *)(t->c + r * t->ldc), _MM_HINT_T0);

    const float *b = t->b;
    const ptrdiff_t bs = t->b_rs;
    const int kc = t->kc;
    /* Lanes of the last live vector that hold columns < n (B in place must not read past them). */
    const int n_last = t->n - 8 * (nv - 1); /* 1..8 */
    const __m256i last_mask =
        _mm256_loadu_si256((const __m256i *)(mask_window + 8 - (n_last > 8 ? 8 : n_last)));
    const __m256i full_mask = _mm256_set1_epi32(-1);
    const __m256i b0_mask = nv > 1 ? full_mask : last_mask;

#define FMA_ROW(r, aval)                                                                          \
    do {                                                                                          \
        __m256 av = _mm256_broadcast_ss(&(aval));                                                 \
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);                                           \
        if (nv > 1) acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);                               \
    } while (0)

    if (rmajor) {
        const ptrdiff_t rs = t->a_rs;
        const float *a0 = t->a, *a3 = a0 + 3 * rs;
        for (int p = 0; p < kc; p++) {
            __m256 b0 = masked_b && nv == 1 ? _mm256_maskload_ps(b, b0_mask) : _mm256_loadu_ps(b);
            __m256 b1 = nv == 1   ? b0
                        : masked_b ? _mm256_maskload_ps(b + 8, last_mask)
                                   : _mm256_loadu_ps(b + 8);
            FMA_ROW(0, a0[0]);
            FMA_ROW(1, a0[rs]);
            FMA_ROW(2, a0[2 * rs]);
            FMA_ROW(3, a3[0]);
            FMA_ROW(4, a3[rs]);
            FMA_ROW(5, a3[2 * rs]);
            a0++, a3++;
            __asm__("" : "+r"(a0), "+r"(a3)); /* keep [base + rs·4|8] addressing (see gemm_avx512.c) */
            b += bs;
        }
    } else {
        /* A sliver: MR×kc, column-major (6 contiguous floats per k-step), stride a_cs. */
        const ptrdiff_t cs = t->a_cs;
        const float *a = t->a;
        for (int p = 0; p < kc; p++) {
            __m256 b0 = masked_b && nv == 1 ? _mm256_maskload_ps(b, b0_mask) : _mm256_loadu_ps(b);
            __m256 b1 = nv == 1   ? b0
                        : masked_b ? _mm256_maskload_ps(b + 8, last_mask)
                                   : _mm256_loadu_ps(b + 8);
#pragma clang loop unroll(full)
            for (int r = 0; r < MR; r++) FMA_ROW(r, a[r]);
            a += cs;
            b += bs;
        }
    }
#undef FMA_ROW

    const __m256 alpha = _mm256_set1_ps(t->alpha), beta = _mm256_set1_ps(t->beta);
    const int scale = t->alpha != 1.0f, read_c = t->beta != 0.0f;
    const int relu = t->act == CK_ACT_RELU;
    __m256 bias[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    if (t->bias) {
        for (int v = 0; v < nv; v++)
            bias[v] = _mm256_maskload_ps(t->bias + 8 * v, v == nv - 1 ? last_mask : full_mask);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r >= t->m) continue;
        float *c = t->c + r * t->ldc;
        for (int v = 0; v < nv; v++) {
            __m256i mask = v == nv - 1 ? last_mask : full_mask;
            __m256 x = scale ? _mm256_mul_ps(acc[r][v], alpha) : acc[r][v];
            if (read_c) x = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c + 8 * v, mask), x);
            if (t->bias) x = _mm256_add_ps(x, bias[v]);
            if (relu) x = _mm256_max_ps(x, _mm256_setzero_ps());
            _mm256_maskstore_ps(c + 8 * v, mask, x);
        }
    }
    /* Sigmoid and tanh: a vector pass over the stored tile, once no accumulator is live. */
    if (t->act == CK_ACT_SIGMOID || t->act == CK_ACT_TANH)
        for (int r = 0; r < t->m; r++) ck_bias_act_row(t->n, NULL, t->act, t->c + r * t->ldc);
}

/* vmaskmovps costs extra uops on every k-step, so the masked B loads are used only where they
 * are needed: B read in place with a ragged last vector. Packed B is zero-padded. */
#define DISPATCH(rmajor)                                                                          \
    do {                                                                                          \
        const int wide = t->n > 8;                                                                \
        const int masked = t->b_rs != NR && (t->n & 7) != 0;                                      \
        if (wide) masked ? tile_kernel(t, 2, rmajor, 1) : tile_kernel(t, 2, rmajor, 0);           \
        else masked ? tile_kernel(t, 1, rmajor, 1) : tile_kernel(t, 1, rmajor, 0);                \
    } while (0)

CK_TARGET_AVX2 static void kernel_kmajor(const ck_gemm_tile *t) { DISPATCH(0); }

CK_TARGET_AVX2 static void kernel_rmajor(const ck_gemm_tile *t) { DISPATCH(1); }

/* 8×8 transpose of r[0..7] in place (the usual unpack / shuffle / permute2f128 network). */
CK_TARGET_AVX2 static ALWAYS_INLINE void transpose8x8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* B packing. op(B) = B: each panel row is a contiguous run of B, a straight vector copy.
 * op(B) = Bᵀ: column j of op(B) is row j of B, so full 8×8 blocks go through registers
 * (8 contiguous loads, a transpose, 8 contiguous stores); ragged edges fall back to scalar. */
CK_TARGET_AVX2 void ck_gemm_pack_b_avx2(int trans_b, int kc, int nc, const float *b, int ldb,
                                        int nr, float *packed) {
    if (!trans_b && (nr % 8) == 0) {
        /* Row by row: each row of the block is read once, front to back (a stream the hardware
         * prefetchers follow), and scattered into the panels. Panel by panel would read kc
         * short pieces ldb apart, which with a power-of-two ldb fall into a few cache sets. */
        const int full = nc / nr * nr;
        for (int p = 0; p < kc; p++) {
            const float *src = b + (size_t)p * ldb;
            float *dst = packed + (size_t)p * nr;
            for (int j0 = 0; j0 < full; j0 += nr) {
                float *row = dst + (size_t)j0 * kc; /* panel j0 / nr, row p */
                for (int j = 0; j < nr; j += 8)
                    _mm256_store_ps(row + j, _mm256_loadu_ps(src + j0 + j));
            }
            if (full < nc) {
                float *row = dst + (size_t)full * kc;
                int j = 0;
                for (; full + j + 8 <= nc; j += 8)
                    _mm256_store_ps(row + j, _mm256_loadu_ps(src + full + j));
                for (; full + j < nc; j++) row[j] = src[full + j];
                for (; j < nr; j++) row[j] = 0.0f;
            }
        }
        return;
    }
    for (int j0 = 0; j0 < nc; j0 += nr) {
        const int w = CK_MIN(nr, nc - j0);
        float *panel = packed + (size_t)j0 * kc; /* kc×nr, row-major within the panel */
        if (!trans_b) {
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t)p * ldb + j0;
                float *dst = panel + (size_t)p * nr;
                int j = 0;
                for (; j + 8 <= w; j += 8) _mm256_store_ps(dst + j, _mm256_loadu_ps(src + j));
                for (; j < w; j++) dst[j] = src[j];
                for (; j < nr; j++) dst[j] = 0.0f;
            }
        } else if (w == nr && (nr % 8) == 0) {
            int p = 0;
            for (; p + 8 <= kc; p += 8) {
                for (int j = 0; j < nr; j += 8) {
                    __m256 r[8];
                    for (int i = 0; i < 8; i++)
                        r[i] = _mm256_loadu_ps(b + (size_t)(j0 + j + i) * ldb + p);
                    transpose8x8(r);
                    for (int i = 0; i < 8; i++) _mm256_store_ps(panel + (size_t)(p + i) * nr + j, r[i]);
                }
            }
            for (; p < kc; p++)
                for (int j = 0; j < nr; j++) panel[(size_t)p * nr + j] = b[(size_t)(j0 + j) * ldb + p];
        } else {
            ck_gemm_pack_b_generic(trans_b, kc, w, b + (size_t)j0 * ldb, ldb, nr, panel);
        }
    }
}

/* A packing: slivers of mr rows, each mr×kc column-major. op(A) = A needs a transpose (row i of
 * A becomes lane i of every k-step), done through 8×8 and 4×4 register blocks; op(A) = Aᵀ is
 * already k-major and is copied. Ragged rows and k tails go scalar; rows ≥ h are zero. */
CK_TARGET_AVX2 void ck_gemm_pack_a_avx2(int trans_a, int mc, int kc, const float *a, int lda,
                                        int mr, float *packed) {
    if (trans_a) {
        ck_gemm_pack_a_generic(trans_a, mc, kc, a, lda, mr, packed);
        return;
    }
    for (int i0 = 0; i0 < mc; i0 += mr) {
        const int h = CK_MIN(mr, mc - i0);
        float *sliver = packed + (size_t)i0 * kc;
        const float *rows = a + (size_t)i0 * lda;
        const int kc8 = kc & ~7;
        int r0 = 0;
        for (; r0 + 8 <= h; r0 += 8) {
            for (int p0 = 0; p0 < kc8; p0 += 8) {
                __m256 r[8];
                for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(rows + (size_t)(r0 + i) * lda + p0);
                transpose8x8(r);
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(sliver + (size_t)(p0 + i) * mr + r0, r[i]);
            }
        }
        for (; r0 + 4 <= h; r0 += 4) {
            for (int p0 = 0; p0 < kc8; p0 += 4) {
                __m128 r0v = _mm_loadu_ps(rows + (size_t)(r0 + 0) * lda + p0);
                __m128 r1v = _mm_loadu_ps(rows + (size_t)(r0 + 1) * lda + p0);
                __m128 r2v = _mm_loadu_ps(rows + (size_t)(r0 + 2) * lda + p0);
                __m128 r3v = _mm_loadu_ps(rows + (size_t)(r0 + 3) * lda + p0);
                _MM_TRANSPOSE4_PS(r0v, r1v, r2v, r3v);
                _mm_storeu_ps(sliver + (size_t)(p0 + 0) * mr + r0, r0v);
                _mm_storeu_ps(sliver + (size_t)(p0 + 1) * mr + r0, r1v);
                _mm_storeu_ps(sliver + (size_t)(p0 + 2) * mr + r0, r2v);
                _mm_storeu_ps(sliver + (size_t)(p0 + 3) * mr + r0, r3v);
            }
        }
        /* Rows the register blocks did not cover, then the k tail of the covered ones. */
        for (int r = r0; r < h; r++)
            for (int p = 0; p < kc8; p++) sliver[(size_t)p * mr + r] = rows[(size_t)r * lda + p];
        for (int r = 0; r < h; r++)
            for (int p = kc8; p < kc; p++) sliver[(size_t)p * mr + r] = rows[(size_t)r * lda + p];
        for (int r = h; r < mr; r++)
            for (int p = 0; p < kc; p++) sliver[(size_t)p * mr + r] = 0.0f;
    }
}

const ck_gemm_kernels ck_gemm_kernels_avx2 = {
    .mr = MR,
    .nr = NR,
    .lanes = 8,
    .kc = 384,
    .nc = 512,
    .mc = 1536,
    .b_in_place = 1,
    .kernel_kmajor = kernel_kmajor,
    .kernel_rmajor = kernel_rmajor,
    .pack_b = ck_gemm_pack_b_avx2,
    .pack_a = ck_gemm_pack_a_avx2,
};
