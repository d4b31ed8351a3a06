/*
 * pool.c — 2-D max and average pooling and the global poolings, channels-last (NHWC), forward
 * and backward.
 *
 * Channels are the contiguous axis, so every loop's inner dimension is C: one output pixel is the
 * element-wise max (or sum) of the window's input rows of C floats, which vectorises without
 * shuffles. The loops are written once and compiled per ISA (as optimizer.c), so the AVX-512 and
 * AVX2 paths are the same arithmetic as the generic one, bit for bit.
 *
 * Padding is explicit (top, left; the output size implies bottom and right). Padded cells never
 * take part: a max window takes its maximum over its real cells only (−∞ padding), and an average
 * window divides by the number of real cells (Keras's `same` average pooling).
 *
 * Max pooling keeps, per output element, the index ih·W + iw of the input cell that won (the
 * first maximum in window order, as TF's CPU kernel), and the backward pass adds dy there.
 * Backward passes scatter into dx, so the work is split over (image, channel block) pairs, which
 * never write the same dx element.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define POOL_CHANNEL_BLOCK 64

/* Runs one body per ISA: the same loop text, compiled three times. */
#define POOL_DISPATCH(name, job_type)                                                            \
    static void name##_generic(const job_type *j, int64_t b, int64_t e) { name##_loop(j, b, e); } \
    CK_TARGET_AVX2 static void name##_avx2(const job_type *j, int64_t b, int64_t e) {            \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    CK_TARGET_AVX512 static void name##_avx512(const job_type *j, int64_t b, int64_t e) {        \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    static void name##_range(void *ctx, int64_t b, int64_t e) {                                  \
        switch (ck_isa_active()) {                                                               \
        case CK_ISA_AVX512: name##_avx512(ctx, b, e); break;                                     \
        case CK_ISA_AVX2: name##_avx2(ctx, b, e); break;                                         \
        default: name##_generic(ctx, b, e); break;                                               \
        }                                                                                        \
    }

typedef struct {
    const ck_pool2d_shape *s;
    const float *x, *dy;
    float *y, *dx;
    int32_t *argmax;
    int64_t channel_blocks;
} pool_job;

/* The window of output (i, j) clipped to the image: rows [h0, h1), columns [w0, w1). */
INLINE void pool_window(const ck_pool2d_shape *s, int64_t i, int64_t j, int64_t *h0, int64_t *h1,
                        int64_t *w0, int64_t *w1) {
    int64_t hs = i * s->stride_h - s->pad_top, ws = j * s->stride_w - s->pad_left;
    *h0 = CK_MAX(hs, 0);
    *h1 = CK_MIN(hs + s->pool_h, s->in_h);
    *w0 = CK_MAX(ws, 0);
    *w1 = CK_MIN(ws + s->pool_w, s->in_w);
}

/* ---- forward: items are output rows (n, i) ---- */

/* One output pixel over `width` channels: the running maximum and its cell index live in local
 * arrays (registers when width is a constant) and are stored once (measured at C = 32: 64% ->
 * 99% of a copy, against updating y and argmax in place cell by cell). */
INLINE void max_pixel(const float *image, int64_t W, int64_t C, int64_t h0, int64_t h1,
                      int64_t w0, int64_t w1, int64_t width, float *restrict y,
                      int32_t *restrict idx) {
    float best[64];
    int32_t where[64];
    const float *first = image + (h0 * W + w0) * C;
    for (int64_t c = 0; c < width; c++) {
        best[c] = first[c];
        where[c] = (int32_t)(h0 * W + w0);
    }
    for (int64_t h = h0; h < h1; h++)
        for (int64_t w = (h == h0 ? w0 + 1 : w0); w < w1; w++) {
            const float *restrict v = image + (h * W + w) * C;
            const int32_t cell = (int32_t)(h * W + w);
            for (int64_t c = 0; c < width; c++) {
                const int better = v[c] > best[c];
                best[c] = better ? v[c] : best[c];
                where[c] = better ? cell : where[c];
            }
        }
    for (int64_t c = 0; c < width; c++) y[c] = best[c];
    if (idx)
        for (int64_t c = 0; c < width; c++) idx[c] = where[c];
}

