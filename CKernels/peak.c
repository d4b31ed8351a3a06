/*
 * peak.c — the machine's fp32 FMA peak, measured, so that benchmarks can report efficiency
 * against this machine in this run rather than against a data-sheet number.
 *
 * Each thread runs independent FMA chains on registers only: ACC chains of one vector each,
 * more than FMA latency × FMA ports, so the loop is throughput-bound. No memory traffic.
 */
#define _POSIX_C_SOURCE 199309L
#include "internal.h"

#include <immintrin.h>
#include <time.h>

#define PEAK_ITERATIONS 4000000 /* ~9 ms per run at 175 GFLOP/s per core with 16-wide FMA */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Returns the flops done; the sum is stored so the compiler cannot drop the chains. */
CK_TARGET_AVX512 static double burn_avx512(int64_t iterations, float *sink) {
    __m512 acc[12];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int r = 0; r < 12; r++) acc[r] = _mm512_set1_ps((float)r);
    for (int64_t it = 0; it < iterations; it++)
        for (int r = 0; r < 12; r++) acc[r] = _mm512_fmadd_ps(acc[r], x, y);
    __m512 s = acc[0];
    for (int r = 1; r < 12; r++) s = _mm512_add_ps(s, acc[r]);
    *sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * 12 * (double)iterations;
}

CK_TARGET_AVX2 static double burn_avx2(int64_t iterations, float *sink) {
    __m256 acc[12];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int r = 0; r < 12; r++) acc[r] = _mm256_set1_ps((float)r);
    for (int64_t it = 0; it < iterations; it++)
        for (int r = 0; r < 12; r++) acc[r] = _mm256_fmadd_ps(acc[r], x, y);
    __m256 s = acc[0];
    for (int r = 1; r < 12; r++) s = _mm256_add_ps(s, acc[r]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[7];
    return 2.0 * 8 * 12 * (double)iterations;
}

static double burn_generic(int64_t iterations, float *sink) {
    float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int64_t it = 0; it < iterations; it++)
        for (int r = 0; r < 8; r++) acc[r] = acc[r] * 0.999999f + 1e-7f;
    *sink = acc[0] + acc[7];
    return 2.0 * 8 * (double)iterations;
}

typedef struct {
    ck_isa isa;
    double flops[64];
    float sink[64];
} peak_job;

static void peak_body(void *ctx, int thread, int nthreads) {
    (void)nthreads;
    peak_job *job = ctx;
    if (thread >= 64) return;
    switch (job->isa) {
    case CK_ISA_AVX512: job->flops[thread] = burn_avx512(PEAK_ITERATIONS, &job->sink[thread]); break;
    case CK_ISA_AVX2: job->flops[thread] = burn_avx2(PEAK_ITERATIONS, &job->sink[thread]); break;
    default: job->flops[thread] = burn_generic(PEAK_ITERATIONS / 4, &job->sink[thread]); break;
    }
}

double ck_fma_peak_gflops(int nthreads) {
    if (nthreads <= 0) nthreads = ck_num_threads();
    if (nthreads > 64) nthreads = 64;
    double best = 0.0;
    for (int run = 0; run < 12; run++) {
        peak_job job = {.isa = ck_isa_active()};
        double t0 = now_seconds();
        ck_parallel_run(nthreads, peak_body, &job);
        double seconds = now_seconds() - t0;
        double flops = 0.0;
        for (int t = 0; t < nthreads; t++) flops += job.flops[t];
        double gflops = flops / seconds * 1e-9;
        if (gflops > best) best = gflops;
    }
    return best;
}
