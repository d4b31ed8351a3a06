/*
 * cpu.c — which instruction-set path the kernels take.
 *
 * The choice is made once, lazily, from the CPU's features (cpuid through
 * __builtin_cpu_supports) and the PEREGRINE_ISA environment variable, then read with a relaxed
 * atomic load on every dispatch: cheaper than a branch mispredict, and safe to change from a test.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int active_isa = -1;

/* A per-thread override (tests run every path in parallel without touching the process's
 * choice); ck_parallel_run hands it to the worker threads of its region. -1: none. */
static _Thread_local int thread_isa = -1;

ck_isa ck_isa_best_supported(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
#endif
    return CK_ISA_GENERIC;
}

const char *ck_isa_name(ck_isa isa) {
    switch (isa) {
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

/* PEREGRINE_ISA names a path; one the CPU lacks falls back to the best it has (never a crash
 * from an illegal instruction because of a stale environment variable). */
static ck_isa resolve_isa(void) {
    ck_isa best = ck_isa_best_supported();
    const char *env = getenv("PEREGRINE_ISA");
    if (env == NULL || *env == '\0') return best;
    ck_isa wanted = best;
    if (strcmp(env, "generic") == 0) wanted = CK_ISA_GENERIC;
    else if (strcmp(env, "avx2") == 0) wanted = CK_ISA_AVX2;
    else if (strcmp(env, "avx512") == 0) wanted = CK_ISA_AVX512;
    return wanted <= best ? wanted : best;
}

ck_isa ck_isa_active(void) {
    if (thread_isa >= 0) return (ck_isa)thread_isa;
    int isa = atomic_load_explicit(&active_isa, memory_order_relaxed);
    if (CK_UNLIKELY(isa < 0)) {
        isa = (int)resolve_isa();
        atomic_store_explicit(&active_isa, isa, memory_order_relaxed);
    }
    return (ck_isa)isa;
}

int ck_set_isa(ck_isa isa) {
    if ((int)isa < CK_ISA_GENERIC || isa > ck_isa_best_supported()) return -1;
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return 0;
}

int ck_set_thread_isa(int isa) {
    if (isa < 0) {
        thread_isa = -1;
        return 0;
    }
    if (isa > (int)ck_isa_best_supported()) return -1;
    thread_isa = isa;
    return 0;
}

int ck_thread_isa(void) { return thread_isa; }
