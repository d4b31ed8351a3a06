/*
 * internal.h — shared by the kernel files, not part of the public API.
 */
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "include/ckernels.h"

/* ISA-specific functions carry these instead of a -march flag, so the package builds with
 * SwiftPM's default flags and the right variant is picked at run time (cpu.c). */
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

#define CK_LIKELY(x) __builtin_expect(!!(x), 1)
#define CK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* The calling thread's ISA override, or -1 (cpu.c). */
int ck_thread_isa(void);

/* ---- per-thread scratch (scratch.c) ---- */

/* Frees *data (and zeroes *capacity) when the calling thread exits. Call it for a
 * _Thread_local scratch buffer each time it is (re)allocated; repeated calls are cheap. */
void ck_scratch_release_at_exit(float **data, size_t *capacity);

/* A _Thread_local scratch buffer: grows to the largest request its thread has made, never
 * shrinks (so a warm training step allocates nothing), freed when its thread exits. */
typedef struct {
    float *data;
    size_t floats;
} ck_scratch;

/* At least `floats` floats of `buffer`, 64-byte aligned (the contents are not kept when it
 * grows), or NULL when the allocation fails. */
float *ck_scratch_reserve(ck_scratch *buffer, size_t floats);

/* ---- threading (parallel.c) ---- */

/* Body of a parallel region: called once per thread with its index and the team size. */
typedef void (*ck_parallel_body)(void *ctx, int thread, int nthreads);

/* Runs body on `nthreads` threads (the caller is thread 0) and returns when all are done.
 * nthreads <= 1, or a call from inside another region, runs body inline as thread 0 of 1. */
void ck_parallel_run(int nthreads, ck_parallel_body body, void *ctx);

/* Body of a parallel loop: processes [begin, end). */
typedef void (*ck_range_body)(void *ctx, int64_t begin, int64_t end);

/* Splits [0, n) into one contiguous chunk per thread (static schedule). Uses one thread when
 * n < 2·min_chunk: a parallel region costs a few microseconds, more than small loops take. */
void ck_parallel_for(int64_t n, int64_t min_chunk, ck_range_body body, void *ctx);

/* Static split of [0, n) into `parts` nearly equal chunks, aligned to `align` elements. */
static inline void ck_split_range(int64_t n, int parts, int part, int64_t align, int64_t *begin,
                                  int64_t *end) {
    int64_t blocks = (n + align - 1) / align;
    int64_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
    *begin = CK_MIN(b0 * align, n);
    *end = CK_MIN(b1 * align, n);
}

/* ---- the GEMM epilogue, shared by the driver and the micro-kernels (gemm_epilogue.c) ---- */

/* row[j] = act(row[j] + bias[j]) for j < n (bias may be NULL), on the active ISA path. */
void ck_bias_act_row(int n, const float *bias, ck_activation act, float *row);

#endif /* CKERNELS_INTERNAL_H */
