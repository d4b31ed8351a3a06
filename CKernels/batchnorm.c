/*
 * batchnorm.c — batch normalization over the last (channel) axis, x viewed as [rows, C], the
 * channels-last layout of every Keras BatchNormalization(axis=-1) (rows = N·H·W for images).
 *
 * Forward in training (PyTorch's channels-last scheme, TF's arithmetic):
 *   pass 1: per-thread partial sums of d = x − k and d², k = the batch's first row (shifted
 *           data): mean = k + E[d] and the BIASED variance E[d²] − E[d]², the one Keras both
 *           normalises with and feeds the moving average. Keras itself computes
 *           E[x²] − E[x]²; the shift keeps the cancellation small (k is a sample of the
 *           channel, so E[d]² is of the order of the variance) and saves the second read of x
 *           that a two-pass Σ(x − mean)² would cost (measured: 44% → ~60% of a copy's bandwidth);
 *   pass 2: y = x·inv + (beta − mean·inv) with inv = rsqrt(var + eps)·gamma (tf.nn.
 *           batch_normalization's order of operations), optionally max(·, 0).
 * The partial sums are float vectors over C, flushed into double every BN_FLUSH_ROWS rows, so
 * the statistics of a 10⁵-row batch keep float's precision without slowing the vector loop.
 *
 * Backward (one pass of reductions, one element-wise pass), with x̂ = (x − mean)·rstd:
 *   dbeta = Σ dy,  dgamma = Σ dy·x̂,
 *   training:  dx = gamma·rstd · (dy − dbeta/rows − x̂·dgamma/rows)
 *   inference: dx = dy·gamma·rstd  (the moving statistics are constants)
 * With the fused ReLU, dy is first masked by y > 0.
 *
 * Speed: each pass streams from L3 at the core's rate (~29 GB/s here, the same for reads,
 * writes and a copy's bytes), so forward training moves 3 tensors against the 2 a copy of x to
 * y moves (at most ~67% of a copy's rate), backward 5 against 3 (~60%), plus what the L2 keeps
 * between the passes: the element-wise pass starts with the rows the reduction read last
 * (bn_second_pass_thread). Measured: plain sums, prefetching 1-32 KiB ahead and prefetcht1 do
 * not read faster than the reduction does. Rows whose start is not 64-byte aligned (C a
 * multiple of 16) are processed realigned: see bn_shift.
 *
 * Loops are written once and compiled per ISA (as optimizer.c) with contraction off, so every
 * path rounds as the reference does, up to the order of the partial sums.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))
#define BN_FLUSH_ROWS 128
#define BN_MAX_THREADS 64
#define BN_MIN_ELEMENTS 16384
#ifndef BN_HOT_BYTES
#define BN_HOT_BYTES (2 << 20) /* the L2 of a core; see bn_second_pass_thread */
#endif

typedef struct bn_job {
    int64_t rows, channels;
    const float *x, *dy, *y_relu; /* y_relu: forward output when the ReLU was fused, else NULL */
    const float *mean, *scale, *shift; /* per channel: mean; y = x·scale + shift */
    float *y, *dx;
    int nthreads;     /* of the reduction; the second pass uses the same split */
    double *partials; /* [threads][2·C] */
    float *scratch;   /* [threads][2·C]: the float block sums */
    int relu, pass;
    const float *k1, *k2; /* backward: dx = scale·dy − k1 − x̂·k2 ... see below */
    const float *rstd;
    /* The same job over 64-byte-aligned rows (see bn_shift), or NULL: its pointers are h floats
     * further and its per-channel arrays rotated by h. */
    struct bn_job *view;
    int64_t offset; /* h, in a view */
} bn_job;

/* Rows of C floats, C a multiple of 16, all start at the same offset from a 64-byte boundary.
 * When it is not 0 (a view into a tensor; malloc's 16-byte alignment) every vector of a row
 * straddles two cache lines (measured at [86528, 32], rows 16 B off, one thread: 62% -> 67% of
 * a copy forward in training, 56.5% -> 61% backward, when realigned). The vector loops then
 * run over rows shifted by h floats to the boundary, flat [r·C + h, (r + 1)·C + h), whose
 * channel t is (t + h) mod C, with the per-channel arrays rotated by h; the h floats before
 * the first shifted row and the C − h after the last are done one at a time (bn_edge_*).
 * Returns h, or 0 when no shift applies. */
