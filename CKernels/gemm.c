/*
 * gemm.c — SGEMM driver: the BLIS loops around a register micro-kernel, threads, the epilogue.
 *
 *   C[m×n] = act(alpha · op(A)[m×k] · op(B)[k×n] + beta · C + bias[n]),   all row-major.
 *
 * Orientation. C is row-major, so the micro-kernels (gemm_avx512.c 12×32, gemm_avx2.c 6×16,
 * gemm_generic.c 4×16) vectorise along N and broadcast A. In BLIS's terms A is the broadcast
 * side (its MR×kc sliver stays in L1) and B the vector side (its kc×nc block stays in L2).
 *
 * Loops of one thread's block of C:
 *   ic over M in steps of mc          A block mc×kc, packed into MR-row slivers when reused
 *    pc over K in steps of kc         first block applies beta, the last one bias + act
 *                                     (kc_packed when A is packed: fewer passes over a big C)
 *     jc over N in steps of nc        B block kc×nc: packed into NR-wide panels, or in place
 *      ir over the block, MR rows     A sliver MR×kc: reused from L1 across the jr loop
 *       jr over the block, NR cols    micro-kernel on one MR×NR tile of C
 * Blocks are balanced (k = 784 runs as 2×392, not 384 + 384 + 16), so no block is a thin sliver
 * that pays a whole C load/store for a few k-steps.
 *
 * What is packed. Packing is a pass over memory; it pays only for data reused many times.
 *   - A is packed only when its slivers meet more than one B block (this thread's N > nc, i.e.
 *     the big squares). Otherwise it is read in place: row-major A through the micro-kernel's
 *     row-pointer variant, transposed A directly as k-major slivers (the small-matrix path: the
 *     NN layers' M = 128 and the convolutions' N = 64 never copy A). A ragged last sliver (fewer
 *     than MR rows) is read in place by kernels that compute exactly its rows (AVX-512), and
 *     copied for the others, so no kernel reads past A.
 *   - Untransposed B is read in place (masked loads at the N edge), except a block that spans
 *     more than half the L2 and is reused by a tall M: kc rows of a power-of-two ldb map to a few
 *     L2 sets and evict each other. Bᵀ is always packed (8×8 register transposes).
 *
 * Threads. C is cut into a tm×tn grid of blocks, one per thread, each computed independently
 * (its own packing, no barriers). The grid minimises the padded tile work of the busiest thread,
 * so a short M (M = 128 in a Dense layer) is split along N and both cores stay busy; ties go to
 * the split that streams less of A and B. Products under 2·10^6 flops stay on the calling
 * thread. One exception to independence: a 1×tn grid whose threads would each pack all of A
 * (the big squares) packs each A block once, together, into shared buffers (gemm_shared_a).
 *
 * Tiny M or N. At most 4 rows or 4 columns of C (Dense on one sample) go to the matrix-vector
 * path (gemm_skinny.c) on AVX-512, which streams the long operand once.
 *
 * Small matrices. A product under 2·10^6 flops runs on the calling thread without asking for
 * the thread count; one that also fits a single block (k ≤ kc, n ≤ nc) skips the blocked loops
 * entirely (gemm_small): no block sizes, no buffers, A and B read in place, Bᵀ packed once. At
 * 8³-64³ the fixed cost per call and per tile is what decides the speed.
 *
 * Edges. Short tiles store under lane masks; a tile of at most one vector width (N = 10) runs a
 * one-vector kernel. On AVX-512 an edge of A read in place computes exactly its rows (1..12) in
 * place; a packed (zero-padded) edge sliver computes 4, 8 or 12. The other ISAs copy a ragged
 * sliver of A read in place into a padded one.
 *
 * Packing buffers are thread-local and grow on demand (64-byte aligned): no malloc per call in
 * the steady state, and two user threads may call ck_sgemm at once.
 */
#include "gemm_internal.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Below this many flops (2·m·n·k, ~12 µs on one core) one thread does the whole product: a
 * parallel region's start and barrier cost a few microseconds on idle cores and far more when
 * the cores are shared (a sleeping worker waits for a time slice), so splitting such a product
 * saves little and risks much. */
#define PARALLEL_MIN_FLOPS (2.0e6)

/* Untransposed B is read in place, not packed, when its block spans at most this many floats
 * (1 MiB, half the L2) or when at most this many rows of C reuse it. */