INLINE void max_forward_loop(const pool_job *jb, int64_t begin, int64_t end) {
    const ck_pool2d_shape *s = jb->s;
    const int64_t C = s->channels, W = s->in_w;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / s->out_h, i = item % s->out_h;
        const float *image = jb->x + n * s->in_h * W * C;
        for (int64_t j = 0; j < s->out_w; j++) {
            int64_t h0, h1, w0, w1;
            pool_window(s, i, j, &h0, &h1, &w0, &w1);
            const int64_t o = ((item * s->out_w) + j) * C;
            int32_t *idx = jb->argmax ? jb->argmax + o : NULL;
            /* the common channel counts get constant widths */
            switch (C) {
            case 16: max_pixel(image, W, C, h0, h1, w0, w1, 16, jb->y + o, idx); continue;
            case 32: max_pixel(image, W, C, h0, h1, w0, w1, 32, jb->y + o, idx); continue;
            case 64: max_pixel(image, W, C, h0, h1, w0, w1, 64, jb->y + o, idx); continue;
            default: break;
            }
            for (int64_t c0 = 0; c0 < C; c0 += 64)
                max_pixel(image + c0, W, C, h0, h1, w0, w1, CK_MIN(64, C - c0), jb->y + o + c0,
                          idx ? idx + c0 : NULL);
        }
    }
}
POOL_DISPATCH(max_forward, pool_job)

INLINE void avg_pixel(const float *image, int64_t W, int64_t C, int64_t h0, int64_t h1,
                      int64_t w0, int64_t w1, int64_t width, float *restrict y) {
    float sum[64];
    for (int64_t c = 0; c < width; c++) sum[c] = 0.0f;
    for (int64_t h = h0; h < h1; h++)
        for (int64_t w = w0; w < w1; w++) {
            const float *restrict v = image + (h * W + w) * C;
            for (int64_t c = 0; c < width; c++) sum[c] += v[c];
        }
    const float count = (float)((h1 - h0) * (w1 - w0));
    for (int64_t c = 0; c < width; c++) y[c] = sum[c] / count;
}

INLINE void avg_forward_loop(const pool_job *jb, int64_t begin, int64_t end) {
    const ck_pool2d_shape *s = jb->s;
    const int64_t C = s->channels, W = s->in_w;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / s->out_h, i = item % s->out_h;
        const float *image = jb->x + n * s->in_h * W * C;
        for (int64_t j = 0; j < s->out_w; j++) {
            int64_t h0, h1, w0, w1;
            pool_window(s, i, j, &h0, &h1, &w0, &w1);
            float *y = jb->y + ((item * s->out_w) + j) * C;
            switch (C) {
            case 16: avg_pixel(image, W, C, h0, h1, w0, w1, 16, y); continue;
            case 32: avg_pixel(image, W, C, h0, h1, w0, w1, 32, y); continue;
            case 64: avg_pixel(image, W, C, h0, h1, w0, w1, 64, y); continue;
            default: break;
            }
            for (int64_t c0 = 0; c0 < C; c0 += 64)
                avg_pixel(image + c0, W, C, h0, h1, w0, w1, CK_MIN(64, C - c0), y + c0);
        }
    }
}
POOL_DISPATCH(avg_forward, pool_job)

static int64_t pool_min_rows(const ck_pool2d_shape *s) {
    /* about 32 K input floats per thread at least */
    int64_t per_row = CK_MAX(s->out_w * s->pool_h * s->pool_w * s->channels, 1);
    return 32768 / per_row + 1;
}