static int64_t bn_shift(const float *p, int64_t C, int64_t rows) {
    const uintptr_t a = (uintptr_t)p;
    if (C % 16 != 0 || (a & 3) != 0 || rows < 2) return 0;
    return (int64_t)(((64 - (a & 63)) & 63) / 4);
}

/* dst[t] = (*array)[(t + h) mod C], then *array = dst (a NULL array stays NULL); returns the
 * next free slot of dst. */
static float *bn_rotate(const float **array, int64_t C, int64_t h, float *dst) {
    if (!*array) return dst;
    for (int64_t t = 0; t < C; t++) dst[t] = (*array)[(t + h) % C];
    *array = dst;
    return dst + C;
}

/* Makes *v j's view shifted by h floats (j->view = v), or sets j->view = NULL when h == 0. The
 * view's mean is rotated into rot, and with `constants` also scale, shift, k1 and k2 (those
 * set): rot holds 5·C floats. */
static void bn_make_view(bn_job *j, bn_job *v, int64_t h, int constants, float *rot) {
    j->view = NULL;
    if (h == 0) return;
    const int64_t C = j->channels;
    *v = *j;
    v->offset = h;
    v->x = j->x + h;
    if (j->dy) v->dy = j->dy + h;
    if (j->y_relu) v->y_relu = j->y_relu + h;
    if (j->y) v->y = j->y + h;
    if (j->dx) v->dx = j->dx + h;
    rot = bn_rotate(&v->mean, C, h, rot);
    if (constants) {
        rot = bn_rotate(&v->scale, C, h, rot);
        rot = bn_rotate(&v->shift, C, h, rot);
        rot = bn_rotate(&v->k1, C, h, rot);
        rot = bn_rotate(&v->k2, C, h, rot);
    }
    j->view = v;
}

/* The reductions, one flush block of rows at a time: channels in groups of BN_GROUP whose float
 * accumulators stay in registers (two per group, alternating rows, so the adds do not wait on
 * each other), the block's rows re-read from L1 for each group; the group sums then go to the
 * thread's double accumulators. Channels past the last full group use s0/s1 in memory.
 *   pass 0: Σd, Σd² with d = x − k, k = the batch's first row (j->mean points at it);
 *   pass 2: Σdy', Σdy'·(x − mean)  (dy' = dy masked by y > 0 when the ReLU was fused: pass 3). */
#define BN_GROUP 64 /* the widest group: 4 AVX-512 vectors per accumulator */

/* relu is a compile-time constant at every use: the mask costs nothing when unused. */
INLINE float bn_grad(const bn_job *j, int64_t i, int relu) {
    return relu ? (j->y_relu[i] > 0.0f ? j->dy[i] : 0.0f) : j->dy[i];
}

INLINE void bn_group_sums(const bn_job *j, int pass, int64_t r0, int64_t r1, int64_t c0,
                          double *acc, const int width) {
    const int64_t C = j->channels;
    const float *restrict x = j->x;
    float m[BN_GROUP], a0[BN_GROUP], a1[BN_GROUP], b0[BN_GROUP], b1[BN_GROUP];
    for (int c = 0; c < width; c++) {
        m[c] = j->mean[c0 + c];
        a0[c] = a1[c] = b0[c] = b1[c] = 0.0f;
    }
    int64_t r = r0;
    for (; r + 1 < r1; r += 2) {
        const int64_t i = r * C + c0, k = i + C;
        for (int c = 0; c < width; c++) {
            if (pass == 0) {
                const float d0 = x[i + c] - m[c], d1 = x[k + c] - m[c];
                a0[c] += d0;
                a1[c] += d1;
                b0[c] += d0 * d0;
                b1[c] += d1 * d1;
            } else {
                const float g0 = bn_grad(j, i + c, pass == 3), g1 = bn_grad(j, k + c, pass == 3);
                a0[c] += g0;
                a1[c] += g1;
                b0[c] += g0 * (x[i + c] - m[c]);
                b1[c] += g1 * (x[k + c] - m[c]);
            }
        }
    }
    if (r < r1) {
        const int64_t i = r * C + c0;
        for (int c = 0; c < width; c++) {
            if (pass == 0) {
                const float d = x[i + c] - m[c];
                a0[c] += d;
                b0[c] += d * d;
            } else {
                const float g = bn_grad(j, i + c, pass == 3);
                a0[c] += g;
                b0[c] += g * (x[i + c] - m[c]);
            }
        }
    }
    for (int c = 0; c < width; c++) {
        acc[c0 + c] += (double)(a0[c] + a1[c]);
        acc[C + c0 + c] += (double)(b0[c] + b1[c]);
    }
}

