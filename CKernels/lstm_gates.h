/*
 * lstm_gates.h — the LSTM's gate activations, shared by the training forward (lstm.c) and
 * inference (lstm_inference.c) (private).
 */
#ifndef CKERNELS_LSTM_GATES_H
#define CKERNELS_LSTM_GATES_H

#include "gate_math.h"

#ifdef CK_HAVE_X86
/* One row's pre-activations z [4u] (order i, f, c, o) replaced in place by the gates
 * σ(z_i), σ(z_f), tanh(z_c), σ(z_o): 4u/16 vectors with no dependency between them, so their
 * transcendentals' latency chains overlap (fused with the cell update, each vector's five
 * formed one chain and the pass ran latency-bound: measured in lstm_inference.c). */
CK_TARGET_AVX512 static inline void lstm_activate_gates_avx512(int64_t u, float *z) {
    for (int64_t k = 0; k < u; k += 16) {
        __mmask16 m = u - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (u - k)) - 1);
        _mm512_mask_storeu_ps(z + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + k)));
        _mm512_mask_storeu_ps(z + u + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + u + k)));
        _mm512_mask_storeu_ps(z + 2 * u + k, m, ck_gate_tanh_avx512(_mm512_maskz_loadu_ps(m, z + 2 * u + k)));
        _mm512_mask_storeu_ps(z + 3 * u + k, m, ck_gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m, z + 3 * u + k)));
    }
}
#endif

#endif /* CKERNELS_LSTM_GATES_H */
