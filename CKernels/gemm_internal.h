/*
 * gemm_internal.h — the contract between the GEMM driver (gemm.c) and its per-ISA micro-kernels
 * (gemm_avx512.c, gemm_avx2.c, gemm_generic.c). Not part of the public API.
 *
 * Orientation. C is row-major, so the micro-kernel vectorises along N (a row of C is contiguous)
 * and broadcasts elements of A: an MR×NR tile of C lives in MR·(NR/lanes) vector registers, and
 * one k-step is NR/lanes vector loads of B, MR broadcasts of A and MR·NR/lanes FMAs.
 */
#ifndef CKERNELS_GEMM_INTERNAL_H
#define CKERNELS_GEMM_INTERNAL_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* One call of a micro-kernel: C[m×n] (m ≤ MR, n ≤ NR, the valid part of the tile) =
 *   epilogue(alpha · A_sliver[MR×kc] · B_panel[kc×NR] + beta · C).
 * A element (r, p) is a[r·a_rs + p·a_cs]: packed slivers and transposed A have a_rs == 1
 * ("k-major", MR contiguous floats per k-step); untransposed A read in place has a_cs == 1
 * ("row-major", one row of A per tile row). Row-major A is only passed with m == MR rows
 * present in memory, unless the ISA sets a_edges_in_place; a_rows says how many rows of A the
 * kernel may read (MR for a packed, zero-padded sliver; m for A read in place).
 * B is kc rows of NR floats, b_rs apart: a packed panel (b_rs == NR, 64-byte aligned,
 * zero-padded beyond n) or op(B) = B read in place (b_rs == ldb, any alignment; the kernel must
 * not read lanes beyond n, it masks them).
 * beta == 0 never reads C. bias (already offset to the tile's first column, or NULL) and act are
 * applied only when the driver passes them, i.e. on the last KC block of the k loop. */
typedef struct {
    int kc;
    const float *a;
    ptrdiff_t a_rs, a_cs;
    const float *b;
    ptrdiff_t b_rs;
    float *c;
    ptrdiff_t ldc;
    int m, n;
    int a_rows; /* rows of A readable (m ≤ a_rows ≤ MR) */
    const float *a_next; /* row-major A: the next sliver's first row (same a_rs), for the
                            kernel to prefetch while it computes this one; NULL: none */
    float alpha, beta;
    const float *bias;
    ck_activation act;
} ck_gemm_tile;

typedef void (*ck_gemm_ukernel)(const ck_gemm_tile *t);

/* Packs op(B)[kc×nc] (b points at op(B)'s element (0, 0) of the block) into panels of nr
 * columns: panel q holds columns [q·nr, q·nr + nr) as kc rows of nr floats, zero-padded. */
typedef void (*ck_gemm_pack_b)(int trans_b, int kc, int nc, const float *b, int ldb, int nr,
                               float *packed);

/* Packs op(A)[mc×kc] (a points at op(A)'s element (0, 0) of the block) into slivers of mr
 * rows: sliver q holds rows [q·mr, q·mr + mr) as kc groups of mr floats, zero-padded. */
typedef void (*ck_gemm_pack_a)(int trans_a, int mc, int kc, const float *a, int lda, int mr,
                               float *packed);

/* One ISA's GEMM: tile shape, its kernels and the cache blocking tuned for it.
 *   kc: depth of a packed block (A sliver MR×kc stays in L1 across the jr loop),
 *   nc: width of the packed B block (kc×nc, lives in L2),
 *   mc: height of a packed A block (mc×kc, lives in L2/L3; used when A is worth packing),
 *   kc_packed: the depth used instead of kc when A is packed (fewer passes over a large C),
 *   kc_rmajor: the depth used instead of kc for untransposed A read in place (whole rows). */
typedef struct {
    int mr, nr, lanes;
    int kc, nc, mc;
    int kc_packed; /* kc when A is packed (0: kc) */
    int kc_rmajor; /* kc when untransposed A is read in place (0: kc) */
    int b_in_place; /* the kernels mask their B loads, so B may be read unpacked */
    int a_edges_in_place; /* the kernels take m < MR rows of A in place (tile.a_rows == m) */
    ck_gemm_ukernel kernel_kmajor; /* A with a_rs == 1 (packed, or transposed in memory) */
    ck_gemm_ukernel kernel_rmajor; /* A with a_cs == 1 (untransposed, read in place) */
    ck_gemm_pack_b pack_b;
    ck_gemm_pack_a pack_a;
} ck_gemm_kernels;

extern const ck_gemm_kernels ck_gemm_kernels_avx512;
extern const ck_gemm_kernels ck_gemm_kernels_avx2;
extern const ck_gemm_kernels ck_gemm_kernels_generic;

/* Portable packing (gemm_generic.c), used by the generic path and for edge panels. */
void ck_gemm_pack_b_generic(int trans_b, int kc, int nc, const float *b, int ldb, int nr,
                            float *packed);
void ck_gemm_pack_a_generic(int trans_a, int mc, int kc, const float *a, int lda, int mr,
                            float *packed);
/* AVX2 packing with 8×8 in-register transposes for Bᵀ (gemm_avx2.c); AVX-512 machines use it too. */
void ck_gemm_pack_b_avx2(int trans_b, int kc, int nc, const float *b, int ldb, int nr,
                         float *packed);
void ck_gemm_pack_a_avx2(int trans_a, int mc, int kc, const float *a, int lda, int mr,
                         float *packed);

/* The matrix-vector path (gemm_skinny.c): C for at most 4 rows or at most 4 columns, on
 * AVX-512. Same arguments as ck_sgemm_bias_act (m, n, k > 0, alpha != 0); returns 1 when it
 * computed C, 0 when the shape or ISA is not its own (the blocked driver then runs). */
int ck_gemm_skinny(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                   int lda, const float *b, int ldb, float beta, float *c, int ldc,
                   const float *bias, ck_activation act);

/* The kernels of an ISA path (gemm.c). */
const ck_gemm_kernels *ck_gemm_kernels_for(ck_isa isa);

static inline int ck_round_up(int x, int to) { return (x + to - 1) / to * to; }

/* ---- B packed once (gemm_packed_b.c) ---- */

/* The first 16 floats of a packed B: what it was packed for. */
#define CK_PACKED_B_HEADER_FLOATS 16
typedef struct {
    uint32_t magic;
    int32_t isa;  /* the ck_isa whose kernels read it */
    int32_t k, n; /* op(B) is k×n */
    int32_t kc;   /* depth of its k blocks (the last one shorter) */
    int32_t nr;   /* columns per panel */
} ck_gemm_packed_b_header;

/* The depth of a packed B's k blocks for these kernels: the driver's own depth for untransposed
 * A read in place (gemm.c), so a packed B is cut where the driver would cut it. */
int ck_gemm_packed_b_kc(const ck_gemm_kernels *kn, int k);

/* Reads and checks the header of a packed B against the product's k and n: 0, or -1 when it
 * is not a packed B of that shape (or not aligned). */
int ck_gemm_packed_b_read_header(const float *packed, int k, int n,
                                 ck_gemm_packed_b_header *header);

/* op(B)[p][j] of a packed B (panels = packed + CK_PACKED_B_HEADER_FLOATS): for the driver's
 * fallback when its buffers cannot be allocated. */
float ck_gemm_packed_b_at(const ck_gemm_packed_b_header *header, const float *panels, int p,
                          int j);

#endif /* CKERNELS_GEMM_INTERNAL_H */