#define B_IN_PLACE_SPAN (256 * 1024)
#define B_IN_PLACE_ROWS 256

const ck_gemm_kernels *ck_gemm_kernels_for(ck_isa isa) {
    switch (isa) {
    case CK_ISA_AVX512: return &ck_gemm_kernels_avx512;
    case CK_ISA_AVX2: return &ck_gemm_kernels_avx2;
    default: return &ck_gemm_kernels_generic;
    }
}

/* ---- thread-local packing buffers ---- */

static _Thread_local ck_scratch packed_a_buffer, packed_b_buffer, edge_sliver_buffer;

/* The block size that splits `extent` into the fewest blocks of at most `limit`, all of nearly
 * equal size, rounded up to a multiple of `align`. */
static inline int balanced_block(int extent, int limit, int align) {
    if (extent <= limit) return ck_round_up(extent, align); /* the common small case, one division */
    const int blocks = (extent + limit - 1) / limit;
    return CK_MIN(ck_round_up((extent + blocks - 1) / blocks, align), ck_round_up(extent, align));
}

/* ---- the problem and one thread's block of it ---- */

/* Depth of a k block. Each block costs a pass over C (a load and a store of every element) and,
 * for A read in place, cuts A's rows into pieces, so deeper is better wherever the operands
 * still fit:
 *   - A packed (the big squares, C far bigger than the L2): on 1024² one thread, 2 passes of
 *     kc = 512 ran ~2% faster than 3 of 344, and 4 of 256 ~20% slower;
 *   - untransposed A read in place (kc_rmajor): a block that spans whole rows of A makes each
 *     sliver one contiguous stream, which the hardware prefetcher follows, and the sliver
 *     (MR×kc) still fits the L1 at 800 deep (37.5 KiB of 48). 2 threads, one block instead of
 *     two: 256×512×784 280-283 -> 298-302 GFLOP/s, 128×512×784 264-266 -> 280, 6272×64×576
 *     231-241 -> 253-258; deeper than the L1 loses (k = 1000 in one block: 500×300×1000
 *     272 -> 228-259, 128×1024×1024 263-272 -> 235);
 *   - otherwise kc (transposed A read in place, whose rows are not contiguous anyway). */
static int block_kc(const ck_gemm_kernels *kn, int a_is_packed, int a_row_major) {
    if (a_is_packed) return kn->kc_packed > 0 ? kn->kc_packed : kn->kc;
    return a_row_major && kn->kc_rmajor > 0 ? kn->kc_rmajor : kn->kc;
}

typedef struct {
    const ck_gemm_kernels *kern;
    int trans_a, trans_b, m, n, k;
    float alpha, beta;
    const float *a;
    int lda;
    const float *b;
    int ldb;
    float *c;
    int ldc;
    const float *bias;
    ck_activation act;
    /* B packed once (gemm_packed_b.c), or NULL: b and ldb are then unused, and every block
     * takes the packed layout's depth. */
    const float *packed_b;
    ck_gemm_packed_b_header packed;
} gemm_problem;

int ck_gemm_packed_b_kc(const ck_gemm_kernels *kn, int k) {
    return balanced_block(k, block_kc(kn, 0, 1), 8);
}

/* The depth of the k blocks of a thread's block, whose A is packed or not. */
static int problem_kc(const gemm_problem *pr, int a_is_packed) {
    if (pr->packed_b) return pr->packed.kc;
    return balanced_block(pr->k, block_kc(pr->kern, a_is_packed, !pr->trans_a), 8);
}

/* ---- threads sharing one packed A block ---- */

/* A barrier of atomics (ThreadSanitizer sees it, and it does not depend on the OpenMP runtime):
 * the last thread to arrive starts a new generation; the others spin a little, then yield (a
 * shared machine may have descheduled the thread they wait for). */
typedef struct {
    _Atomic int arrived;
    _Atomic int generation;
} gemm_barrier;

static void gemm_barrier_wait(gemm_barrier *b, int nthreads) {
    const int gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == nthreads - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        return;
    }
    for (int spins = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == gen;)
        if (++spins > 256) sched_yield();
}

