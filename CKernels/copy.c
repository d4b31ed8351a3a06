/*
 * copy.c — the strided copy behind transpose, permute, slicing, concatenation and broadcasting.
 *
 * y[Σ i_d·ys_d] = x[Σ i_d·xs_d] over every index of `shape`. Before looping we simplify the
 * problem the way NumPy's iterator does: size-1 dimensions are dropped and a dimension merges
 * into the one before it when both x and y step through the pair as one (xs[d-1] == xs[d]·n_d,
 * likewise y). A contiguous copy thus becomes one memcpy; a slice of rows becomes a few long
 * memcpys; a transpose stays 2-D. The innermost dimension is then a memcpy (both strides 1),
 * a broadcast fill (x stride 0) or a strided gather.
 *
 * Threads split the outer rows (or, for a single long row, the row itself) once there are enough
 * elements; each output element is written by exactly one thread.
 */
#include "internal.h"

#include <string.h>

#define MIN_CHUNK 65536 /* a copy moves ~10 GB/s per core: below 256 KiB one thread is faster */

typedef struct {
    int rank;
    int64_t shape[CK_MAX_RANK], xs[CK_MAX_RANK], ys[CK_MAX_RANK];
    const uint32_t *x;
    uint32_t *y;
    int64_t cols;
} copy_job;

/* The reference row: one element at a time. */
static inline void copy_row(int64_t n, const uint32_t *x, int64_t xs, uint32_t *y, int64_t ys) {
    if (xs == 1 && ys == 1) {
        memcpy(y, x, (size_t)n * sizeof(uint32_t));
    } else if (xs == 0 && ys == 1) {
        uint32_t v = x[0];
        for (int64_t i = 0; i < n; i++) y[i] = v;
    } else {
        for (int64_t i = 0; i < n; i++) y[i * ys] = x[i * xs];
    }
}

static void copy_rows(void *ctx, int64_t begin, int64_t end) {
    const copy_job *j = ctx;
    int outer = j->rank - 1;
    int64_t idx[CK_MAX_RANK] = {0};
    int64_t ox = 0, oy = 0, rem = begin;
    for (int d = outer - 1; d >= 0; d--) {
        idx[d] = rem % j->shape[d];
        rem /= j->shape[d];
        ox += idx[d] * j->xs[d];
        oy += idx[d] * j->ys[d];
    }
    for (int64_t r = begin; r < end; r++) {
        copy_row(j->cols, j->x + ox, j->xs[outer], j->y + oy, j->ys[outer]);
        for (int d = outer - 1; d >= 0; d--) { /* odometer step */
            ox += j->xs[d];
            oy += j->ys[d];
            if (++idx[d] < j->shape[d]) break;
            ox -= idx[d] * j->xs[d];
            oy -= idx[d] * j->ys[d];
            idx[d] = 0;
        }
    }
}

static void copy_cols(void *ctx, int64_t begin, int64_t end) {
    const copy_job *j = ctx;
    copy_row(end - begin, j->x + begin * j->xs[0], j->xs[0], j->y + begin * j->ys[0], j->ys[0]);
}

void ck_copy_strided32(int rank, const int64_t *shape, const void *x, const int64_t *x_strides,
                       void *y, const int64_t *y_strides) {
    copy_job j = {.x = x, .y = y};
    int r = 0;
    int64_t total = 1;
    for (int d = 0; d < rank; d++) {
        total *= shape[d];
        if (shape[d] == 1) continue;
        if (r > 0 && j.xs[r - 1] == x_strides[d] * shape[d] && j.ys[r - 1] == y_strides[d] * shape[d]) {
            j.shape[r - 1] *= shape[d];
            j.xs[r - 1] = x_strides[d];
            j.ys[r - 1] = y_strides[d];
            continue;
        }
        j.shape[r] = shape[d];
        j.xs[r] = x_strides[d];
        j.ys[r] = y_strides[d];
        r++;
    }
    if (total == 0) return;
    if (r == 0) { /* a single element */
        j.y[0] = j.x[0];
        return;
    }
    j.rank = r;
    j.cols = j.shape[r - 1];
    int64_t rows = total / j.cols;
    if (rows == 1)
        ck_parallel_for(j.cols, MIN_CHUNK, copy_cols, &j);
    else
        ck_parallel_for(rows, CK_MAX(1, MIN_CHUNK / j.cols), copy_rows, &j);
}
