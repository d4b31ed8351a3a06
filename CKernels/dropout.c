/*
 * dropout.c — the training-time dropout mask and its application in one pass.
 *
 * keep iff u ≥ rate, with u uniform on the 2^-24 grid from random.c's counter-based generator
 * (SplitMix64's finaliser over seed and index; TF keeps where random_uniform >= rate), so the
 * mask depends only on (seed, offset + i) and not on the thread count. mask = keep ? 1/(1 − rate)
 * : 0 and y = x·mask, which is TF's (x·scale)·keep exactly; the backward pass multiplies the
 * upstream gradient by the same mask. rate ≥ 1 gives an all-zero mask (no 1/0).
 */
#include "internal.h"

#define MIN_CHUNK 16384

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
    float rate, scale;
    const float *x;
    float *y, *mask;
} dropout_job;

/* x, y, mask: [n] */
static void dropout_range(void *ctx, int64_t begin, int64_t end) {
    const dropout_job *j = ctx;
    const float rate = j->rate, scale = j->scale;
    for (int64_t i = begin; i < end; i++) {
        float u = (float)(hash_counter(j->key, j->offset + (uint64_t)i) >> 40) * 0x1p-24f;
        float m = (rate < 1.0f && u >= rate) ? scale : 0.0f;
        j->mask[i] = m;
        j->y[i] = j->x[i] * m;
    }
}

void ck_dropout_forward(int64_t n, uint64_t seed, uint64_t offset, float rate, const float *x,
                        float *y, float *mask) {
    float scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    dropout_job job = {.key = mix64(seed), .offset = offset, .rate = rate, .scale = scale, .x = x, .y = y,
                      .mask = mask};
    ck_parallel_for(n, MIN_CHUNK, dropout_range, &job);
}

void ck_dropout_forward_reference(int64_t n, uint64_t seed, uint64_t offset, float rate,
                                  const float *x, float *y, float *mask) {
    uint64_t key = mix64(seed);
    float scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float u = (float)(hash_counter(key, offset + (uint64_t)i) >> 40) * 0x1p-24f;
        mask[i] = (rate < 1.0f && u >= rate) ? scale : 0.0f;
        y[i] = x[i] * mask[i];
    }
}