void ck_maxpool2d_forward(const ck_pool2d_shape *s, const float *x, float *y, int32_t *argmax) {
    pool_job j = {.s = s, .x = x, .y = y, .argmax = argmax};
    ck_parallel_for(s->batch * s->out_h, pool_min_rows(s), max_forward_range, &j);
}

void ck_avgpool2d_forward(const ck_pool2d_shape *s, const float *x, float *y) {
    pool_job j = {.s = s, .x = x, .y = y};
    ck_parallel_for(s->batch * s->out_h, pool_min_rows(s), avg_forward_range, &j);
}

/* ---- backward: items are (image, channel block) pairs, disjoint in dx ---- */

/* Windows that tile the image (stride == pool) never overlap: every covered cell is written once,
 * by assignment, and only the uncovered border (a valid pooling's leftover rows and columns) is
 * zeroed. Overlapping windows zero the whole block and accumulate. */
INLINE int pool_tiles(const ck_pool2d_shape *s) {
    return s->stride_h == s->pool_h && s->stride_w == s->pool_w;
}

/* Zeroes channels [0, cb) of dx (one image, offset to its channel block) outside the windows:
 * everything when !tiles, else the cells outside rows [h0, h1) × columns [w0, w1). */
INLINE void pool_zero(const ck_pool2d_shape *s, float *dx, int64_t cb, int tiles) {
    const int64_t C = s->channels, H = s->in_h, W = s->in_w;
    const int64_t h0 = tiles ? CK_MAX(-(int64_t)s->pad_top, 0) : 0;
    const int64_t h1 = tiles ? CK_MIN(s->out_h * s->stride_h - s->pad_top, H) : 0;
    const int64_t w0 = tiles ? CK_MAX(-(int64_t)s->pad_left, 0) : 0;
    const int64_t w1 = tiles ? CK_MIN(s->out_w * s->stride_w - s->pad_left, W) : 0;
    for (int64_t h = 0; h < H; h++) {
        const int inside = h >= h0 && h < h1;
        for (int64_t w = 0; w < W; w++) {
            if (inside && w >= w0 && w < w1) {
                w = w1 - 1;
                continue;
            }
            float *d = dx + (h * W + w) * C;
            for (int64_t c = 0; c < cb; c++) d[c] = 0.0f;
        }
    }
}

/* Gather form of the scatter: each window adds dy to the cells whose index its argmax holds, as
 * a compare-and-select over the channel block, so the loop vectorises (a scatter by index would
 * not). */
INLINE void max_backward_image(const pool_job *jb, int64_t n, int64_t c0, int64_t cb, int tiles) {
    const ck_pool2d_shape *s = jb->s;
    const int64_t C = s->channels, W = s->in_w, HW = s->in_h * s->in_w;
    float *dx = jb->dx + n * HW * C + c0;
    pool_zero(s, dx, cb, tiles);
    for (int64_t i = 0; i < s->out_h; i++)
        for (int64_t j = 0; j < s->out_w; j++) {
            int64_t h0, h1, w0, w1;
            pool_window(s, i, j, &h0, &h1, &w0, &w1);
            const int64_t o = ((n * s->out_h + i) * s->out_w + j) * C + c0;
            const float *restrict dy = jb->dy + o;
            const int32_t *restrict idx = jb->argmax + o;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++) {
                    const int32_t cell = (int32_t)(h * W + w);
                    float *restrict d = dx + (h * W + w) * C;
                    if (tiles) {
                        for (int64_t c = 0; c < cb; c++) d[c] = idx[c] == cell ? dy[c] : 0.0f;
                    } else {
                        for (int64_t c = 0; c < cb; c++) d[c] += idx[c] == cell ? dy[c] : 0.0f;
                    }
                }
        }
}