/* Threads split along N only (a 1×tn grid) would each pack the whole of A, block by block: on
 * 2048² that is 16 MB copied per thread. Instead they pack each mc×kc block of A together (each
 * its share of the slivers) into one of two shared buffers, meet at a barrier, and compute their
 * columns from it. Two buffers, so one barrier per block suffices: a thread packs block t only
 * after the barrier of block t−1, which every thread reaches after computing block t−2, the last
 * user of the same buffer. */
typedef struct {
    float *buf[2]; /* each mc_max×kc_max */
    int nthreads;  /* the team this was planned for */
    gemm_barrier barrier;
} gemm_shared_a;

/* A thread's block whose buffers could not be allocated still gets the right answer. */
static void gemm_block_fallback(const gemm_problem *pr, int m0, int m1, int n0, int n1) {
    if (pr->packed_b) { /* the reference's loop, reading B from its panels */
        for (int i = m0; i < m1; i++) {
            float *c = pr->c + (size_t)i * pr->ldc;
            for (int j = n0; j < n1; j++) {
                double sum = 0;
                for (int p = 0; p < pr->k; p++)
                    sum += (double)(pr->trans_a ? pr->a[(size_t)p * pr->lda + i]
                                                : pr->a[(size_t)i * pr->lda + p]) *
                           ck_gemm_packed_b_at(&pr->packed, pr->packed_b, p, j);
                float x = pr->alpha * (float)sum;
                if (pr->beta != 0.0f) x += pr->beta * c[j];
                c[j] = x;
            }
            if (pr->bias || pr->act != CK_ACT_IDENTITY)
                ck_bias_act_row(n1 - n0, pr->bias ? pr->bias + n0 : NULL, pr->act, c + n0);
        }
        return;
    }
    const float *a = pr->trans_a ? pr->a + m0 : pr->a + (size_t)m0 * pr->lda;
    const float *b = pr->trans_b ? pr->b + (size_t)n0 * pr->ldb : pr->b + n0;
    ck_sgemm_reference(pr->trans_a, pr->trans_b, m1 - m0, n1 - n0, pr->k, pr->alpha, a, pr->lda, b,
                       pr->ldb, pr->beta, pr->c + (size_t)m0 * pr->ldc + n0, pr->ldc,
                       pr->bias ? pr->bias + n0 : NULL, pr->act);
}

/* One thread's block of C, rows [m0, m1) and columns [n0, n1). With `shared` (all rows, a 1×tn
 * grid of `nthreads`), A is packed by the whole team into shared->buf; every thread then takes
 * part in every block's barrier, even one with no columns or no buffer of its own. */
