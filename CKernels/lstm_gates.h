/*
 * lstm_gates.h — one row of an LSTM step after its GEMM, shared by the training forward
 * (lstm.c) and inference (lstm_inference.c) (private), one variant per ISA path:
 *
 *   z [4u] (pre-activations, order i, f, c, o) replaced in place by the gates
 *   i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o);
 *   c = f·c_prev + i·g,  h = o·tanh(c)
 *
 * c may be c_prev (inference updates the state in place); tc (tanh(c), which training keeps so
 * that backward needs no transcendental) and y (the caller's sequence output) may be NULL.
 * The three variants do the same operations in the same order (no contraction, gate_math.h's
 * functions), so every ISA path gives the same bits.
 */
#ifndef CKERNELS_LSTM_GATES_H
#define CKERNELS_LSTM_GATES_H

#include "gate_math.h"

static inline void lstm_gate_row_generic(int64_t u, float *z, const float *c_prev, float *c,
                                         float *tc, float *h, float *y) {
#pragma clang fp contract(off)
    for (int64_t k = 0; k < u; k++) {
        float i = ck_gate_sigmoid_scalar(z[k]), f = ck_gate_sigmoid_scalar(z[u + k]),
              g = ck_gate_tanh_scalar(z[2 * u + k]), o = ck_gate_sigmoid_scalar(z[3 * u + k]);
        z[k] = i, z[u + k] = f, z[2 * u + k] = g, z[3 * u + k] = o;
        float cn = f * c_prev[k] + i * g, t = ck_gate_tanh_scalar(cn), hv = o * t;
        c[k] = cn;
        if (tc) tc[k] = t;
        h[k] = hv;
        if (y) y[k] = hv;
    }
}

#ifdef CK_HAVE_X86
/* In two phases. Phase 1 activates the gates in place: 4u/16 vectors with no dependency
 * between them, so their transcendentals' latency chains overlap. Phase 2 is the cell, whose
 * tanh(c) waits on three gates. Fused in one loop, each vector's five transcendentals formed one
 * chain and the pass ran latency-bound; split, its share of a one-core lstm inference run fell
 * from 25% to 21%. */
CK_TARGET_AVX512 static inline void lstm_gate_row_avx512(int64_t u, float *z, const float *c_prev,
                                                         float *c, float *tc, float *h, float *y) {
    for (int64_t k = 0; k < u; k += 16) {
        __mmask16 m = u - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (u - k)) - 1);
        _mm512_mask_storeu_ps(z + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + k)));
        _mm512_mask_storeu_ps(z + u + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + u + k)));
        _mm512_mask_storeu_ps(z + 2 * u + k, m, ck_gate_tanh_avx512(_mm512_maskz_loadu_ps(m, z + 2 * u + k)));
        _mm512_mask_storeu_ps(z + 3 * u + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + 3 * u + k)));
    }
    for (int64_t k = 0; k < u; k += 16) {
        __mmask16 m = u - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (u - k)) - 1);
        __m512 i = _mm512_maskz_loadu_ps(m, z + k), f = _mm512_maskz_loadu_ps(m, z + u + k);
        __m512 g = _mm512_maskz_loadu_ps(m, z + 2 * u + k), o = _mm512_maskz_loadu_ps(m, z + 3 * u + k);
        __m512 cn = _mm512_add_ps(_mm512_mul_ps(f, _mm512_maskz_loadu_ps(m, c_prev + k)), _mm512_mul_ps(i, g));
        __m512 t = ck_gate_tanh_avx512(cn);
        __m512 hv = _mm512_mul_ps(o, t);
        _mm512_mask_storeu_ps(c + k, m, cn);
        if (tc) _mm512_mask_storeu_ps(tc + k, m, t);
        _mm512_mask_storeu_ps(h + k, m, hv);
        if (y) _mm512_mask_storeu_ps(y + k, m, hv);
    }
}

/* In one loop (the two-phase split above was measured, and kept, on AVX-512 only). */
CK_TARGET_AVX2 static inline void lstm_gate_row_avx2(int64_t u, float *z, const float *c_prev,
                                                     float *c, float *tc, float *h, float *y) {
    const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = 0; k < u; k += 8) {
        /* masked lanes load as 0 (no fault) and are not stored */
        __m256i m = _mm256_loadu_si256((const __m256i *)(lanes + 8 - CK_MIN(u - k, 8)));
        __m256 i = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + k, m));
        __m256 f = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + u + k, m));
        __m256 g = ck_gate_tanh_avx2(_mm256_maskload_ps(z + 2 * u + k, m));
        __m256 o = ck_gate_sigmoid_avx2(_mm256_maskload_ps(z + 3 * u + k, m));
        __m256 cn = _mm256_add_ps(_mm256_mul_ps(f, _mm256_maskload_ps(c_prev + k, m)), _mm256_mul_ps(i, g));
        __m256 t = ck_gate_tanh_avx2(cn);
        __m256 hv = _mm256_mul_ps(o, t);
        _mm256_maskstore_ps(z + k, m, i);
        _mm256_maskstore_ps(z + u + k, m, f);
        _mm256_maskstore_ps(z + 2 * u + k, m, g);
        _mm256_maskstore_ps(z + 3 * u + k, m, o);
        _mm256_maskstore_ps(c + k, m, cn);
        if (tc) _mm256_maskstore_ps(tc + k, m, t);
        _mm256_maskstore_ps(h + k, m, hv);
        if (y) _mm256_maskstore_ps(y + k, m, hv);
    }
}
#endif

#endif /* CKERNELS_LSTM_GATES_H */