INLINE void bn_tail_sums(const bn_job *j, int pass, int64_t r0, int64_t r1, int64_t c0,
                         double *acc, float *restrict s0, float *restrict s1) {
    const int64_t C = j->channels;
    for (int64_t c = c0; c < C; c++) s0[c] = s1[c] = 0.0f;
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict x = j->x + r * C;
        for (int64_t c = c0; c < C; c++) {
            if (pass == 0) {
                const float d = x[c] - j->mean[c];
                s0[c] += d;
                s1[c] += d * d;
            } else {
                const float g = bn_grad(j, r * C + c, pass == 3);
                s0[c] += g;
                s1[c] += g * (x[c] - j->mean[c]);
            }
        }
    }
    for (int64_t c = c0; c < C; c++) {
        acc[c] += s0[c];
        acc[C + c] += s1[c];
    }
}

INLINE void bn_sums_pass(const bn_job *j, int pass, int64_t begin, int64_t end, double *acc,
                         float *s0, float *s1) {
    /* Groups of 64 channels, then one of 48, 32 or 16: constant widths, so each group's
     * accumulators are registers and every row is read once, front to back. */
    const int64_t C = j->channels, full = C - C % 16;
    for (int64_t r0 = begin; r0 < end; r0 += BN_FLUSH_ROWS) {
        const int64_t r1 = CK_MIN(r0 + BN_FLUSH_ROWS, end);
        int64_t c0 = 0;
        for (; c0 + 64 <= full; c0 += 64) bn_group_sums(j, pass, r0, r1, c0, acc, 64);
        switch (full - c0) {
        case 48: bn_group_sums(j, pass, r0, r1, c0, acc, 48); break;
        case 32: bn_group_sums(j, pass, r0, r1, c0, acc, 32); break;
        case 16: bn_group_sums(j, pass, r0, r1, c0, acc, 16); break;
        default: break;
        }
        if (full < C) bn_tail_sums(j, pass, r0, r1, full, acc, s0, s1);
    }
}

INLINE void bn_sums_loop(const bn_job *j, int64_t begin, int64_t end, double *acc,
                         float *restrict s0, float *restrict s1) {
    switch (j->pass) {
    case 0: bn_sums_pass(j, 0, begin, end, acc, s0, s1); break;
    default:
        if (j->y_relu) bn_sums_pass(j, 3, begin, end, acc, s0, s1);
        else bn_sums_pass(j, 2, begin, end, acc, s0, s1);
        break;
    }
}

/* y = x·scale + shift (then max(·, 0) with the fused ReLU) over rows [begin, end); `width` is C,
 * a compile-time constant for the common channel counts so that scale and shift stay in
 * registers. */
INLINE void bn_apply_rows(const bn_job *j, int64_t begin, int64_t end, const int64_t width) {
    const int64_t C = width;
    float scale[BN_GROUP], shift[BN_GROUP];
    const float *sc = j->scale, *sh = j->shift;
    if (C <= BN_GROUP) {
        for (int64_t c = 0; c < C; c++) scale[c] = j->scale[c], shift[c] = j->shift[c];
        sc = scale;
        sh = shift;
    }
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = j->x + r * C;
        float *restrict y = j->y + r * C;
        if (j->relu) {
            for (int64_t c = 0; c < C; c++) {
                float v = x[c] * sc[c] + sh[c];
                y[c] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (int64_t c = 0; c < C; c++) y[c] = x[c] * sc[c] + sh[c];
        }
    }
}

