/*
 * embedding.c — Keras's Embedding: a row gather forward, a scatter-add backward, the zero mask.
 *
 * Indices arrive as floats (Peregrine's tensors are float32) and are converted as TF's cast to
 * int32 does: truncation toward zero. The forward pass validates every index first and writes
 * nothing when one is outside [0, input_dim) (or NaN), returning its position, so the Swift
 * layer can throw an error that names it; TF's CPU gather raises the same way.
 *
 * Backward: dtable[idx[r], :] += dy[r, :] over the rows r in order. Rows may repeat, so threads
 * cannot split over r; they split the embedding columns instead (64-byte-aligned column ranges,
 * no false sharing), and each thread zeroes and accumulates only its own columns, so no barrier
 * or atomics are needed and the sums come out in row order on any thread count.
 */
#include "internal.h"

#include <string.h>

#define MIN_WORK 32768 /* elements of dy below which one thread does it all */

/* The row an index denotes, or -1 when it is out of range. */
static inline int64_t row_of(float v, int64_t input_dim) {
    if (!(v > -1.0f && v < (float)input_dim)) return -1; /* NaN fails both comparisons */
    return (int64_t)v; /* truncates toward zero: (-1, 0) → 0 */
}

typedef struct {
    int64_t count, dim, input_dim;
    const float *table, *indices, *dy;
    float *out;
} embedding_job;

/* table: [input_dim, dim]; indices: [count]; y: [count, dim] */
static void gather_range(void *ctx, int64_t begin, int64_t end) {
    const embedding_job *j = ctx;
    for (int64_t r = begin; r < end; r++) {
        int64_t row = row_of(j->indices[r], j->input_dim);
        memcpy(j->out + r * j->dim, j->table + row * j->dim, (size_t)j->dim * sizeof(float));
    }
}

int64_t ck_embedding_forward(int64_t count, int64_t dim, int64_t input_dim, const float *table,
                             const float *indices, float *y) {
    for (int64_t r = 0; r < count; r++)
        if (row_of(indices[r], input_dim) < 0) return r;
    embedding_job j = {.count = count, .dim = dim, .input_dim = input_dim, .table = table,
                       .indices = indices, .out = y};
    ck_parallel_for(count, MIN_WORK / (dim > 0 ? dim : 1) + 1, gather_range, &j);
    return -1;
}

/* dtable: [input_dim, dim], overwritten; this thread owns columns [c0, c1). */
static void scatter_columns(const embedding_job *j, int64_t c0, int64_t c1) {
    if (c0 >= c1) return;
    const int64_t dim = j->dim, width = c1 - c0;
    for (int64_t row = 0; row < j->input_dim; row++)
        memset(j->out + row * dim + c0, 0, (size_t)width * sizeof(float));
    for (int64_t r = 0; r < j->count; r++) {
        int64_t row = row_of(j->indices[r], j->input_dim);
        float *restrict dst = j->out + row * dim;
        const float *restrict src = j->dy + r * dim;
        for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
    }
}

static void scatter_body(void *ctx, int thread, int nthreads) {
    const embedding_job *j = ctx;
    int64_t c0, c1;
    ck_split_range(j->dim, nthreads, thread, 16, &c0, &c1);
    scatter_columns(j, c0, c1);
}

void ck_embedding_backward(int64_t count, int64_t dim, int64_t input_dim, const float *indices,
                           const float *dy, float *dtable) {
    embedding_job j = {.count = count, .dim = dim, .input_dim = input_dim, .indices = indices,
                       .dy = dy, .out = dtable};
    int threads = count * dim >= MIN_WORK ? ck_num_threads() : 1;
    ck_parallel_run(threads, scatter_body, &j);
}

void ck_embedding_forward_reference(int64_t count, int64_t dim, const float *table,
                                    const float *indices, float *y) {
    for (int64_t r = 0; r < count; r++)
        for (int64_t c = 0; c < dim; c++) y[r * dim + c] = table[(int64_t)indices[r] * dim + c];
}

void ck_embedding_backward_reference(int64_t count, int64_t dim, int64_t input_dim,
                                     const float *indices, const float *dy, float *dtable) {
    for (int64_t i = 0; i < input_dim * dim; i++) dtable[i] = 0.0f;
    for (int64_t r = 0; r < count; r++)
        for (int64_t c = 0; c < dim; c++) dtable[(int64_t)indices[r] * dim + c] += dy[r * dim + c];
}

void ck_embedding_mask_zero(int64_t n, const float *indices, float *mask) {
    for (int64_t i = 0; i < n; i++) mask[i] = (int64_t)indices[i] != 0 ? 1.0f : 0.0f;
}
