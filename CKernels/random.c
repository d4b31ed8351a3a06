/*
 * random.c — counter-based uniform and normal random numbers.
 *
 * Element i of a stream is a pure function of (seed, offset + i): we hash the counter with
 * SplitMix64's finaliser (Steele, Lea & Flood 2014; the output function of Java's
 * SplittableRandom), keyed by a mixed seed. A pure function of the index needs no generator
 * state, so threads split the array anywhere and produce the same numbers as one thread, and a
 * stream can be continued from any offset. SplitMix64 passes BigCrush; one 64-bit hash per
 * element is plenty for initialisers and dropout.
 *
 *   uniform: the top 24 bits give u in [0, 1) on the float grid k·2^-24, y = low + (high − low)·u,
 *            clamped below high (the product can round up to high for wide intervals).
 *   normal:  Box–Muller on the two 32-bit halves of one hash, in double: u1 in (0, 1] (so the
 *            log is finite), z = sqrt(−2 ln u1)·cos(2π u2). One normal per counter keeps
 *            element i independent of its neighbours' parity.
 */
#include "internal.h"

#include <math.h>

#define MIN_CHUNK 16384

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The i-th output of a SplitMix64 generator seeded with mix64(seed). */
static inline uint64_t hash_counter(uint64_t key, uint64_t counter) {
    return mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ull);
}

typedef struct {
    uint64_t key, offset;
    float a, b; /* low, high or mean, stddev */
    float *y;
} random_job;

static void uniform_range(void *ctx, int64_t begin, int64_t end) {
    const random_job *j = ctx;
    float low = j->a, high = j->b, width = high - low;
    float below_high = nextafterf(high, low);
    for (int64_t i = begin; i < end; i++) {
        uint64_t h = hash_counter(j->key, j->offset + (uint64_t)i);
        float u = (float)(h >> 40) * 0x1p-24f;
        float v = low + width * u;
        j->y[i] = (v >= high && high > low) ? below_high : v;
    }
}

static void normal_range(void *ctx, int64_t begin, int64_t end) {
    const random_job *j = ctx;
    for (int64_t i = begin; i < end; i++) {
        uint64_t h = hash_counter(j->key, j->offset + (uint64_t)i);
        double u1 = ((double)(h >> 32) + 1.0) * 0x1p-32; /* (0, 1] */
        double u2 = (double)(h & 0xffffffffu) * 0x1p-32; /* [0, 1) */
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        j->y[i] = (float)(j->a + j->b * z);
    }
}

void ck_random_uniform(int64_t n, uint64_t seed, uint64_t offset, float low, float high, float *y) {
    random_job job = {mix64(seed), offset, low, high, y};
    ck_parallel_for(n, MIN_CHUNK, uniform_range, &job);
}

void ck_random_normal(int64_t n, uint64_t seed, uint64_t offset, float mean, float stddev, float *y) {
    random_job job = {mix64(seed), offset, mean, stddev, y};
    ck_parallel_for(n, MIN_CHUNK / 4, normal_range, &job);
}