INLINE void max_backward_loop(const pool_job *jb, int64_t begin, int64_t end) {
    const int tiles = pool_tiles(jb->s);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / jb->channel_blocks;
        const int64_t c0 = (item % jb->channel_blocks) * POOL_CHANNEL_BLOCK;
        const int64_t cb = CK_MIN(c0 + POOL_CHANNEL_BLOCK, jb->s->channels) - c0;
        if (tiles) max_backward_image(jb, n, c0, cb, 1);
        else max_backward_image(jb, n, c0, cb, 0);
    }
}
POOL_DISPATCH(max_backward, pool_job)

INLINE void avg_backward_image(const pool_job *jb, int64_t n, int64_t c0, int64_t cb, int tiles) {
    const ck_pool2d_shape *s = jb->s;
    const int64_t C = s->channels, W = s->in_w, HW = s->in_h * s->in_w;
    float share[POOL_CHANNEL_BLOCK];
    float *dx = jb->dx + n * HW * C + c0;
    pool_zero(s, dx, cb, tiles);
    for (int64_t i = 0; i < s->out_h; i++)
        for (int64_t j = 0; j < s->out_w; j++) {
            int64_t h0, h1, w0, w1;
            pool_window(s, i, j, &h0, &h1, &w0, &w1);
            const float count = (float)((h1 - h0) * (w1 - w0));
            const float *restrict dy = jb->dy + ((n * s->out_h + i) * s->out_w + j) * C + c0;
            for (int64_t c = 0; c < cb; c++) share[c] = dy[c] / count;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++) {
                    float *restrict d = dx + (h * W + w) * C;
                    if (tiles) {
                        for (int64_t c = 0; c < cb; c++) d[c] = share[c];
                    } else {
                        for (int64_t c = 0; c < cb; c++) d[c] += share[c];
                    }
                }
        }
}

INLINE void avg_backward_loop(const pool_job *jb, int64_t begin, int64_t end) {
    const int tiles = pool_tiles(jb->s);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / jb->channel_blocks;
        const int64_t c0 = (item % jb->channel_blocks) * POOL_CHANNEL_BLOCK;
        const int64_t cb = CK_MIN(c0 + POOL_CHANNEL_BLOCK, jb->s->channels) - c0;
        if (tiles) avg_backward_image(jb, n, c0, cb, 1);
        else avg_backward_image(jb, n, c0, cb, 0);
    }
}
POOL_DISPATCH(avg_backward, pool_job)

/* Tiling windows (stride == pool, padding smaller than the window), the layout of every
 * 2×2/2 pooling: each dx cell belongs to exactly one window and is written once, as
 * dy/count, straight from registers; no zeroing pass, no read of dx. Items are output rows
 * (n, i), which own dx rows i·sh − pt + [0, ph) (and the last one the uncovered rows below). The
 * quotient is computed once per window; when count is a power of two it is dy·(1/count), which
 * rounds exactly as dy/count (measured at C = 32, 2×2/2: 55% -> ~75% of a copy). */
INLINE void avg_share_window(const float *restrict dy, float *restrict dx, int64_t W, int64_t C,
                             int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t width) {
    float share[64];
    const int64_t cells = (h1 - h0) * (w1 - w0);
    const float count = (float)cells;
    if ((cells & (cells - 1)) == 0) {
        const float inv = 1.0f / count;
        for (int64_t c = 0; c < width; c++) share[c] = dy[c] * inv;
    } else {
        for (int64_t c = 0; c < width; c++) share[c] = dy[c] / count;
    }
    for (int64_t h = h0; h < h1; h++)
        for (int64_t w = w0; w < w1; w++) {
            float *restrict d = dx + (h * W + w) * C;
            for (int64_t c = 0; c < width; c++) d[c] = share[c];
        }
}

/* dx rows [h0, h1) of one image, columns [w0, W), all channels: zero. */
INLINE void pool_zero_cells(float *dx, int64_t W, int64_t C, int64_t h0, int64_t h1, int64_t w0) {
    for (int64_t h = h0; h < h1; h++) memset(dx + (h * W + w0) * C, 0, (size_t)((W - w0) * C) * sizeof(float));
}

