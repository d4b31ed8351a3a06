/*
 * vmath.h — vector expf, logf, tanhf and sigmoid for the AVX-512 and AVX2 paths (private).
 *
 * Why our own: libm has no vector entry points we can rely on (glibc's libmvec needs
 * -ffast-math and its own ABI), and the activations are the hot loop of every layer.
 *
 * Algorithms (Cephes single precision, which is minimax-fitted and well studied):
 *   exp(x)  = 2^n · p(r), n = round(x·log2 e), r = x − n·ln2 (Cody–Waite two-part ln2),
 *             p a degree-6 polynomial on [−ln2/2, ln2/2]. The scaling by 2^n is split in two
 *             (AVX2) or done by vscalefps (AVX-512) so that results in the subnormal range and
 *             overflow to +inf come out right without a branch.
 *   log(x)  = e·ln2 + log(m), x = m·2^e with m in [√½, √2), log(1+f) = f − f²/2 + f³·q(f),
 *             q of degree 8. Subnormal inputs are rescaled by 2^23 first.
 *   tanh(x) = x + x³·q(x²) for |x| < 0.625 (no cancellation near 0), else 1 − 2/(e^{2|x|} + 1);
 *             the sign is copied back, so tanh(−0) = −0. |x| is clamped to 10, past
 *             9.01 where tanh rounds to ±1, so large inputs give exactly ±1.
 *   sigmoid(x) = 1/(1 + e^{−x}) for x ≥ 0 and e^{x}/(1 + e^{x}) for x < 0: one exp of −|x|
 *             and one division, and no overflow of the exponential on either side.
 *
 * Measured against glibc's expf/logf/tanhf (sigmoid against 1/(1+exp(−x)) in double),
 * exhaustively over all 2^32 float inputs, both ISAs identical: exp ≤ 1 ulp, log ≤ 1 ulp,
 * tanh ≤ 2 ulp, sigmoid ≤ 3 ulp for results in the normal range, and within 2·denorm_min where
 * the result is subnormal (Tests/CKernelsTests/EltwiseTests.swift guards a sample of it); ±inf, NaN, ±0, overflow and underflow follow C99 Annex F
 * (exp(−inf) = 0, exp(+inf) = inf, log(0) = −inf, log(x<0) = NaN, NaN in → NaN out).
 *
 * Every function is `static inline` with the ISA's target attribute: the callers carry the same
 * attribute, so these inline into the loops.
 */
#ifndef CKERNELS_VMATH_H
#define CKERNELS_VMATH_H

#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_HAVE_X86 1

/* Cephes expf coefficients: exp(r) ≈ 1 + r + r²·(P0 r⁵ + ... + P5). */
#define CK_EXP_P0 1.9875691500E-4f
#define CK_EXP_P1 1.3981999507E-3f
#define CK_EXP_P2 8.3334519073E-3f
#define CK_EXP_P3 4.1665795894E-2f
#define CK_EXP_P4 1.6666665459E-1f
#define CK_EXP_P5 5.0000001201E-1f
#define CK_LN2_HI 0.693359375f /* exact in 9 bits, so n·LN2_HI is exact for |n| < 2^15 */
#define CK_LN2_LO (-2.12194440e-4f)
#define CK_LOG2E 1.44269504088896341f
/* Beyond these exp is +inf or 0 in float; clamping keeps n inside the split scaling's range. */
#define CK_EXP_HI 88.7228394f
#define CK_EXP_LO (-104.5f) /* exp(-104.5) < denorm_min/2: rounds to 0 */

/* Cephes logf coefficients: log(1+f) ≈ f − f²/2 + f³·(Q0 f⁸ + ... + Q8). */
#define CK_LOG_Q0 7.0376836292E-2f
#define CK_LOG_Q1 (-1.1514610310E-1f)
#define CK_LOG_Q2 1.1676998740E-1f
#define CK_LOG_Q3 (-1.2420140846E-1f)
#define CK_LOG_Q4 1.4249322787E-1f
#define CK_LOG_Q5 (-1.6668057665E-1f)
#define CK_LOG_Q6 2.0000714765E-1f
#define CK_LOG_Q7 (-2.4999993993E-1f)
#define CK_LOG_Q8 3.3333331174E-1f
#define CK_SQRTHF 0.707106781186547524f

/* Cephes tanhf, |x| < 0.625: tanh(x) ≈ x + x·z·(T0 z⁴ + ... + T4), z = x². */
#define CK_TANH_T0 (-5.70498872745E-3f)
#define CK_TANH_T1 2.06390887954E-2f
#define CK_TANH_T2 (-5.37397155531E-2f)
#define CK_TANH_T3 1.33314422036E-1f
#define CK_TANH_T4 (-3.33332819422E-1f)