INLINE void bn_apply_loop(const bn_job *j, int64_t begin, int64_t end) {
    switch (j->channels) {
    case 16: bn_apply_rows(j, begin, end, 16); break;
    case 32: bn_apply_rows(j, begin, end, 32); break;
    case 64: bn_apply_rows(j, begin, end, 64); break;
    default: bn_apply_rows(j, begin, end, j->channels); break;
    }
}

/* dx = dy'·scale − k1 − (x − mean)·k2, with k1 = scale·Σdy'/rows and
 * k2 = scale·rstd²·Σdy'(x − mean)/rows in training, k1 = k2 = 0 in inference. */
INLINE void bn_backward_rows(const bn_job *j, int64_t begin, int64_t end, const int64_t width) {
    const int64_t C = width;
    float scale[BN_GROUP], k1[BN_GROUP], k2[BN_GROUP], mean[BN_GROUP];
    const float *sc = j->scale, *q1 = j->k1, *q2 = j->k2, *m = j->mean;
    if (C <= BN_GROUP) {
        for (int64_t c = 0; c < C; c++)
            scale[c] = j->scale[c], k1[c] = j->k1[c], k2[c] = j->k2[c], mean[c] = j->mean[c];
        sc = scale, q1 = k1, q2 = k2, m = mean;
    }
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = j->x + r * C, *restrict dy = j->dy + r * C;
        float *restrict dx = j->dx + r * C;
        if (j->y_relu) {
            const float *restrict yr = j->y_relu + r * C;
            for (int64_t c = 0; c < C; c++) {
                float g = yr[c] > 0.0f ? dy[c] : 0.0f;
                dx[c] = g * sc[c] - q1[c] - (x[c] - m[c]) * q2[c];
            }
        } else {
            for (int64_t c = 0; c < C; c++)
                dx[c] = dy[c] * sc[c] - q1[c] - (x[c] - m[c]) * q2[c];
        }
    }
}

INLINE void bn_backward_apply_loop(const bn_job *j, int64_t begin, int64_t end) {
    switch (j->channels) {
    case 16: bn_backward_rows(j, begin, end, 16); break;
    case 32: bn_backward_rows(j, begin, end, 32); break;
    case 64: bn_backward_rows(j, begin, end, 64); break;
    default: bn_backward_rows(j, begin, end, j->channels); break;
    }
}

#define BN_SUMS_ARGS const bn_job *j, int64_t b, int64_t e, double *acc, float *s0, float *s1
static void bn_sums_generic(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }
CK_TARGET_AVX2 static void bn_sums_avx2(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }
CK_TARGET_AVX512 static void bn_sums_avx512(BN_SUMS_ARGS) { bn_sums_loop(j, b, e, acc, s0, s1); }

static void bn_sums_isa(BN_SUMS_ARGS) {
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: bn_sums_avx512(j, b, e, acc, s0, s1); break;
    case CK_ISA_AVX2: bn_sums_avx2(j, b, e, acc, s0, s1); break;
    default: bn_sums_generic(j, b, e, acc, s0, s1); break;
    }
}

/* The reductions' terms of row r, channels [c0, c1), one at a time (the edges of a view). */
static void bn_edge_sums(const bn_job *j, int64_t r, int64_t c0, int64_t c1, double *acc) {
    const int64_t C = j->channels;
    for (int64_t c = c0; c < c1; c++) {
        const int64_t i = r * C + c;
        const float xc = j->x[i] - j->mean[c];
        const float g = j->pass == 0 ? xc : j->y_relu ? bn_grad(j, i, 1) : bn_grad(j, i, 0);
        acc[c] += (double)g;
        acc[C + c] += (double)(g * xc);
    }
}