INLINE void avg_backward_tiles_loop(const pool_job *jb, int64_t begin, int64_t end) {
    const ck_pool2d_shape *s = jb->s;
    const int64_t C = s->channels, H = s->in_h, W = s->in_w;
    const int64_t covered_h = CK_MIN(s->out_h * s->stride_h - s->pad_top, H);
    const int64_t covered_w = CK_MIN(s->out_w * s->stride_w - s->pad_left, W);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / s->out_h, i = item % s->out_h;
        float *image = jb->dx + n * H * W * C;
        const float *dyrow = jb->dy + item * s->out_w * C;
        int64_t h0 = 0, h1 = 0;
        for (int64_t j = 0; j < s->out_w; j++) {
            int64_t w0, w1;
            pool_window(s, i, j, &h0, &h1, &w0, &w1);
            const float *dy = dyrow + j * C;
            switch (C) {
            case 16: avg_share_window(dy, image, W, C, h0, h1, w0, w1, 16); continue;
            case 32: avg_share_window(dy, image, W, C, h0, h1, w0, w1, 32); continue;
            case 64: avg_share_window(dy, image, W, C, h0, h1, w0, w1, 64); continue;
            default: break;
            }
            for (int64_t c0 = 0; c0 < C; c0 += 64)
                avg_share_window(dy + c0, image + c0, W, C, h0, h1, w0, w1, CK_MIN(64, C - c0));
        }
        if (covered_w < W) pool_zero_cells(image, W, C, h0, h1, covered_w);
        if (i == s->out_h - 1 && covered_h < H) pool_zero_cells(image, W, C, covered_h, H, 0);
    }
}
POOL_DISPATCH(avg_backward_tiles, pool_job)

static void pool_backward(const ck_pool2d_shape *s, pool_job *j, ck_range_body body) {
    j->channel_blocks = (s->channels + POOL_CHANNEL_BLOCK - 1) / POOL_CHANNEL_BLOCK;
    int64_t work = CK_MAX(s->in_h * s->in_w * CK_MIN(s->channels, POOL_CHANNEL_BLOCK), 1);
    ck_parallel_for(s->batch * j->channel_blocks, 32768 / work + 1, body, j);
}

void ck_maxpool2d_backward(const ck_pool2d_shape *s, const float *dy, const int32_t *argmax,
                           float *dx) {
    pool_job j = {.s = s, .dy = dy, .dx = dx, .argmax = (int32_t *)argmax};
    pool_backward(s, &j, max_backward_range);
}

void ck_avgpool2d_backward(const ck_pool2d_shape *s, const float *dy, float *dx) {
    pool_job j = {.s = s, .dy = dy, .dx = dx};
    if (pool_tiles(s) && s->pad_top < s->pool_h && s->pad_left < s->pool_w && s->out_h > 0 &&
        s->out_w > 0) {
        ck_parallel_for(s->batch * s->out_h, pool_min_rows(s), avg_backward_tiles_range, &j);
        return;
    }
    pool_backward(s, &j, avg_backward_range);
}

/* ---- global pooling: x [N, HW, C] → y [N, C]; items are images ---- */

typedef struct {
    int64_t cells, channels;
    const float *x, *y, *dy;
    float *out;
} global_job;

/* One image's channel sums (or maxima), `width` channels from x: the accumulators are locals,
 * registers when width is a constant (C = 16, 32, 64: one to four AVX-512 vectors), added in
 * cell order as the reference does (the results agree exactly), and y is stored once. The old
 * loop kept them in y, a load-add-store per vector and cell: the same speed from L3, but 58%
 * of a copy on two threads, where each thread's share of the input comes from its L2. */
