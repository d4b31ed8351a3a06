/*
 * sampling.c — the embedded synthetic image set.
 *
 * It draws from a counter-based hash (SplitMix64 of seed and counter), so a seed gives the same
 * images on any machine and thread count.
 */
#include "internal.h"

#include <math.h>

static uint64_t mix(uint64_t seed, uint64_t counter) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (counter + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) with 24 random bits */
static float unit(uint64_t seed, uint64_t counter) {
    return (float)(mix(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

/*
 * images: [n, 28, 28] in [0, 1]; labels: [n] in 0..9.
 * Class c is a grating at angle c·18° whose frequency and phase vary per sample, under noise:
 * learnable by every compass workload (orientation needs spatial context), never trivially by
 * one pixel. It stands in for Fashion-MNIST when the dataset is not installed.
 */
void ck_synthetic_images(int64_t n, uint64_t seed, float *images, float *labels) {
    const float pi = 3.14159265358979f;
    for (int64_t s = 0; s < n; s++) {
        const uint64_t base = (uint64_t)s * 1024;
        const int c = (int)(mix(seed, base) % 10);
        const float angle = (float)c * pi / 10.0f + (unit(seed, base + 1) - 0.5f) * 0.12f;
        const float frequency = 2.0f + 2.0f * unit(seed, base + 2);
        const float phase = 2.0f * pi * unit(seed, base + 3);
        const float ca = cosf(angle), sa = sinf(angle);
        float *image = images + s * 784;
        for (int i = 0; i < 28; i++)
            for (int j = 0; j < 28; j++) {
                float u = ((float)i - 13.5f) / 28.0f, v = ((float)j - 13.5f) / 28.0f;
                float wave = 0.5f + 0.5f * sinf(2.0f * pi * frequency * (u * ca + v * sa) + phase);
                float noise = (unit(seed, base + 8 + (uint64_t)(i * 28 + j)) - 0.5f) * 0.3f;
                float value = wave + noise;
                image[i * 28 + j] = value < 0.0f ? 0.0f : (value > 1.0f ? 1.0f : value);
            }
        labels[s] = (float)c;
    }
}
