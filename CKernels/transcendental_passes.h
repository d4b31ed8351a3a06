/*
 * transcendental_passes.h — in-place exp, log, tanh and sigmoid over a small buffer, one set per
 * ISA path: what activation.c and activation_extra.c build their functions from.
 *
 * The activation kernels are plain C loops that auto-vectorise, except for the transcendentals
 * (a libm call stops the vectoriser). So a function fills a stack buffer with a plain loop,
 * transforms the buffer in place with one of these passes (vmath.h on the vector paths, libm
 * on the generic one), and combines with another plain loop; the buffer stays in L1.
 *
 *   t: [n] floats, n a multiple of 16 (ck_pad16 zeroes a buffer's tail up to one).
 */
#ifndef CK_TRANSCENDENTAL_PASSES_H
#define CK_TRANSCENDENTAL_PASSES_H

#include <stdint.h>

typedef void (*ck_block_fn)(int64_t n, float *t);

/* The transcendental passes of one ISA path. */
typedef struct {
    ck_block_fn exp, log, tanh, sigmoid;
} ck_transcendental_passes;

extern const ck_transcendental_passes ck_passes_generic;
extern const ck_transcendental_passes ck_passes_avx2;   /* defined where vmath.h has x86 paths */
extern const ck_transcendental_passes ck_passes_avx512;

/* Zero the buffer's tail up to the next multiple of 16, so the vector passes read defined data. */
static inline __attribute__((always_inline)) int64_t ck_pad16(int64_t len, float *t) {
    int64_t padded = (len + 15) & ~(int64_t)15;
    for (int64_t i = len; i < padded; i++) t[i] = 0.0f;
    return padded;
}

#endif
