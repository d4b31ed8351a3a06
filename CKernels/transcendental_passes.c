/*
 * transcendental_passes.c — the in-place exp, log, tanh and sigmoid passes of each ISA path
 * (see transcendental_passes.h): libm on the generic path, vmath.h's vector functions on the
 * AVX2 and AVX-512 paths.
 */
#include "transcendental_passes.h"

#include "internal.h"
#include "vmath.h"

#include <math.h>

#pragma clang fp contract(off)

static void exp_block_generic(int64_t n, float *t) { for (int64_t i = 0; i < n; i++) t[i] = expf(t[i]); }
static void log_block_generic(int64_t n, float *t) { for (int64_t i = 0; i < n; i++) t[i] = logf(t[i]); }
static void tanh_block_generic(int64_t n, float *t) { for (int64_t i = 0; i < n; i++) t[i] = tanhf(t[i]); }
static void sigmoid_block_generic(int64_t n, float *t) {
    for (int64_t i = 0; i < n; i++) t[i] = ck_sigmoid_scalar(t[i]);
}

const ck_transcendental_passes ck_passes_generic = {
    exp_block_generic, log_block_generic, tanh_block_generic, sigmoid_block_generic};

#ifdef CK_HAVE_X86
#define VEC_BLOCK(name, attr, width, load, store, fn)                                             \
    attr static void name(int64_t n, float *t) {                                                 \
        for (int64_t i = 0; i < n; i += width) store(t + i, fn(load(t + i)));                    \
    }
VEC_BLOCK(exp_block_avx512, CK_TARGET_AVX512, 16, _mm512_loadu_ps, _mm512_storeu_ps, ck_exp_avx512)
VEC_BLOCK(log_block_avx512, CK_TARGET_AVX512, 16, _mm512_loadu_ps, _mm512_storeu_ps, ck_log_avx512)
VEC_BLOCK(tanh_block_avx512, CK_TARGET_AVX512, 16, _mm512_loadu_ps, _mm512_storeu_ps, ck_tanh_avx512)
VEC_BLOCK(sigmoid_block_avx512, CK_TARGET_AVX512, 16, _mm512_loadu_ps, _mm512_storeu_ps, ck_sigmoid_avx512)
VEC_BLOCK(exp_block_avx2, CK_TARGET_AVX2, 8, _mm256_loadu_ps, _mm256_storeu_ps, ck_exp_avx2)
VEC_BLOCK(log_block_avx2, CK_TARGET_AVX2, 8, _mm256_loadu_ps, _mm256_storeu_ps, ck_log_avx2)
VEC_BLOCK(tanh_block_avx2, CK_TARGET_AVX2, 8, _mm256_loadu_ps, _mm256_storeu_ps, ck_tanh_avx2)
VEC_BLOCK(sigmoid_block_avx2, CK_TARGET_AVX2, 8, _mm256_loadu_ps, _mm256_storeu_ps, ck_sigmoid_avx2)

const ck_transcendental_passes ck_passes_avx2 = {
    exp_block_avx2, log_block_avx2, tanh_block_avx2, sigmoid_block_avx2};
const ck_transcendental_passes ck_passes_avx512 = {
    exp_block_avx512, log_block_avx512, tanh_block_avx512, sigmoid_block_avx512};
#endif