static void gemm_block(const gemm_problem *pr, int m0, int m1, int n0, int n1,
                       gemm_shared_a *shared, int thread, int nthreads) {
    const ck_gemm_kernels *kn = pr->kern;
    const int MR = kn->mr, NR = kn->nr;
    const int k = pr->k, lda = pr->lda, ldb = pr->ldb, ldc = pr->ldc;
    if (!shared && (m0 >= m1 || n0 >= n1)) return;

    /* Equal blocks rather than full blocks and a sliver: k = 784 runs as 2×392, not 384+384+16
     * (a 16-deep block would pay a whole C load/store per 16 k-steps). */
    /* Pack A only when its slivers are reused across more than one B block. */
    const int a_is_packed = shared || (n1 - n0) > kn->nc;
    const int kc_max = problem_kc(pr, a_is_packed);
    const int nc_max = balanced_block(n1 - n0, kn->nc, NR);
    const int mc_max = a_is_packed ? balanced_block(m1 - m0, kn->mc, MR) : m1 - m0;

    /* Untransposed B is read in place when the copy would not pay: each k-step of a tile reads
     * NR contiguous floats of one row of B either way, and skipping the copy gains 5-10% on the
     * NN layers' M = 128 products. But a B block read in place spans kc rows ldb apart, and with
     * a power-of-two ldb those rows fall into a few L2 sets and evict each other, so a block that
     * is reused by many slivers (a tall M) and spans more than the L2 is packed. Rows a multiple
     * of 2 KiB apart (ldb = 512, a Dense layer of 512 units) alias in L1 already: a tile's
     * columns over kc rows fall into four L1 sets, and every sliver of A re-reads them from L2.
     * Such a B reused by more than two slivers is packed too: one core, 128×512×784
     * 128-133 -> 142 GFLOP/s, 256×512×784 127-134 -> 149, 512³ 139 -> 153 (ldb = 256 measured
     * no gain: 128×256×512 151 -> 146, so it stays in place). Bᵀ is always packed. */
    const int b_aliases = ldb % 512 == 0 && m1 - m0 > 2 * MR;
    const int b_prepacked = pr->packed_b != NULL;
    const int b_in_place = !b_prepacked && kn->b_in_place && !pr->trans_b && !b_aliases &&
                           ((int64_t)kc_max * ldb <= B_IN_PLACE_SPAN || m1 - m0 <= B_IN_PLACE_ROWS);

    /* A ragged last sliver of A read in place is copied (zero-padded) unless the kernels take
     * fewer than MR rows in place. */
    const int edge_in_place = kn->a_edges_in_place;
    const int needs_edge = !a_is_packed && !edge_in_place && (m1 - m0) % MR != 0;

    /* B block: kc×nc in NR-wide panels; A block: mc×kc in MR-row slivers; edge: one MR×kc.
     * Only what this call uses is reserved: the small-matrix path touches no buffer at all. */
    float *packed_b = b_in_place || b_prepacked
                          ? NULL
                          : ck_scratch_reserve(&packed_b_buffer, (size_t)kc_max * nc_max);
    float *packed_a = shared ? shared->buf[0]
                      : a_is_packed ? ck_scratch_reserve(&packed_a_buffer, (size_t)mc_max * kc_max)
                                    : NULL;
    float *edge_sliver =
        needs_edge ? ck_scratch_reserve(&edge_sliver_buffer, (size_t)MR * kc_max) : NULL;
    /* Without its buffers a thread computes its block with the reference at the end; in a team
     * it still packs its share of A and meets the others at every barrier. */
    const int fallback =
        (!b_in_place && !b_prepacked && !packed_b) || (a_is_packed && !packed_a) ||
        (needs_edge && !edge_sliver);
    if (fallback && !shared) {
        gemm_block_fallback(pr, m0, m1, n0, n1);
        return;
    }
    int block_index = 0;

    ck_gemm_tile tile;
    tile.alpha = pr->alpha;
    tile.ldc = ldc;

    for (int ic = m0; ic < m1; ic += mc_max) {
        const int mc = CK_MIN(mc_max, m1 - ic);
        for (int pc = 0; pc < k; pc += kc_max) {
            const int kc = CK_MIN(kc_max, k - pc);
            const int last = pc + kc == k;
            tile.kc = kc;
            tile.beta = pc == 0 ? pr->beta : 1.0f;
            tile.act = last ? pr->act : CK_ACT_IDENTITY;

            /* op(A) block at (ic, pc) */
            const float *a_blk =
                pr->trans_a ? pr->a + (size_t)pc * lda + ic : pr->a + (size_t)ic * lda + pc;
            if (shared) { /* this thread's share of the slivers, then wait for the rest */
                packed_a = shared->buf[block_index++ & 1];
                const int slivers = (mc + MR - 1) / MR;
                const int s0 = slivers * thread / nthreads, s1 = slivers * (thread + 1) / nthreads;
                const int r0 = s0 * MR, r1 = CK_MIN(s1 * MR, mc);
                if (r0 < r1)
                    kn->pack_a(pr->trans_a, r1 - r0, kc,
                               pr->trans_a ? a_blk + r0 : a_blk + (size_t)r0 * lda, lda, MR,
                               packed_a + (size_t)r0 * kc);
                gemm_barrier_wait(&shared->barrier, nthreads);
                if (fallback) continue;
            } else if (a_is_packed) {
                kn->pack_a(pr->trans_a, mc, kc, a_blk, lda, MR, packed_a);
            }

            for (int jc = n0; jc < n1; jc += nc_max) {
                const int nc = CK_MIN(nc_max, n1 - jc);
                /* op(B) block at (pc, jc) */
                const float *b_blk = NULL;
                if (b_prepacked) { /* block pc, panel jc / NR (jc is a multiple of NR) */
                    packed_b = (float *)pr->packed_b + (size_t)pc * ck_round_up(pr->n, NR) +
                               (size_t)jc * kc;
                } else {
                    b_blk = pr->trans_b ? pr->b + (size_t)jc * ldb + pc
                                        : pr->b + (size_t)pc * ldb + jc;
                    if (!b_in_place) kn->pack_b(pr->trans_b, kc, nc, b_blk, ldb, NR, packed_b);
                }
                tile.b_rs = b_in_place ? ldb : NR;


                for (int ir = 0; ir < mc; ir += MR) {
                    const int mr = CK_MIN(MR, mc - ir);
                    ck_gemm_ukernel kernel = kn->kernel_kmajor;
                    tile.a_rows = mr; /* in place: no row past the edge is read */
                    if (a_is_packed) {
                        tile.a = packed_a + (size_t)ir * kc, tile.a_rs = 1, tile.a_cs = MR;
                        tile.a_rows = MR;
                    } else if (mr < MR && !edge_in_place) {
                        kn->pack_a(pr->trans_a, mr, kc,
                                   pr->trans_a ? a_blk + ir : a_blk + (size_t)ir * lda, lda, MR,
                                   edge_sliver);
                        tile.a = edge_sliver, tile.a_rs = 1, tile.a_cs = MR;
                        tile.a_rows = MR;
                    } else if (pr->trans_a) {
                        tile.a = a_blk + ir, tile.a_rs = 1, tile.a_cs = lda;
                    } else {
                        tile.a = a_blk + (size_t)ir * lda, tile.a_rs = lda, tile.a_cs = 1;
                        kernel = kn->kernel_rmajor;
                    }
                    tile.m = mr;
                    /* Row-major A in place, rows of a block at most KC long: the first tile
                     * of a sliver prefetches the next one. Each sliver row is then a stream of
                     * at most 24 cache lines, too short for the hardware prefetcher to ramp
                     * up, and a sliver's first k-steps wait on A coming from L3. 2 threads,
                     * 25088×64×288: 251-258 -> 277-282 GFLOP/s. Longer rows stream well
                     * without it, and there the prefetches only cost load slots
                     * (6272×64×576 and 3136×64×1152, kc = 576: 2-4% slower with them). */
                    const float *a_next =
                        kernel == kn->kernel_rmajor && kc <= kn->kc && ir + MR < mc
                            ? a_blk + (size_t)(ir + MR) * lda
                            : NULL;
                    float *c_row = pr->c + (size_t)(ic + ir) * ldc + jc;
                    for (int jr = 0; jr < nc; jr += NR) {
                        tile.a_next = jr == 0 ? a_next : NULL;
                        tile.b = b_in_place ? b_blk + jr : packed_b + (size_t)jr * kc;
                        tile.c = c_row + jr;
                        tile.n = CK_MIN(NR, nc - jr);
                        tile.bias = last && pr->bias ? pr->bias + jc + jr : NULL;
                        kernel(&tile);
                    }
                }
            }
        }
    }
    if (fallback) gemm_block_fallback(pr, m0, m1, n0, n1);
}

