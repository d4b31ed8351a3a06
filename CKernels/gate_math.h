/*
 * gate_math.h — sigmoid and tanh for the recurrent layers' gates (private).
 *
 * An LSTM step applies five transcendentals to every unit of every batch row (σ to three gates,
 * tanh to the candidate and to the cell) between two GEMMs that wait on them; on the lstm
 * workload that pass was a fifth of inference. vmath.h's versions are built for every caller
 * (exact edge cases down to the subnormals, a sign split in σ, tanh's small-|x| branch beside
 * an exponential and a division). Here, for the gates:
 *
 *   tanh(x) ≈ x·P(x²)/Q(x²), x clamped to ±9.02 (past it tanh rounds to ±1), P of degree 5
 *             and Q of degree 3 in x², P(0) = Q(0) = 1 (so tiny x give x exactly); 14 vector
 *             operations and one division against about 30 for vmath's, 2.1× the throughput.
 *   σ(x)    = 1/(1 + e^{−x}) with vmath's exponential stripped to its core: x clamped to ±100,
 *             no sign split (1/(1 + e^{−x}) keeps its relative accuracy for x < 0 too) and no
 *             overflow fix-ups (an infinite e^{−x} gives σ = 0 as it should); 1.15× the
 *             throughput of vmath's σ.
 *
 * Accuracy, measured over all 2^32 floats against double libm (and on a sample, on every ISA
 * path, by RecurrentActivationTests): tanh within 3.5e-7 absolute (6 ulp, where the ratio of two
 * sums near 150 rounds), σ within 9e-8 absolute and 3.2 ulp wherever the result is a normal
 * float. Outputs stay inside [−1, 1] and [0, 1]; tanh(±0) = ±0; NaN gives NaN. Below
 * x = −88.7, where e^{−x} overflows, σ is 0 instead of a subnormal under 3e-39.
 *
 * tanh's coefficients: Scripts/fit_gate_tanh.py (a least-squares fit of the relative error, reweighted
 * towards equal ripple), rounded to float.
 */
#ifndef CKERNELS_GATE_MATH_H
#define CKERNELS_GATE_MATH_H

#include "vmath.h"

#define CK_GATE_TANH_LIMIT 9.02f
#define CK_GATE_SIGMOID_LIMIT 100.0f
#define CK_GATE_P1 0.1292126327753067f
#define CK_GATE_P2 0.002922800136730075f
#define CK_GATE_P3 9.283209692512173e-06f
#define CK_GATE_P4 (-1.2817552352828443e-08f)
#define CK_GATE_P5 1.8325318693057646e-11f
#define CK_GATE_Q1 0.46254563331604004f
#define CK_GATE_Q2 0.02377191185951233f
#define CK_GATE_Q3 0.00022836271091364324f

#ifdef CK_HAVE_X86

/* tanh(x) ≈ x·P(x²)/Q(x²) with x clamped to ±9.02, the result clamped to [−1, 1] (near the
 * clamp the ratio of two ~150-sized sums can round 2 ulp past 1). Every clamp takes the constant
 * first: vminps/vmaxps return the second operand on NaN, so NaN flows through. */
CK_TARGET_AVX512 static inline __m512 ck_gate_tanh_avx512(__m512 x) {
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(-CK_GATE_TANH_LIMIT), _mm512_min_ps(_mm512_set1_ps(CK_GATE_TANH_LIMIT), x));
    __m512 s = _mm512_mul_ps(xc, xc);
    __m512 p = _mm512_set1_ps(CK_GATE_P5);
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(CK_GATE_P4));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(CK_GATE_P3));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(CK_GATE_P2));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(CK_GATE_P1));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.0f));
    __m512 q = _mm512_set1_ps(CK_GATE_Q3);
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(CK_GATE_Q2));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(CK_GATE_Q1));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(1.0f));
    __m512 y = _mm512_div_ps(_mm512_mul_ps(xc, p), q);
    return _mm512_max_ps(_mm512_set1_ps(-1.0f), _mm512_min_ps(_mm512_set1_ps(1.0f), y));
}

