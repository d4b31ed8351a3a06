/*
 * gemm_generic.c — the portable SGEMM micro-kernel (a 4×16 tile, plain C) and portable packing.
 *
 * Written so that the compiler's baseline vectoriser (SSE2 on x86-64, NEON on arm64) turns the
 * inner j loop into vector multiply-adds over the 16 contiguous floats of a packed B row. It
 * reads all NR floats of a B row, so B is always packed (zero-padded) on this path. It is the
 * correctness anchor on machines without AVX2, not a performance path.
 */
#include "gemm_internal.h"

#define MR 4
#define NR 16

static void kernel(const ck_gemm_tile *t) {
    float acc[MR][NR] = {{0}};
    const float *b = t->b;
    for (int p = 0; p < t->kc; p++) {
        for (int r = 0; r < MR; r++) {
            /* Row-major A is only passed with all MR rows present, so MR reads are in bounds. */
            const float ar = t->a[r * t->a_rs + (ptrdiff_t)p * t->a_cs];
            for (int j = 0; j < NR; j++) acc[r][j] += ar * b[j];
        }
        b += t->b_rs;
    }
    for (int r = 0; r < t->m; r++) {
        float *c = t->c + r * t->ldc;
        for (int j = 0; j < t->n; j++) {
            float x = t->alpha * acc[r][j];
            if (t->beta != 0.0f) x += t->beta * c[j];
            c[j] = x;
        }
        if (t->bias || t->act != CK_ACT_IDENTITY) ck_bias_act_row(t->n, t->bias, t->act, c);
    }
}

void ck_gemm_pack_b_generic(int trans_b, int kc, int nc, const float *b, int ldb, int nr,
                            float *packed) {
    for (int j0 = 0; j0 < nc; j0 += nr) {
        const int w = CK_MIN(nr, nc - j0);
        float *panel = packed + (size_t)j0 * kc; /* kc×nr, row-major within the panel */
        if (!trans_b) {
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t)p * ldb + j0;
                float *dst = panel + (size_t)p * nr;
                int j = 0;
                for (; j < w; j++) dst[j] = src[j];
                for (; j < nr; j++) dst[j] = 0.0f;
            }
        } else {
            /* Read B's rows sequentially; the strided writes land in the (cache-resident) panel. */
            for (int j = 0; j < w; j++) {
                const float *src = b + (size_t)(j0 + j) * ldb;
                for (int p = 0; p < kc; p++) panel[(size_t)p * nr + j] = src[p];
            }
            for (int p = 0; p < kc; p++)
                for (int j = w; j < nr; j++) panel[(size_t)p * nr + j] = 0.0f;
        }
    }
}

void ck_gemm_pack_a_generic(int trans_a, int mc, int kc, const float *a, int lda, int mr,
                         float *packed) {
    for (int i0 = 0; i0 < mc; i0 += mr) {
        const int h = CK_MIN(mr, mc - i0);
        float *sliver = packed + (size_t)i0 * kc;
        if (trans_a) {
            /* op(A)(i, p) = A[p][i]: MR contiguous floats per k-step, a straight copy. */
            for (int p = 0; p < kc; p++) {
                const float *src = a + (size_t)p * lda + i0;
                float *dst = sliver + (size_t)p * mr;
                int r = 0;
                for (; r < h; r++) dst[r] = src[r];
                for (; r < mr; r++) dst[r] = 0.0f;
            }
        } else {
            /* op(A)(i, p) = A[i][p]: read each row sequentially, scatter with stride MR. */
            for (int r = 0; r < h; r++) {
                const float *src = a + (size_t)(i0 + r) * lda;
                for (int p = 0; p < kc; p++) sliver[(size_t)p * mr + r] = src[p];
            }
            for (int r = h; r < mr; r++)
                for (int p = 0; p < kc; p++) sliver[(size_t)p * mr + r] = 0.0f;
        }
    }
}

const ck_gemm_kernels ck_gemm_kernels_generic = {
    .mr = MR,
    .nr = NR,
    .lanes = 4,
    .kc = 256,
    .nc = 512,
    .mc = 1024,
    .b_in_place = 0, /* the j loop reads all NR columns of a B row */
    .kernel_kmajor = kernel,
    .kernel_rmajor = kernel,
    .pack_b = ck_gemm_pack_b_generic,
    .pack_a = ck_gemm_pack_a_generic,
};