/* ---- the small-matrix path ---- */

/* Products that fit one block (k ≤ kc, n ≤ nc) on one thread skip the blocked loops' set-up:
 * no block sizes to balance (divisions by NR), no buffers to look up, A and untransposed B read
 * in place (an edge sliver of A too: the kernels compute exactly its rows), Bᵀ packed once into
 * panels ("pack only B"). What is left per call is the tile loop; at 8×8×8 or 16×16×16 the fixed
 * cost is what decides the speed. Only for kernels that take A's edge rows in place. */
static int gemm_small_fits(const gemm_problem *pr) {
    const ck_gemm_kernels *kn = pr->kern;
    return kn->a_edges_in_place && pr->k <= kn->kc && pr->n <= kn->nc &&
           (pr->trans_b || kn->b_in_place);
}

static void gemm_small(const gemm_problem *pr) {
    const ck_gemm_kernels *kn = pr->kern;
    const int MR = kn->mr, NR = kn->nr;
    const int m = pr->m, n = pr->n, k = pr->k, lda = pr->lda, ldc = pr->ldc;
    ck_gemm_tile tile;
    tile.kc = k;
    tile.alpha = pr->alpha;
    tile.beta = pr->beta;
    tile.act = pr->act;
    tile.ldc = ldc;
    tile.a_next = NULL;

    const float *b = pr->b;
    ptrdiff_t b_panel = 1; /* distance between tile.b of adjacent NR-column tiles, per column */
    tile.b_rs = pr->ldb;
    if (pr->trans_b) { /* Bᵀ [n×k]: k×n in NR-wide panels (only B is packed) */
        const int n_pad = (n + NR - 1) / NR * NR;
        float *packed = ck_scratch_reserve(&packed_b_buffer, (size_t)k * n_pad);
        if (!packed) {
            gemm_block_fallback(pr, 0, m, 0, n);
            return;
        }
        kn->pack_b(1, k, n, b, pr->ldb, NR, packed);
        b = packed, b_panel = k, tile.b_rs = NR;
    }

    const ck_gemm_ukernel kernel = pr->trans_a ? kn->kernel_kmajor : kn->kernel_rmajor;
    tile.a_rs = pr->trans_a ? 1 : lda;
    tile.a_cs = pr->trans_a ? lda : 1;
    for (int ir = 0; ir < m; ir += MR) {
        tile.m = tile.a_rows = CK_MIN(MR, m - ir);
        tile.a = pr->trans_a ? pr->a + ir : pr->a + (size_t)ir * lda;
        float *c_row = pr->c + (size_t)ir * ldc;
        for (int jr = 0; jr < n; jr += NR) {
            tile.b = b + jr * b_panel;
            tile.c = c_row + jr;
            tile.n = CK_MIN(NR, n - jr);
            tile.bias = pr->bias ? pr->bias + jr : NULL;
            kernel(&tile);
        }
    }
}