/* σ(x) = 1/(1 + e^{−x}), e^{−x} = 2^n·p from vmath.h's exp core, without exp's edge handling:
 * x is clamped to ±100 (e^{−x} then over- or underflows to what makes σ exactly 1 or its tiny
 * value), and vscalefps rounds p·2^n once, subnormals included. */
CK_TARGET_AVX512 static inline __m512 ck_gate_sigmoid_avx512(__m512 x) {
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(-CK_GATE_SIGMOID_LIMIT), _mm512_min_ps(_mm512_set1_ps(CK_GATE_SIGMOID_LIMIT), x));
    __m512 n;
    __m512 p = ck_exp_core_avx512(xc, -1.0f, &n); /* e^{−x} = 2^n·p */
    __m512 e = _mm512_scalef_ps(p, n);
    return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

CK_TARGET_AVX2 static inline __m256 ck_gate_tanh_avx2(__m256 x) {
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(-CK_GATE_TANH_LIMIT), _mm256_min_ps(_mm256_set1_ps(CK_GATE_TANH_LIMIT), x));
    __m256 s = _mm256_mul_ps(xc, xc);
    __m256 p = _mm256_set1_ps(CK_GATE_P5);
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(CK_GATE_P4));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(CK_GATE_P3));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(CK_GATE_P2));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(CK_GATE_P1));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.0f));
    __m256 q = _mm256_set1_ps(CK_GATE_Q3);
    q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(CK_GATE_Q2));
    q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(CK_GATE_Q1));
    q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(1.0f));
    __m256 y = _mm256_div_ps(_mm256_mul_ps(xc, p), q);
    return _mm256_max_ps(_mm256_set1_ps(-1.0f), _mm256_min_ps(_mm256_set1_ps(1.0f), y));
}

CK_TARGET_AVX2 static inline __m256 ck_gate_sigmoid_avx2(__m256 x) {
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(-CK_GATE_SIGMOID_LIMIT), _mm256_min_ps(_mm256_set1_ps(CK_GATE_SIGMOID_LIMIT), x));
    __m256 n;
    __m256 p = ck_exp_core_avx2(xc, -1.0f, &n);
    __m256 y = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(ck_scale_pow2_avx2(p, n), _mm256_set1_ps(1.0f)));
    /* NaN became an integer in the scaling: put it back */
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

#endif /* x86 */

/* The generic path: the same operations one lane at a time, fused multiply-adds included, so
 * the three paths give the same bits. */
static inline float ck_gate_tanh_scalar(float x) {
    if (x != x) return x;
    float xc = fmaxf(-CK_GATE_TANH_LIMIT, fminf(CK_GATE_TANH_LIMIT, x)), s = xc * xc;
    float p = fmaf(fmaf(fmaf(fmaf(fmaf(CK_GATE_P5, s, CK_GATE_P4), s, CK_GATE_P3), s, CK_GATE_P2), s, CK_GATE_P1), s, 1.0f);
    float q = fmaf(fmaf(fmaf(CK_GATE_Q3, s, CK_GATE_Q2), s, CK_GATE_Q1), s, 1.0f);
    return fmaxf(-1.0f, fminf(1.0f, xc * p / q));
}

static inline float ck_gate_sigmoid_scalar(float x) {
    if (x != x) return x;
    float xc = fmaxf(-CK_GATE_SIGMOID_LIMIT, fminf(CK_GATE_SIGMOID_LIMIT, x));
    float n = nearbyintf(xc * -CK_LOG2E);
    float r = fmaf(-n, CK_LN2_LO, fmaf(-n, CK_LN2_HI, -xc));
    float p = fmaf(fmaf(fmaf(fmaf(fmaf(CK_EXP_P0, r, CK_EXP_P1), r, CK_EXP_P2), r, CK_EXP_P3), r, CK_EXP_P4), r, CK_EXP_P5);
    p = fmaf(p, r * r, r + 1.0f);
    return 1.0f / (ldexpf(p, (int)n) + 1.0f);
}

#endif /* CKERNELS_GATE_MATH_H */