/* ------------------------------------------------------------------------------------------ */
/* AVX-512: 16 lanes                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* The core of exp, shared with gate_math.h's sigmoid: e^{s·x} = 2^n·p for a constant s = ±1,
 * with n = round(s·x·log2 e) stored in *n and p = e^r on the reduced r = s·x − n·ln2 (the two-part
 * ln2). No clamp, no scaling, no edge cases: x must keep n inside the caller's scaling range. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
ck_exp_core_avx512(__m512 x, float s, __m512 *n) {
    *n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(s * CK_LOG2E)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = s > 0 ? _mm512_fnmadd_ps(*n, _mm512_set1_ps(CK_LN2_HI), x)  /* x − n·ln2_hi */
                     : _mm512_fnmsub_ps(*n, _mm512_set1_ps(CK_LN2_HI), x); /* −x − n·ln2_hi */
    r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(CK_LN2_LO), r);
    __m512 p = _mm512_set1_ps(CK_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P5));
    __m512 r2 = _mm512_mul_ps(r, r);
    return _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
}

CK_TARGET_AVX512 static inline __m512 ck_exp_avx512(__m512 x) {
    /* min/max with the constant first: vminps returns its second operand when either is NaN,
     * so NaN passes through to the end, where p·2^n stays NaN. */
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(CK_EXP_LO), _mm512_min_ps(_mm512_set1_ps(CK_EXP_HI), x));
    __m512 n;
    __m512 p = ck_exp_core_avx512(xc, 1.0f, &n);
    /* vscalefps computes p·2^n with one rounding, including gradual underflow and overflow. */
    __m512 y = _mm512_scalef_ps(p, n);
    /* x > EXP_HI must be +inf even though the clamp made p·2^n finite-ish at the edge. */
    __mmask16 over = _mm512_cmp_ps_mask(x, _mm512_set1_ps(CK_EXP_HI), _CMP_GT_OQ);
    return _mm512_mask_mov_ps(y, over, _mm512_set1_ps(__builtin_inff()));
}

CK_TARGET_AVX512 static inline __m512 ck_log_avx512(__m512 x) {
    /* vgetexpps / vgetmantps handle subnormals themselves: m in [1, 2), e = floor(log2 x). */
    __m512 e = _mm512_getexp_ps(x);
    __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    /* Move m into [√½, √2) so that f = m − 1 is small on both sides of 1. */
    __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(2.0f * CK_SQRTHF), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_ps(e, big, e, _mm512_set1_ps(1.0f));
    __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    __m512 z = _mm512_mul_ps(f, f);
    __m512 q = _mm512_set1_ps(CK_LOG_Q0);
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q1));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q2));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q3));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q4));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q5));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q6));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q7));
    q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(CK_LOG_Q8));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(q, z), f);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(CK_LN2_LO), y);
    y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
    y = _mm512_add_ps(f, y);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(CK_LN2_HI), y);
    /* Annex F special cases: log(+inf) = +inf, log(±0) = −inf, log(x < 0) = NaN, NaN → NaN. */
    __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ);
    __mmask16 bad = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ); /* x < 0 or NaN */
    __mmask16 inf = _mm512_cmp_ps_mask(x, _mm512_set1_ps(__builtin_inff()), _CMP_EQ_OQ);
    y = _mm512_mask_mov_ps(y, inf, x);
    y = _mm512_mask_mov_ps(y, zero, _mm512_set1_ps(-__builtin_inff()));
    return _mm512_mask_mov_ps(y, bad, _mm512_set1_ps(__builtin_nanf("")));
}

CK_TARGET_AVX512 static inline __m512 ck_tanh_avx512(__m512 x) {
    __m512 sign_mask = _mm512_set1_ps(-0.0f);
    __m512 ax = _mm512_andnot_ps(sign_mask, x);
    /* small |x|: odd polynomial */
    __m512 z = _mm512_mul_ps(ax, ax);
    __m512 q = _mm512_set1_ps(CK_TANH_T0);
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(CK_TANH_T1));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(CK_TANH_T2));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(CK_TANH_T3));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(CK_TANH_T4));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(q, z), ax, ax);
    /* large |x|: 1 − 2/(e^{2|x|} + 1); clamping |x| to 10 (tanh(10) rounds to 1) keeps the
     * exponential finite. NaN passes the min (second operand) and stays NaN. */
    __m512 a10 = _mm512_min_ps(_mm512_set1_ps(10.0f), ax);
    __m512 e = ck_exp_avx512(_mm512_add_ps(a10, a10));
    __m512 large = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                                 _mm512_div_ps(_mm512_set1_ps(2.0f),
                                               _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    __mmask16 is_large = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_GE_OQ);
    __m512 y = _mm512_mask_mov_ps(small, is_large, large);
    /* NaN: the small branch computed NaN from ax already (comparisons with NaN are false). */
    return _mm512_or_ps(y, _mm512_and_ps(x, sign_mask));
}