/* ---- threads: a tm×tn grid of C blocks ---- */

/* The factorisation of nthreads whose busiest thread has the least padded tile work (rows
 * rounded to MR, columns to the vector width). Ties go to the grid whose threads read the least
 * of A and B (m/tm + n/tn rows and columns, each k long): a wide N (M = 96, N = 2048) is split
 * along N so each thread streams half of B; a tall M is split along M.
 * A 1×tn grid whose threads span more than one B block each (nc columns) packs A together
 * (gemm_shared_a) and counts 1% dearer: against a grid split along M, where each thread packs
 * its own rows of A and meets no barrier, it ran 2-4% slower on 2 threads (2048² 292-294 ->
 * 302-307 GFLOP/s, 1500³ 289-297 -> 300-305, 1200×2400×800 297-299 -> 302-304), so the
 * near-ties of the big squares go to M. */
static int choose_grid_rows(int m, int n, int nthreads, int mr, int lanes, int nc) {
    const int64_t m_tiles = (m + mr - 1) / mr, n_vecs = (n + lanes - 1) / lanes;
    int best_tm = nthreads;
    int64_t best_cost = INT64_MAX, best_traffic = INT64_MAX;
    for (int tm = nthreads; tm >= 1; tm--) {
        if (nthreads % tm) continue;
        const int tn = nthreads / tm;
        const int64_t rows = (m_tiles + tm - 1) / tm * mr, cols = (n_vecs + tn - 1) / tn * lanes;
        int64_t cost = rows * cols;
        const int64_t traffic = rows + cols;
        if (tm == 1 && nthreads > 1 && cols > nc) cost += cost / 100;
        if (cost < best_cost || (cost == best_cost && traffic < best_traffic))
            best_cost = cost, best_traffic = traffic, best_tm = tm;
    }
    return best_tm;
}

typedef struct {
    const gemm_problem *pr;
    gemm_shared_a *shared; /* NULL: independent blocks */
} gemm_region;

/* Threads' columns start on whole vectors; on whole panels for a packed B (NR wide). */
static int column_align(const gemm_problem *pr) {
    return pr->packed_b ? pr->kern->nr : pr->kern->lanes;
}

static void gemm_thread(void *ctx, int thread, int nthreads) {
    const gemm_region *region = ctx;
    const gemm_problem *pr = region->pr;
    const int tm =
        choose_grid_rows(pr->m, pr->n, nthreads, pr->kern->mr, pr->kern->lanes, pr->kern->nc);
    const int tn = nthreads / tm;
    int64_t m0, m1, n0, n1;
    ck_split_range(pr->m, tm, thread / tn, pr->kern->mr, &m0, &m1);
    ck_split_range(pr->n, tn, thread % tn, column_align(pr), &n0, &n1);
    /* The shared plan holds only for the team it was made for (a runtime may start fewer). */
    gemm_shared_a *shared =
        region->shared && region->shared->nthreads == nthreads ? region->shared : NULL;
    gemm_block(pr, (int)m0, (int)m1, (int)n0, (int)n1, shared, thread, nthreads);
}