static void bn_sums_thread(void *ctx, int thread, int nthreads) {
    const bn_job *j = ctx;
    int64_t begin, end;
    ck_split_range(j->rows, nthreads, thread, 1, &begin, &end);
    double *acc = j->partials + (int64_t)thread * 4 * j->channels; /* and a view's [2·C] */
    memset(acc, 0, (size_t)(2 * j->channels) * sizeof(double));
    float *s0 = j->scratch + (int64_t)thread * 2 * j->channels, *s1 = s0 + j->channels;
    const bn_job *v = j->view;
    if (v && end - begin >= 2) {
        /* shifted rows [begin, end − 1) into vacc in rotated order, then the two edges */
        const int64_t C = j->channels, h = v->offset;
        double *vacc = acc + 2 * C;
        memset(vacc, 0, (size_t)(2 * C) * sizeof(double));
        bn_sums_isa(v, begin, end - 1, vacc, s0, s1);
        for (int64_t t = 0; t < C; t++) {
            acc[(t + h) % C] += vacc[t];
            acc[C + (t + h) % C] += vacc[C + t];
        }
        bn_edge_sums(j, begin, 0, h, acc);
        bn_edge_sums(j, end - 1, h, C, acc);
    } else {
        bn_sums_isa(j, begin, end, acc, s0, s1);
    }
}

#define BN_RANGE(name)                                                                           \
    static void name##_generic(const bn_job *j, int64_t b, int64_t e) { name##_loop(j, b, e); }   \
    CK_TARGET_AVX2 static void name##_avx2(const bn_job *j, int64_t b, int64_t e) {              \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    CK_TARGET_AVX512 static void name##_avx512(const bn_job *j, int64_t b, int64_t e) {          \
        name##_loop(j, b, e);                                                                    \
    }                                                                                            \
    static void name##_range(void *ctx, int64_t b, int64_t e) {                                  \
        switch (ck_isa_active()) {                                                               \
        case CK_ISA_AVX512: name##_avx512(ctx, b, e); break;                                     \
        case CK_ISA_AVX2: name##_avx2(ctx, b, e); break;                                         \
        default: name##_generic(ctx, b, e); break;                                               \
        }                                                                                        \
    }
BN_RANGE(bn_apply)
BN_RANGE(bn_backward_apply)

/* y (or dx) of row r, channels [c0, c1), one at a time: bn_apply_rows's and bn_backward_rows's
 * arithmetic, for the edges of a view. */
static void bn_edge_apply(const bn_job *j, int64_t r, int64_t c0, int64_t c1) {
    const int64_t C = j->channels;
    for (int64_t c = c0; c < c1; c++) {
        const int64_t i = r * C + c;
        if (j->dx) {
            const float g = j->y_relu ? bn_grad(j, i, 1) : bn_grad(j, i, 0);
            j->dx[i] = g * j->scale[c] - j->k1[c] - (j->x[i] - j->mean[c]) * j->k2[c];
        } else {
            const float v = j->x[i] * j->scale[c] + j->shift[c];
            j->y[i] = j->relu && !(v > 0.0f) ? 0.0f : v;
        }
    }
}

static void bn_elementwise_rows(const bn_job *j, int64_t begin, int64_t end) {
    if (j->dx) bn_backward_apply_range((void *)j, begin, end);
    else bn_apply_range((void *)j, begin, end);
}

/* The element-wise pass over rows [begin, end), through the aligned view when there is one. */
static void bn_elementwise(const bn_job *j, int64_t begin, int64_t end) {
    const bn_job *v = j->view;
    if (v && end - begin >= 2) {
        bn_elementwise_rows(v, begin, end - 1);
        bn_edge_apply(j, begin, 0, v->offset);
        bn_edge_apply(j, end - 1, v->offset, j->channels);
    } else {
        bn_elementwise_rows(j, begin, end);
    }
}

static void bn_elementwise_range(void *ctx, int64_t begin, int64_t end) {
    bn_elementwise(ctx, begin, end);
}

