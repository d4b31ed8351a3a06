/*
 * gemm_packed_b.c — B packed once for many products: the layout, its size and the packing.
 *
 * A layer's weights during inference are the B of every batch's product, unchanged between
 * them. The driver would pack such a B again on every call when it is worth packing at all
 * (gemm.c: rows a multiple of 2 KiB apart, or transposed), or read it in place through the
 * cache-set aliasing that packing avoids. Packed here once, in the exact panels the
 * micro-kernel reads, each call goes straight to the tiles (ck_sgemm_packed_b_bias_act in
 * gemm.c). 2 threads, 256×512×784 (the mlp's first Dense at the inference batch):
 * ~300 -> ~322 GFLOP/s against packing per call; mlp inference 242-248k -> 259-262k
 * samples/s (Peregrine's PackedWeights packs each Dense kernel once per predict call).
 *
 * Layout, for op(B) [k×n] on one ISA's kernels (NR columns a panel):
 *   header: 16 floats (64 bytes, so the panels stay 64-byte aligned) = ck_gemm_packed_b_header
 *   then k blocks of depth kc (the last one shorter), block at depth pc starting pc·n_pad floats
 *   in; within a block of depth kcb, panel q (columns q·NR … q·NR + NR−1, zero-padded past n)
 *   at q·NR·kcb, as kcb rows of NR floats: what the driver's own packing makes of one block.
 * kc is the depth the driver uses for untransposed A read in place (kc_rmajor): the inference
 * products are row-major activations times weights.
 */
#include "gemm_internal.h"

#include <stdint.h>
#include <string.h>

#define PACKED_B_MAGIC 0x50424b31u /* "PBK1" */

size_t ck_sgemm_packed_b_size(int k, int n) {
    if (k < 0 || n < 0) return 0;
    const ck_gemm_kernels *kn = ck_gemm_kernels_for(ck_isa_active());
    return CK_PACKED_B_HEADER_FLOATS + (size_t)ck_round_up(n, kn->nr) * (size_t)k;
}

int ck_sgemm_pack_b(int trans_b, int k, int n, const float *b, int ldb, float *packed) {
    if (k < 0 || n < 0 || !packed || ((uintptr_t)packed & 63) != 0) return -1;
    if (k > 0 && n > 0 && (!b || ldb < (trans_b ? k : n))) return -1;
    const ck_isa isa = ck_isa_active();
    const ck_gemm_kernels *kn = ck_gemm_kernels_for(isa);
    const int nr = kn->nr, kc = ck_gemm_packed_b_kc(kn, k), n_pad = ck_round_up(n, nr);
    const ck_gemm_packed_b_header header = {PACKED_B_MAGIC, (int32_t)isa, k, n, kc, nr};
    memset(packed, 0, CK_PACKED_B_HEADER_FLOATS * sizeof(float));
    memcpy(packed, &header, sizeof header);
    float *panels = packed + CK_PACKED_B_HEADER_FLOATS;
    if (n == 0) return 0;
    for (int pc = 0; pc < k; pc += kc) {
        const int kcb = CK_MIN(kc, k - pc);
        const float *block = trans_b ? b + pc : b + (size_t)pc * ldb;
        kn->pack_b(trans_b, kcb, n, block, ldb, nr, panels + (size_t)pc * n_pad);
    }
    return 0;
}

int ck_gemm_packed_b_read_header(const float *packed, int k, int n,
                                 ck_gemm_packed_b_header *header) {
    if (!packed || ((uintptr_t)packed & 63) != 0) return -1;
    memcpy(header, packed, sizeof *header);
    if (header->magic != PACKED_B_MAGIC || header->k != k || header->n != n) return -1;
    const int isa = header->isa;
    if (isa != CK_ISA_GENERIC && isa != CK_ISA_AVX2 && isa != CK_ISA_AVX512) return -1;
    const ck_gemm_kernels *kn = ck_gemm_kernels_for((ck_isa)isa);
    if (header->nr != kn->nr || header->kc != ck_gemm_packed_b_kc(kn, k)) return -1;
    return 0;
}

float ck_gemm_packed_b_at(const ck_gemm_packed_b_header *h, const float *panels, int p, int j) {
    const int pc = p / h->kc * h->kc, kcb = CK_MIN(h->kc, h->k - pc);
    const int n_pad = ck_round_up(h->n, h->nr);
    return panels[(size_t)pc * n_pad + (size_t)(j / h->nr) * h->nr * kcb +
                  (size_t)(p - pc) * h->nr + j % h->nr];
}
