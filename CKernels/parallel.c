/*
 * parallel.c — threads from the OpenMP runtime without -fopenmp.
 *
 * `#pragma omp parallel` compiles to a call of the runtime's GOMP_parallel(fn, data, n, flags);
 * calling that entry point directly gives the same thread pool with no compiler flag, no unsafe
 * flag in Package.swift (so the package stays usable as a versioned dependency) and no omp.h
 * (Swift's clang ships none). libgomp exports it, and LLVM's libomp exports the same symbols.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <stdatomic.h>

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);
extern int omp_in_parallel(void);

/* ThreadSanitizer cannot see libgomp's own synchronisation (libgomp is not instrumented: its
 * barriers are futexes and atomics TSan never observes), so every region would look like a race
 * between the caller's writes before the fork, the workers' writes, and the caller's reads after
 * the join. The annotations below state exactly those two edges — fork: the caller's release,
 * each worker's acquire on entry; join: each worker's release on exit, the caller's acquire on
 * return — and nothing more, so races between the threads *inside* a region are still reported.
 * Without -fsanitize=thread they compile to nothing. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CK_TSAN 1
#endif
#endif
#ifdef CK_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define CK_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#define CK_TSAN_RELEASE(addr) __tsan_release(addr)
#else
#define CK_TSAN_ACQUIRE(addr) ((void)(addr))
#define CK_TSAN_RELEASE(addr) ((void)(addr))
#endif

static _Atomic int requested_threads = 0;
static _Thread_local int thread_threads = 0; /* per-thread override, see ck_set_thread_num_threads */

int ck_num_threads(void) {
    if (thread_threads > 0) return thread_threads;
    int n = atomic_load_explicit(&requested_threads, memory_order_relaxed);
    return n > 0 ? n : omp_get_max_threads();
}

void ck_set_thread_num_threads(int n) { thread_threads = n > 0 ? n : 0; }

void ck_set_num_threads(int n) {
    atomic_store_explicit(&requested_threads, n > 0 ? n : 0, memory_order_relaxed);
}

const char *ck_threading_runtime(void) {
    static char name[256];
    Dl_info info;
    if (dladdr((void *)&GOMP_parallel, &info) == 0 || info.dli_fname == NULL) return "unknown";
    const char *base = info.dli_fname;
    for (const char *p = base; *p; p++)
        if (*p == '/') base = p + 1;
    size_t i = 0;
    for (; base[i] && i + 1 < sizeof name; i++) name[i] = base[i];
    name[i] = '\0';
    return name;
}

typedef struct {
    ck_parallel_body body;
    void *ctx;
    int isa; /* the caller's per-thread ISA override, for the workers */
} region;

static void region_trampoline(void *data) {
    region *r = data;
    CK_TSAN_ACQUIRE(r); /* fork edge */
    int saved = ck_thread_isa();
    ck_set_thread_isa(r->isa);
    r->body(r->ctx, omp_get_thread_num(), omp_get_num_threads());
    ck_set_thread_isa(saved);
    CK_TSAN_RELEASE(r); /* join edge */
}

void ck_parallel_run(int nthreads, ck_parallel_body body, void *ctx) {
    if (nthreads <= 1 || omp_in_parallel()) {
        body(ctx, 0, 1);
        return;
    }
    region r = {body, ctx, ck_thread_isa()};
    CK_TSAN_RELEASE(&r);
    GOMP_parallel(region_trampoline, &r, (unsigned)nthreads, 0);
    CK_TSAN_ACQUIRE(&r);
}

typedef struct {
    int64_t n;
    ck_range_body body;
    void *ctx;
} range_job;

static void range_trampoline(void *data, int thread, int nthreads) {
    range_job *job = data;
    int64_t begin, end;
    ck_split_range(job->n, nthreads, thread, 1, &begin, &end);
    if (begin < end) job->body(job->ctx, begin, end);
}

void ck_parallel_for(int64_t n, int64_t min_chunk, ck_range_body body, void *ctx) {
    if (n <= 0) return;
    if (min_chunk < 1) min_chunk = 1;
    int64_t useful = n / min_chunk;
    int threads = ck_num_threads();
    if (useful < threads) threads = (int)(useful < 1 ? 1 : useful);
    if (threads <= 1) {
        body(ctx, 0, n);
        return;
    }
    range_job job = {n, body, ctx};
    ck_parallel_run(threads, range_trampoline, &job);
}