/* The element-wise pass of a training step, over the rows the same thread reduced (the same
 * split as bn_sums_thread), starting with its last rows, the ones whose inputs the reduction
 * left in this core's L2, then the rest from the first. The hot rows are as many as the L2
 * holds with their outputs (BN_HOT_BYTES over the reduction's reads plus the written bytes of
 * a row; 1 MB of the reads alone measured the same forward, 0.2-1.5% slower backward, and
 * 1.5 MB of reads 0.7% slower forward: the outputs written evict inputs not yet reread).
 * Running the whole pass last row first, in 32 KiB blocks, measured 0.97-0.99x on one thread
 * (and no gain before either, 55-57% of a copy): going backwards costs more than the reuse
 * brings; one jump costs nothing. The gain is bounded by L2 / the thread's bytes: ~1-3% on one
 * thread at [86528, 32], more on two, where each thread moves half. */
static void bn_second_pass_thread(void *ctx, int thread, int nthreads) {
    const bn_job *j = ctx;
    int64_t begin, end;
    ck_split_range(j->rows, nthreads, thread, 1, &begin, &end);
    /* per row: the reduction's reads (x; x, dy and y_relu) and the output */
    const int64_t bytes = (j->dx ? 3 + (j->y_relu != NULL) : 2) * j->channels * 4;
    const int64_t hot = CK_MIN(end - begin, BN_HOT_BYTES / CK_MAX(bytes, 1));
    bn_elementwise(j, end - hot, end);
    bn_elementwise(j, begin, end - hot);
}

static int bn_threads(int64_t rows, int64_t channels) {
    int64_t useful = rows * channels / BN_MIN_ELEMENTS;
    return (int)CK_MAX(1, CK_MIN(CK_MIN((int64_t)ck_num_threads(), useful), BN_MAX_THREADS));
}

static int64_t bn_min_rows(int64_t channels) { return BN_MIN_ELEMENTS / CK_MAX(channels, 1) + 1; }

/* The calling thread's buffers, kept between calls so that a warm training step allocates
 * nothing: the per-channel constants of a call, its double sums, and a reduction's per-thread
 * partials (doubles, counted in floats) and scratch. */
static _Thread_local ck_scratch bn_constants_buffer, bn_sums_buffer, bn_partials_buffer, bn_reduce_buffer;

/* Runs one reduction pass and sums the threads' partials (in thread order) into out[2·C]. */
static int bn_reduce(bn_job *j, int pass, double *out) {
    const int64_t C = j->channels;
    const int nthreads = bn_threads(j->rows, C);
    double *partials = (double *)ck_scratch_reserve(&bn_partials_buffer, (size_t)(nthreads * 4 * C) * 2);
    float *scratch = ck_scratch_reserve(&bn_reduce_buffer, (size_t)(nthreads * 2 * C));
    if (!partials || !scratch) return -1;
    j->partials = partials;
    j->scratch = scratch;
    j->nthreads = nthreads;
    j->pass = pass;
    if (j->view) j->view->pass = pass;
    ck_parallel_run(nthreads, bn_sums_thread, j);
    memset(out, 0, (size_t)(2 * C) * sizeof(double));
    for (int t = 0; t < nthreads; t++)
        for (int64_t c = 0; c < 2 * C; c++) out[c] += partials[(int64_t)t * 4 * C + c];
    return 0;
}

/* Channel c's normalization as an affine map, TF's order of operations:
 * scale = rsqrt(var + eps)·gamma, shift = beta − mean·scale (gamma, beta may be NULL: 1, 0).
 * Training's second pass, inference and the fold into a convolution all take it from here, so
 * the three use the very same constants. */
typedef struct {
    float scale, shift;
} bn_affine;

static inline bn_affine bn_channel_affine(int64_t c, const float *mean, const float *variance,
                                          const float *gamma, const float *beta, float epsilon) {
    float inv = 1.0f / sqrtf(variance[c] + epsilon);
    if (gamma) inv = inv * gamma[c];
    return (bn_affine){inv, (beta ? beta[c] : 0.0f) - mean[c] * inv};
}