CK_TARGET_AVX512 static inline __m512 ck_sigmoid_avx512(__m512 x) {
    __m512 sign_mask = _mm512_set1_ps(-0.0f);
    __m512 neg_abs = _mm512_or_ps(x, sign_mask); /* −|x| */
    __m512 e = ck_exp_avx512(neg_abs);
    __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 num = _mm512_mask_mov_ps(_mm512_set1_ps(1.0f), negative, e);
    __m512 y = _mm512_div_ps(num, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    return _mm512_mask_mov_ps(y, nan, x);
}

/* ------------------------------------------------------------------------------------------ */
/* AVX2 + FMA: 8 lanes                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* ck_exp_core_avx512 on 8 lanes. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) __m256
ck_exp_core_avx2(__m256 x, float s, __m256 *n) {
    *n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(s * CK_LOG2E)),
                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = s > 0 ? _mm256_fnmadd_ps(*n, _mm256_set1_ps(CK_LN2_HI), x)
                     : _mm256_fnmsub_ps(*n, _mm256_set1_ps(CK_LN2_HI), x);
    r = _mm256_fnmadd_ps(*n, _mm256_set1_ps(CK_LN2_LO), r);
    __m256 p = _mm256_set1_ps(CK_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_EXP_P5));
    __m256 r2 = _mm256_mul_ps(r, r);
    return _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
}

/* p·2^n with one rounding, as vscalefps, for integral n in [−150, 150]: 2^n does not fit one
 * float exponent, so n1 = n >> 1 and n2 = n − n1 (both in [−75, 75]); p·2^n1 is exact,
 * ·2^n2 rounds once. */
CK_TARGET_AVX2 static inline __m256 ck_scale_pow2_avx2(__m256 p, __m256 n) {
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

CK_TARGET_AVX2 static inline __m256 ck_exp_avx2(__m256 x) {
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(CK_EXP_LO), _mm256_min_ps(_mm256_set1_ps(CK_EXP_HI), x));
    __m256 n;
    __m256 p = ck_exp_core_avx2(xc, 1.0f, &n);
    __m256 y = ck_scale_pow2_avx2(p, n);
    __m256 over = _mm256_cmp_ps(x, _mm256_set1_ps(CK_EXP_HI), _CMP_GT_OQ);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), over);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_blendv_ps(y, x, nan);
}

CK_TARGET_AVX2 static inline __m256 ck_log_avx2(__m256 x) {
    /* Subnormals: scale by 2^23 so the exponent field is meaningful, remember the 23. */
    __m256 sub = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
    __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), sub);
    __m256 ebias = _mm256_and_ps(sub, _mm256_set1_ps(23.0f));
    __m256i bits = _mm256_castps_si256(xs);
    __m256i ei = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    /* mantissa with exponent 0: m in [1, 2) */
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                                   _mm256_set1_epi32(0x3f800000)));
    __m256 e = _mm256_sub_ps(_mm256_cvtepi32_ps(ei), ebias);
    __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(2.0f * CK_SQRTHF), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_add_ps(e, _mm256_and_ps(big, _mm256_set1_ps(1.0f)));
    __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 z = _mm256_mul_ps(f, f);
    __m256 q = _mm256_set1_ps(CK_LOG_Q0);
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q1));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q2));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q3));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q4));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q5));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q6));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q7));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(CK_LOG_Q8));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(q, z), f);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(CK_LN2_LO), y);
    y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
    y = _mm256_add_ps(f, y);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(CK_LN2_HI), y);
    __m256 zero = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ);
    __m256 bad = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ);
    __m256 inf = _mm256_cmp_ps(x, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ);
    y = _mm256_blendv_ps(y, x, inf);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(-__builtin_inff()), zero);
    return _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_nanf("")), bad);
}

CK_TARGET_AVX2 static inline __m256 ck_tanh_avx2(__m256 x) {
    __m256 sign_mask = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign_mask, x);
    __m256 z = _mm256_mul_ps(ax, ax);
    __m256 q = _mm256_set1_ps(CK_TANH_T0);
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(CK_TANH_T1));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(CK_TANH_T2));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(CK_TANH_T3));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(CK_TANH_T4));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(q, z), ax, ax);
    __m256 a10 = _mm256_min_ps(_mm256_set1_ps(10.0f), ax);
    __m256 e = ck_exp_avx2(_mm256_add_ps(a10, a10));
    __m256 large = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                 _mm256_div_ps(_mm256_set1_ps(2.0f),
                                               _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    __m256 is_large = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_GE_OQ);
    __m256 y = _mm256_blendv_ps(small, large, is_large);
    return _mm256_or_ps(y, _mm256_and_ps(x, sign_mask));
}

CK_TARGET_AVX2 static inline __m256 ck_sigmoid_avx2(__m256 x) {
    __m256 neg_abs = _mm256_or_ps(x, _mm256_set1_ps(-0.0f));
    __m256 e = ck_exp_avx2(neg_abs);
    __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    __m256 num = _mm256_blendv_ps(_mm256_set1_ps(1.0f), e, negative);
    __m256 y = _mm256_div_ps(num, _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_blendv_ps(y, x, nan);
}

#endif /* x86 */

/* ------------------------------------------------------------------------------------------ */
/* Scalar: the generic path and the vector loops' tails                                         */
/* ------------------------------------------------------------------------------------------ */

#include <math.h>

static inline float ck_sigmoid_scalar(float x) {
    /* the same split as the vector code: no overflow of exp on either side */
    float e = expf(-fabsf(x));
    return (x < 0.0f ? e : 1.0f) / (1.0f + e);
}

#endif /* CKERNELS_VMATH_H */