/* The shared-A plan for a team of nthreads, or NULL when the threads' blocks are independent:
 * only a 1×tn grid whose threads would each pack all of A (their columns span more than one
 * B block) shares it. The buffers are the calling thread's. */
static _Thread_local ck_scratch shared_a_buffer;

static gemm_shared_a *plan_shared_a(const gemm_problem *pr, int nthreads, gemm_shared_a *plan) {
    const ck_gemm_kernels *kn = pr->kern;
    if (choose_grid_rows(pr->m, pr->n, nthreads, kn->mr, kn->lanes, kn->nc) != 1) return NULL;
    int64_t n0, n1;
    ck_split_range(pr->n, nthreads, nthreads - 1, column_align(pr), &n0, &n1);
    if (n1 - n0 <= kn->nc) return NULL; /* the narrowest thread's columns */
    const size_t block =
        (size_t)balanced_block(pr->m, kn->mc, kn->mr) * (size_t)problem_kc(pr, 1);
    float *buf = ck_scratch_reserve(&shared_a_buffer, 2 * block);
    if (!buf) return NULL;
    plan->buf[0] = buf, plan->buf[1] = buf + block;
    plan->nthreads = nthreads;
    atomic_init(&plan->barrier.arrived, 0);
    atomic_init(&plan->barrier.generation, 0);
    return plan;
}

/* The blocked product (m, n, k > 0, alpha != 0): on the calling thread when small, else on a
 * team with a tm×tn grid. */
static void gemm_run(gemm_problem *pr) {
    const int m = pr->m, n = pr->n;
    const double flops = 2.0 * m * n * pr->k;
    if (flops < PARALLEL_MIN_FLOPS) { /* one thread: no region, no thread-count lookup */
        if (!pr->packed_b && gemm_small_fits(pr)) gemm_small(pr);
        else gemm_block(pr, 0, m, 0, n, NULL, 0, 1);
        return;
    }
    int nthreads = ck_num_threads();
    /* No more threads than MR×vector tiles. */
    const int64_t tiles = (int64_t)((m + pr->kern->mr - 1) / pr->kern->mr) *
                          ((n + pr->kern->lanes - 1) / pr->kern->lanes);
    if (tiles < nthreads) nthreads = (int)tiles;
    if (nthreads <= 1) { /* no region, no grid: small products */
        gemm_block(pr, 0, m, 0, n, NULL, 0, 1);
        return;
    }
    gemm_shared_a plan;
    gemm_region region = {pr, plan_shared_a(pr, nthreads, &plan)};
    ck_parallel_run(nthreads, gemm_thread, &region);
}

/* alpha == 0 or k == 0: C = act(beta·C + bias) without touching A or B. */
static void scale_c(int m, int n, float beta, float *c, int ldc, const float *bias,
                    ck_activation act) {
    for (int i = 0; i < m; i++) {
        float *row = c + (size_t)i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++) row[j] *= beta;
        if (bias || act != CK_ACT_IDENTITY) ck_bias_act_row(n, bias, act, row);
    }
}

void ck_sgemm_bias_act(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc,
                       const float *bias, ck_activation act) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, bias, act);
        return;
    }
    if ((m <= 4 || n <= 4) &&
        ck_gemm_skinny(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, act))
        return;
    gemm_problem pr = {ck_gemm_kernels_for(ck_isa_active()), trans_a, trans_b, m, n, k, alpha,
                       beta, a, lda, b, ldb, c, ldc, bias, act, NULL, {0}};
    gemm_run(&pr);
}

int ck_sgemm_packed_b_bias_act(int trans_a, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *packed_b, float beta, float *c, int ldc,
                               const float *bias, ck_activation act) {
    gemm_problem pr = {NULL, trans_a, 0, m, n, k, alpha, beta, a, lda, NULL, 0, c, ldc, bias, act,
                       NULL, {0}};
    if (ck_gemm_packed_b_read_header(packed_b, k, n, &pr.packed) != 0) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, bias, act);
        return 0;
    }
    /* The kernels it was packed for (the calling thread's ISA may have changed since). */
    pr.kern = ck_gemm_kernels_for((ck_isa)pr.packed.isa);
    pr.packed_b = packed_b + CK_PACKED_B_HEADER_FLOATS;
    gemm_run(&pr);
    return 0;
}

void ck_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    ck_sgemm_bias_act(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL,
                      CK_ACT_IDENTITY);
}