void ck_batchnorm_forward_training(int64_t rows, int64_t channels, const float *x,
                                   const float *gamma, const float *beta, float epsilon, int relu,
                                   float *y, float *mean, float *variance) {
    const int64_t C = channels;
    if (C == 0) return;
    double *sums = (double *)ck_scratch_reserve(&bn_sums_buffer, (size_t)(2 * C) * 2);
    float *scale = ck_scratch_reserve(&bn_constants_buffer, (size_t)(7 * C));
    if (!sums || !scale) return;
    float *shift = scale + C, *rot = scale + 2 * C;
    bn_job j = {.rows = rows, .channels = C, .x = x, .mean = x, .y = y, .relu = relu,
                .scale = scale, .shift = shift}, view;
    bn_make_view(&j, &view, bn_shift(x, C, rows), 0, rot);
    if (rows == 0) {
        for (int64_t c = 0; c < C; c++) mean[c] = variance[c] = __builtin_nanf("");
    } else if (bn_reduce(&j, 0, sums) == 0) {
        /* mean = k + E[d], var = E[d²] − E[d]² (biased), in double */
        for (int64_t c = 0; c < C; c++) {
            const double dm = sums[c] / (double)rows;
            const double v = sums[C + c] / (double)rows - dm * dm;
            mean[c] = (float)((double)x[c] + dm);
            variance[c] = (float)(v > 0.0 ? v : 0.0);
        }
        for (int64_t c = 0; c < C; c++) {
            const bn_affine a = bn_channel_affine(c, mean, variance, gamma, beta, epsilon);
            scale[c] = a.scale;
            shift[c] = a.shift;
        }
        j.mean = mean;
        bn_make_view(&j, &view, bn_shift(y, C, rows), 1, rot);
        ck_parallel_run(j.nthreads, bn_second_pass_thread, &j);
    }
}

void ck_batchnorm_forward_inference(int64_t rows, int64_t channels, const float *x,
                                    const float *gamma, const float *beta,
                                    const float *moving_mean, const float *moving_variance,
                                    float epsilon, int relu, float *y) {
    const int64_t C = channels;
    if (C == 0) return;
    float *scale = ck_scratch_reserve(&bn_constants_buffer, (size_t)(7 * C));
    if (!scale) return;
    float *shift = scale + C;
    for (int64_t c = 0; c < C; c++) {
        const bn_affine a = bn_channel_affine(c, moving_mean, moving_variance, gamma, beta, epsilon);
        scale[c] = a.scale;
        shift[c] = a.shift;
    }
    bn_job j = {.rows = rows, .channels = C, .x = x, .y = y, .relu = relu, .scale = scale,
                .shift = shift}, view;
    bn_make_view(&j, &view, bn_shift(y, C, rows), 1, scale + 2 * C);
    ck_parallel_for(rows, bn_min_rows(C), bn_elementwise_range, &j);
}

/* The inference map's scale and shift (bn_channel_affine), applied to a kernel's columns
 * once instead of to every output row. A convolution's kernel is a few thousand floats, so
 * plain loops do. */
void ck_batchnorm_fold(int64_t rows, int64_t channels, const float *kernel, const float *bias,
                       const float *gamma, const float *beta, const float *moving_mean,
                       const float *moving_variance, float epsilon, float *kernel_out,
                       float *bias_out) {
    for (int64_t c = 0; c < channels; c++) {
        const bn_affine a = bn_channel_affine(c, moving_mean, moving_variance, gamma, beta, epsilon);
        bias_out[c] = (bias ? bias[c] * a.scale : 0.0f) + a.shift;
        for (int64_t r = 0; r < rows; r++)
            kernel_out[r * channels + c] = kernel[r * channels + c] * a.scale;
    }
}