INLINE void global_reduce_image(const float *restrict x, int64_t HW, int64_t C, int64_t width,
                                int max, float *restrict y) {
    float acc[64];
    for (int64_t c = 0; c < width; c++) acc[c] = max ? -INFINITY : 0.0f;
    for (int64_t p = 0; p < HW; p++) {
        const float *restrict v = x + p * C;
        if (max)
            for (int64_t c = 0; c < width; c++) acc[c] = v[c] > acc[c] ? v[c] : acc[c];
        else
            for (int64_t c = 0; c < width; c++) acc[c] += v[c];
    }
    if (max)
        for (int64_t c = 0; c < width; c++) y[c] = acc[c];
    else
        for (int64_t c = 0; c < width; c++) y[c] = acc[c] / (float)HW;
}

INLINE void global_reduce_loop(const global_job *j, int64_t begin, int64_t end, int max) {
    const int64_t C = j->channels, HW = j->cells;
    for (int64_t n = begin; n < end; n++) {
        const float *x = j->x + n * HW * C;
        float *y = j->out + n * C;
        switch (C) {
        case 16: global_reduce_image(x, HW, C, 16, max, y); continue;
        case 32: global_reduce_image(x, HW, C, 32, max, y); continue;
        case 64: global_reduce_image(x, HW, C, 64, max, y); continue;
        default: break;
        }
        for (int64_t c0 = 0; c0 < C; c0 += 64)
            global_reduce_image(x + c0, HW, C, CK_MIN(64, C - c0), max, y + c0);
    }
}

INLINE void global_avg_forward_loop(const global_job *j, int64_t begin, int64_t end) {
    global_reduce_loop(j, begin, end, 0);
}
POOL_DISPATCH(global_avg_forward, global_job)

INLINE void global_max_forward_loop(const global_job *j, int64_t begin, int64_t end) {
    global_reduce_loop(j, begin, end, 1);
}
POOL_DISPATCH(global_max_forward, global_job)

/* dx = dy / HW broadcast over the cells (TF's mean gradient). Items are cells of all images
 * (n·HW + p), so the threads split the writes evenly whatever the batch; the quotient is
 * computed once per image a range touches, and the common channel counts store from registers
 * (measured at [128, 121, 64]: 69% -> ~90% of a copy on one thread).
 * A cell of C = 16, 32 or 64 floats that does not start on a 64-byte boundary (every cell then
 * starts h floats before one) is stored as the C floats from that boundary on, with the
 * quotients rotated by h (share[t] belongs to channel (t + h) mod C): whole-line stores, the
 * h floats before the boundary and the last cell's C − h stored one at a time, per image and
 * range (measured at
 * [128, 121, 64], dx 16 B off, in-process A/B: two threads 1.03-1.16x, 60% -> 65% of a copy;
 * one thread 1.00x. Storing all of it as aligned lines, the pseudo-cell across two images
 * included, measured 0.97x of this: its loop compiled worse). */
INLINE void global_share_cells(const float *restrict dy, float *restrict dx, int64_t cells,
                               int64_t C, float count, int64_t width, int64_t h) {
    float share[64];
    for (int64_t c = 0; c < width; c++) share[c] = dy[(c + h) % width] / count;
    for (int64_t p = 0; p < cells; p++)
        for (int64_t c = 0; c < width; c++) dx[p * C + c] = share[c];
}

/* Cells [0, cells) of one image, C ∈ {16, 32, 64} channels, dx of the first cell h floats
 * before a 64-byte boundary. */
INLINE void global_share_aligned(const float *restrict dy, float *restrict dx, int64_t cells,
                                 int64_t C, float count, int64_t h) {
    if (h == 0 || cells < 2) {
        global_share_cells(dy, dx, cells, C, count, C, 0);
        return;
    }
    global_share_cells(dy, dx + h, cells - 1, C, count, C, h);
    for (int64_t c = 0; c < h; c++) dx[c] = dy[c] / count;
    for (int64_t c = h; c < C; c++) dx[(cells - 1) * C + c] = dy[c] / count;
}

