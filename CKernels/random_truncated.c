/*
 * random_truncated.c — normal numbers truncated at ±2 standard deviations (Keras's
 * "truncated_normal" initializers), beside random.c's uniform and normal streams.
 *
 * It uses random.c's counter-based generator (SplitMix64's finaliser over seed and index), so
 * element i depends only on (seed, offset + i): any thread count gives the same numbers, and the
 * global stream reserves exactly n counters per call.
 *
 *   truncated normal: TF's stateless_truncated_normal (Keras's "truncated_normal" initializers)
 *     redraws a normal until it falls inside [−2, 2]. We do the same per element: attempt k
 *     draws Box–Muller from the k-th sub-stream (the key mixed with k), so a redraw never
 *     borrows a neighbour's counter. Acceptance is 95.4%, so 2 attempts are the common worst
 *     case; after 64 rejections (probability 1e-86) the value is clamped.
 */
#include "internal.h"

#include <math.h>

#define MIN_CHUNK 8192

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t hash_counter(uint64_t key, uint64_t counter) {
    return mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ull);
}

typedef struct {
    uint64_t key, offset;
    float mean, stddev;
    float *y;
} random_job;

static inline double box_muller(uint64_t h) {
    double u1 = ((double)(h >> 32) + 1.0) * 0x1p-32; /* (0, 1] */
    double u2 = (double)(h & 0xffffffffu) * 0x1p-32; /* [0, 1) */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* The element at `counter`: the first of its sub-streams' normals inside [−2, 2]. */
static inline double truncated_normal_at(uint64_t key, uint64_t counter) {
    double z = 0.0;
    for (uint64_t attempt = 0; attempt < 64; attempt++) {
        z = box_muller(hash_counter(key ^ mix64(attempt * 0xd1b54a32d192ed03ull), counter));
        if (fabs(z) <= 2.0) return z;
    }
    return z > 0 ? 2.0 : -2.0;
}

static void truncated_range(void *ctx, int64_t begin, int64_t end) {
    const random_job *j = ctx;
    for (int64_t i = begin; i < end; i++)
        j->y[i] = (float)(j->mean + j->stddev * truncated_normal_at(j->key, j->offset + (uint64_t)i));
}

void ck_random_truncated_normal(int64_t n, uint64_t seed, uint64_t offset, float mean,
                                float stddev, float *y) {
    random_job job = {.key = mix64(seed), .offset = offset, .mean = mean, .stddev = stddev, .y = y};
    ck_parallel_for(n, MIN_CHUNK / 4, truncated_range, &job);
}

void ck_random_truncated_normal_reference(int64_t n, uint64_t seed, uint64_t offset, float mean,
                                          float stddev, float *y) {
    uint64_t key = mix64(seed);
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(mean + stddev * truncated_normal_at(key, offset + (uint64_t)i));
}
