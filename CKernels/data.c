/*
 * data.c — the loops of the input pipeline: raw bytes to floats, shuffled row gathers and the
 * permutation that shuffles them.
 *
 *   ck_u8_to_float:         y[i] = (float)x[i] · scale. An IDX (MNIST) file holds uint8 pixels;
 *                           scale = 1/255 gives Keras's usual x / 255.0 (one rounding: the
 *                           product of an exact integer and the rounded scale, as NumPy's
 *                           x.astype("float32") * (1/255) — not x / 255, which rounds differently).
 *   ck_gather_rows:         y[r, :] = x[indices[r], :] — a shuffled batch is a gather of rows,
 *                           each one memcpy of row_size floats.
 *   ck_random_permutation:  Fisher–Yates over SplitMix64 counters (the generator of random.c):
 *                           step i (from n−1 down to 1) swaps perm[i] with perm[j], j drawn from
 *                           hash(seed, offset + i) by Lemire's multiply-shift reduction into [0, i].
 *                           The bias of that reduction is below i / 2^64: invisible for any n a
 *                           dataset has. Fisher–Yates is sequential by nature; for 60 000 rows it
 *                           takes well under a millisecond, once per epoch.
 *
 * Threads split the elements (conversion) or the rows (gather) once there is enough work.
 */
#include "internal.h"

#include <string.h>

#define MIN_CHUNK 65536 /* elements per thread: below ~256 KiB of output one thread is faster */

/* ---- uint8 → float ---- */

typedef struct {
    const uint8_t *x;
    float scale;
    float *y;
} u8_job;

void ck_u8_to_float_reference(int64_t n, const uint8_t *x, float scale, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)x[i] * scale;
}

static void u8_range(void *ctx, int64_t begin, int64_t end) {
    const u8_job *j = ctx;
    /* A plain loop over contiguous bytes: clang vectorises it (zero-extend, convert, multiply). */
    for (int64_t i = begin; i < end; i++) j->y[i] = (float)j->x[i] * j->scale;
}

void ck_u8_to_float(int64_t n, const uint8_t *x, float scale, float *y) {
    u8_job job = {x, scale, y};
    ck_parallel_for(n, MIN_CHUNK, u8_range, &job);
}

/* ---- row gather ---- */

typedef struct {
    int64_t row_size;
    const float *x;
    const int32_t *indices;
    float *y;
} gather_job;

/* x: [*, row_size], indices: [rows], y: [rows, row_size] */
void ck_gather_rows_reference(int64_t rows, int64_t row_size, const float *x,
                              const int32_t *indices, float *y) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < row_size; c++) y[r * row_size + c] = x[(int64_t)indices[r] * row_size + c];
}

static void gather_range(void *ctx, int64_t begin, int64_t end) {
    const gather_job *j = ctx;
    size_t bytes = (size_t)j->row_size * sizeof(float);
    for (int64_t r = begin; r < end; r++)
        memcpy(j->y + r * j->row_size, j->x + (int64_t)j->indices[r] * j->row_size, bytes);
}

void ck_gather_rows(int64_t rows, int64_t row_size, const float *x, const int32_t *indices,
                    float *y) {
    if (rows <= 0 || row_size <= 0) return;
    gather_job job = {row_size, x, indices, y};
    int64_t min_rows = MIN_CHUNK / row_size + 1;
    ck_parallel_for(rows, min_rows, gather_range, &job);
}

/* ---- permutation ---- */

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ck_random_permutation(int64_t n, uint64_t seed, uint64_t offset, int32_t *perm) {
    uint64_t key = mix64(seed);
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t h = mix64(key + (offset + (uint64_t)i + 1) * 0x9e3779b97f4a7c15ull);
        int64_t j = (int64_t)(((unsigned __int128)h * (uint64_t)(i + 1)) >> 64);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