INLINE void global_avg_backward_loop(const global_job *j, int64_t begin, int64_t end) {
    const int64_t C = j->channels, HW = j->cells;
    const uintptr_t a = (uintptr_t)j->out;
    const int64_t h = (a & 3) == 0 ? (int64_t)(((64 - (a & 63)) & 63) / 4) : 0;
    for (int64_t q = begin; q < end;) {
        const int64_t n = q / HW, p0 = q % HW, cells = CK_MIN(HW - p0, end - q);
        const float *dy = j->dy + n * C;
        float *dx = j->out + q * C;
        switch (C) {
        case 16: global_share_aligned(dy, dx, cells, 16, (float)HW, h); break;
        case 32: global_share_aligned(dy, dx, cells, 32, (float)HW, h); break;
        case 64: global_share_aligned(dy, dx, cells, 64, (float)HW, h); break;
        default:
            for (int64_t c0 = 0; c0 < C; c0 += 64)
                global_share_cells(dy + c0, dx + c0, cells, C, (float)HW, CK_MIN(64, C - c0), 0);
            break;
        }
        q += cells;
    }
}
POOL_DISPATCH(global_avg_backward, global_job)

/* TF's reduce_max gradient: dy shared equally by every cell equal to the maximum. */
INLINE void global_max_backward_loop(const global_job *j, int64_t begin, int64_t end) {
    const int64_t C = j->channels, HW = j->cells;
    float ties[POOL_CHANNEL_BLOCK];
    for (int64_t n = begin; n < end; n++) {
        const float *x = j->x + n * HW * C, *y = j->y + n * C, *dy = j->dy + n * C;
        float *dx = j->out + n * HW * C;
        for (int64_t c0 = 0; c0 < C; c0 += POOL_CHANNEL_BLOCK) {
            const int64_t cb = CK_MIN(POOL_CHANNEL_BLOCK, C - c0);
            for (int64_t c = 0; c < cb; c++) ties[c] = 0.0f;
            for (int64_t p = 0; p < HW; p++)
                for (int64_t c = 0; c < cb; c++)
                    ties[c] += x[p * C + c0 + c] == y[c0 + c] ? 1.0f : 0.0f;
            for (int64_t c = 0; c < cb; c++) ties[c] = dy[c0 + c] / ties[c];
            for (int64_t p = 0; p < HW; p++)
                for (int64_t c = 0; c < cb; c++)
                    dx[p * C + c0 + c] = x[p * C + c0 + c] == y[c0 + c] ? ties[c] : 0.0f;
        }
    }
}
POOL_DISPATCH(global_max_backward, global_job)

static int64_t global_min_images(int64_t cells, int64_t channels) {
    return 32768 / CK_MAX(cells * channels, 1) + 1;
}

void ck_global_avgpool2d_forward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                 float *y) {
    global_job j = {cells, channels, x, NULL, NULL, y};
    ck_parallel_for(batch, global_min_images(cells, channels), global_avg_forward_range, &j);
}

void ck_global_maxpool2d_forward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                 float *y) {
    global_job j = {cells, channels, x, NULL, NULL, y};
    ck_parallel_for(batch, global_min_images(cells, channels), global_max_forward_range, &j);
}

void ck_global_avgpool2d_backward(int64_t batch, int64_t cells, int64_t channels,
                                  const float *dy, float *dx) {
    global_job j = {cells, channels, NULL, NULL, dy, dx};
    ck_parallel_for(batch * cells, 32768 / CK_MAX(channels, 1) + 1, global_avg_backward_range, &j);
}

void ck_global_maxpool2d_backward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                  const float *y, const float *dy, float *dx) {
    global_job j = {cells, channels, x, y, dy, dx};
    ck_parallel_for(batch, global_min_images(cells, channels), global_max_backward_range, &j);
}

/* ---- references: one output element at a time ---- */

