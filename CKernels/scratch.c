/*
 * scratch.c — releasing the kernels' per-thread scratch buffers when their thread ends.
 *
 * The GEMM's packing buffers (gemm.c) and the convolution's gathered columns (conv.c) are
 * _Thread_local and grow to the largest problem the thread has seen, so that a training step
 * allocates nothing. C's _Thread_local has no destructor: a thread that ends (a worker of a
 * thread pool that shrinks, a caller's own thread) would leak its buffers. Each buffer is
 * therefore registered here when it is (re)allocated; the first registration of a thread sets a
 * pthread key whose destructor, run by glibc as the thread exits (before its TLS is torn down),
 * frees every registered buffer of that thread and clears its slot.
 *
 * Cost: one short scan of at most CK_SCRATCH_SLOTS pointers per reallocation, none per call.
 * (Buffers today: gemm.c 4, conv.c 3, gemm_skinny.c 1, rnn_common.c 1.)
 */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define CK_SCRATCH_SLOTS 16

typedef struct {
    int count;
    float **data[CK_SCRATCH_SLOTS];
    size_t *capacity[CK_SCRATCH_SLOTS];
} scratch_registry;

static _Thread_local scratch_registry registry;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Atomic int64_t released_buffers = 0;

/* The key's destructor: `value` is the exiting thread's registry. */
static void release_thread_scratch(void *value) {
    scratch_registry *r = value;
    for (int i = 0; i < r->count; i++) {
        if (*r->data[i]) atomic_fetch_add_explicit(&released_buffers, 1, memory_order_relaxed);
        free(*r->data[i]);
        *r->data[i] = NULL;
        *r->capacity[i] = 0;
    }
    r->count = 0;
}

static void create_scratch_key(void) { pthread_key_create(&scratch_key, release_thread_scratch); }

void ck_scratch_release_at_exit(float **data, size_t *capacity) {
    scratch_registry *r = &registry;
    for (int i = 0; i < r->count; i++)
        if (r->data[i] == data) return;
    if (r->count == CK_SCRATCH_SLOTS) return; /* more buffers than slots: not freed (none today) */
    if (r->count == 0) {
        pthread_once(&scratch_once, create_scratch_key);
        pthread_setspecific(scratch_key, r);
    }
    r->data[r->count] = data;
    r->capacity[r->count] = capacity;
    r->count++;
}

int ck_scratch_thread_buffers(void) { return registry.count; }

int64_t ck_scratch_released_buffers(void) {
    return atomic_load_explicit(&released_buffers, memory_order_relaxed);
}

float *ck_scratch_reserve(ck_scratch *buffer, size_t floats) {
    if (buffer->floats < floats) {
        free(buffer->data);
        buffer->data = aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);
        buffer->floats = buffer->data ? floats : 0;
        ck_scratch_release_at_exit(&buffer->data, &buffer->floats);
    }
    return buffer->data;
}