void ck_batchnorm_backward(int64_t rows, int64_t channels, const float *x, const float *dy,
                           const float *y_relu, const float *mean, const float *variance,
                           const float *gamma, float epsilon, int training, float *dx,
                           float *dgamma, float *dbeta) {
    const int64_t C = channels;
    if (C == 0) return;
    double *sums = (double *)ck_scratch_reserve(&bn_sums_buffer, (size_t)(2 * C) * 2);
    float *buf = ck_scratch_reserve(&bn_constants_buffer, (size_t)(9 * C));
    if (!sums || !buf) return;
    float *scale = buf, *k1 = buf + C, *k2 = buf + 2 * C, *rstd = buf + 3 * C;
    bn_job j = {.rows = rows, .channels = C, .x = x, .dy = dy, .y_relu = y_relu, .mean = mean,
                .dx = dx, .scale = scale, .k1 = k1, .k2 = k2, .rstd = rstd}, view;
    bn_make_view(&j, &view, bn_shift(x, C, rows), 0, buf + 4 * C);
    if (bn_reduce(&j, 2, sums) == 0) {
        for (int64_t c = 0; c < C; c++) {
            rstd[c] = 1.0f / sqrtf(variance[c] + epsilon);
            const float g = gamma ? gamma[c] : 1.0f;
            const float sum_dy = (float)sums[c], sum_dy_xc = (float)sums[C + c];
            if (dbeta) dbeta[c] = sum_dy;
            if (dgamma) dgamma[c] = sum_dy_xc * rstd[c];
            scale[c] = g * rstd[c];
            if (training && rows > 0) {
                k1[c] = scale[c] * sum_dy / (float)rows;
                k2[c] = scale[c] * rstd[c] * rstd[c] * sum_dy_xc / (float)rows;
            } else {
                k1[c] = 0.0f;
                k2[c] = 0.0f;
            }
        }
        if (dx) {
            bn_make_view(&j, &view, bn_shift(dx, C, rows), 1, buf + 4 * C);
            ck_parallel_run(j.nthreads, bn_second_pass_thread, &j);
        }
    }
}

void ck_batchnorm_update_moving(int64_t channels, float momentum, float one_minus_momentum,
                                const float *mean, const float *variance, float *moving_mean,
                                float *moving_variance) {
    for (int64_t c = 0; c < channels; c++) {
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * one_minus_momentum;
        moving_variance[c] = moving_variance[c] * momentum + variance[c] * one_minus_momentum;
    }
}

/* ---- references: the formulas, one channel at a time, in double ---- */

void ck_batchnorm_forward_training_reference(int64_t rows, int64_t channels, const float *x,
                                             const float *gamma, const float *beta,
                                             float epsilon, int relu, float *y, float *mean,
                                             float *variance) {
    const int64_t C = channels;
    for (int64_t c = 0; c < C; c++) {
        double s = 0.0;
        for (int64_t r = 0; r < rows; r++) s += x[r * C + c];
        mean[c] = (float)(s / (double)rows);
        double v = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double d = (double)x[r * C + c] - mean[c];
            v += d * d;
        }
        variance[c] = (float)(v / (double)rows);
        float inv = 1.0f / sqrtf(variance[c] + epsilon);
        if (gamma) inv = inv * gamma[c];
        float shift = (beta ? beta[c] : 0.0f) - mean[c] * inv;
        for (int64_t r = 0; r < rows; r++) {
            float o = x[r * C + c] * inv + shift;
            y[r * C + c] = relu && o < 0.0f ? 0.0f : o;
        }
    }
}

void ck_batchnorm_backward_reference(int64_t rows, int64_t channels, const float *x,
                                     const float *dy, const float *y_relu, const float *mean,
                                     const float *variance, const float *gamma, float epsilon,
                                     int training, float *dx, float *dgamma, float *dbeta) {
    const int64_t C = channels;
    for (int64_t c = 0; c < C; c++) {
        const double rstd = 1.0 / sqrt((double)variance[c] + epsilon);
        const double g = gamma ? gamma[c] : 1.0;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double d = dy[r * C + c];
            if (y_relu && !(y_relu[r * C + c] > 0.0f)) d = 0.0;
            sum_dy += d;
            sum_dy_xhat += d * ((double)x[r * C + c] - mean[c]) * rstd;
        }
        if (dbeta) dbeta[c] = (float)sum_dy;
        if (dgamma) dgamma[c] = (float)sum_dy_xhat;
        if (!dx) continue;
        for (int64_t r = 0; r < rows; r++) {
            double d = dy[r * C + c];
            if (y_relu && !(y_relu[r * C + c] > 0.0f)) d = 0.0;
            double xhat = ((double)x[r * C + c] - mean[c]) * rstd;
            double v = training ? g * rstd * (d - sum_dy / rows - xhat * sum_dy_xhat / rows)
                                : g * rstd * d;
            dx[r * C + c] = (float)v;
        }
    }
}