void ck_maxpool2d_forward_reference(const ck_pool2d_shape *s, const float *x, float *y,
                                    int32_t *argmax) {
    const int64_t C = s->channels;
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t i = 0; i < s->out_h; i++)
            for (int64_t j = 0; j < s->out_w; j++)
                for (int64_t c = 0; c < C; c++) {
                    float best = -INFINITY;
                    int32_t where = -1;
                    for (int a = 0; a < s->pool_h; a++)
                        for (int b = 0; b < s->pool_w; b++) {
                            int64_t h = i * s->stride_h + a - s->pad_top;
                            int64_t w = j * s->stride_w + b - s->pad_left;
                            if (h < 0 || h >= s->in_h || w < 0 || w >= s->in_w) continue;
                            float v = x[((n * s->in_h + h) * s->in_w + w) * C + c];
                            if (where < 0 || v > best) {
                                best = v;
                                where = (int32_t)(h * s->in_w + w);
                            }
                        }
                    int64_t o = ((n * s->out_h + i) * s->out_w + j) * C + c;
                    y[o] = best;
                    if (argmax) argmax[o] = where;
                }
}

void ck_avgpool2d_forward_reference(const ck_pool2d_shape *s, const float *x, float *y) {
    const int64_t C = s->channels;
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t i = 0; i < s->out_h; i++)
            for (int64_t j = 0; j < s->out_w; j++)
                for (int64_t c = 0; c < C; c++) {
                    float sum = 0.0f;
                    int count = 0;
                    for (int a = 0; a < s->pool_h; a++)
                        for (int b = 0; b < s->pool_w; b++) {
                            int64_t h = i * s->stride_h + a - s->pad_top;
                            int64_t w = j * s->stride_w + b - s->pad_left;
                            if (h < 0 || h >= s->in_h || w < 0 || w >= s->in_w) continue;
                            sum += x[((n * s->in_h + h) * s->in_w + w) * C + c];
                            count++;
                        }
                    y[((n * s->out_h + i) * s->out_w + j) * C + c] = sum / (float)count;
                }
}

void ck_maxpool2d_backward_reference(const ck_pool2d_shape *s, const float *dy,
                                     const int32_t *argmax, float *dx) {
    const int64_t C = s->channels, HW = s->in_h * s->in_w, P = s->out_h * s->out_w;
    memset(dx, 0, (size_t)(s->batch * HW * C) * sizeof(float));
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++) {
                int64_t o = (n * P + p) * C + c;
                dx[(n * HW + argmax[o]) * C + c] += dy[o];
            }
}

void ck_avgpool2d_backward_reference(const ck_pool2d_shape *s, const float *dy, float *dx) {
    const int64_t C = s->channels;
    memset(dx, 0, (size_t)(s->batch * s->in_h * s->in_w * C) * sizeof(float));
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t i = 0; i < s->out_h; i++)
            for (int64_t j = 0; j < s->out_w; j++) {
                int count = 0;
                for (int a = 0; a < s->pool_h; a++)
                    for (int b = 0; b < s->pool_w; b++) {
                        int64_t h = i * s->stride_h + a - s->pad_top;
                        int64_t w = j * s->stride_w + b - s->pad_left;
                        count += h >= 0 && h < s->in_h && w >= 0 && w < s->in_w;
                    }
                for (int a = 0; a < s->pool_h; a++)
                    for (int b = 0; b < s->pool_w; b++) {
                        int64_t h = i * s->stride_h + a - s->pad_top;
                        int64_t w = j * s->stride_w + b - s->pad_left;
                        if (h < 0 || h >= s->in_h || w < 0 || w >= s->in_w) continue;
                        for (int64_t c = 0; c < C; c++)
                            dx[((n * s->in_h + h) * s->in_w + w) * C + c] +=
                                dy[((n * s->out_h + i) * s->out_w + j) * C + c] / (float)count;
                    }
            }
}
