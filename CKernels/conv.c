/*
 * conv.c — 2-D convolution, channels-last (NHWC), as im2col + GEMM, forward and backward.
 *
 * Forward. Every output pixel p = (n, i, j) is one row of an implicit matrix
 *   col[p, (a, b, c)] = x[n, i·sh + a·dh − pad_top, j·sw + b·dw − pad_left, g·Cg + c]   (0 outside)
 * of K = kh·kw·Cg columns, and the convolution of group g is the product col · W_g with
 * W_g = w[:, :, :, g·Fg:(g+1)·Fg] viewed as [K, Fg] (leading dimension F). The whole col matrix
 * would be kh·kw times the input, so it is never built: each thread gathers a block of output
 * pixels into its own L2-sized buffer and runs a single-threaded GEMM on it, with the bias and the
 * activation applied in the GEMM's store (ck_sgemm_bias_act). Threads take disjoint blocks of
 * output rows, so no synchronisation is needed and the gathered block is still in cache when the
 * GEMM packs it. A 1×1, stride-1, unpadded convolution is already a GEMM on x viewed as
 * [N·H·W, C]: no gather at all. An input of at most 4 channels (K ≤ 32: grayscale or RGB
 * images) is convolved directly instead, without im2col (see conv_direct_loop).
 *
 * Backward.
 *   dW_g [K, Fg] = Σ_blocks col_blockᵀ · dY_block  — each thread accumulates its blocks into a
 *                  private partial (GEMM with beta = 1), the partials are summed at the end;
 *   db [F]       = column sums of dY, in the same pass;
 *   dcol_block   = dY_block · W_gᵀ, scattered back into dX (col2im). Blocks of one image may
 *                  overlap in dX, so threads own whole images (or, with fewer images than
 *                  threads, the blocks run in order and each GEMM uses every thread).
 *
 * The padding is explicit (top, left; bottom/right are implied by the output size), so Keras's
 * `same` split — the extra cell at the end — is the caller's arithmetic.
 *
 * The *_reference functions are the direct seven-loop definitions, for the tests.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Target size of one thread's gathered block: it and the GEMM's packed panels fit in a 1 MiB L2.
 * The input gradient's blocks are larger: its GEMM (dY·Wᵀ, depth = filters) is short, and a
 * taller product amortises the packing of Wᵀ (measured: 1.5-2x on the cnn's second conv). */
#define CONV_BLOCK_BYTES (192 * 1024)
#define CONV_DATA_BLOCK_BYTES (1024 * 1024)
#define CONV_BLOCK_MIN_ROWS 48
#define CONV_BLOCK_MAX_ROWS 8192

/* Per-thread scratch (the GEMM keeps its packing buffers the same way): grows, never shrinks. */
static _Thread_local ck_scratch col_buffer, partial_buffer, mask_buffer;

static inline int64_t conv_cin_group(const ck_conv2d_shape *s) { return s->in_c / s->groups; }
static inline int64_t conv_fout_group(const ck_conv2d_shape *s) { return s->out_c / s->groups; }
static inline int64_t conv_k(const ck_conv2d_shape *s) {
    return (int64_t)s->kernel_h * s->kernel_w * conv_cin_group(s);
}
static inline int64_t conv_rows(const ck_conv2d_shape *s) {
    return s->batch * s->out_h * s->out_w;
}

static int64_t conv_rows_for(const ck_conv2d_shape *s, int64_t bytes) {
    int64_t rows = bytes / (int64_t)sizeof(float) / CK_MAX(conv_k(s), 1);
    rows = CK_MAX(rows, CONV_BLOCK_MIN_ROWS);
    return CK_MIN(rows, CONV_BLOCK_MAX_ROWS);
}

static int64_t conv_block_rows(const ck_conv2d_shape *s) {
    return conv_rows_for(s, CONV_BLOCK_BYTES);
}

static int conv_is_pointwise(const ck_conv2d_shape *s) {
    return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_top == 0 && s->pad_left == 0 && s->out_h == s->in_h && s->out_w == s->in_w;
}

/* ---- im2col / col2im of one block of output pixels ---- */

/* dst[q·K + e] = src[q·step + e] for q < count, e < seg. Called with a constant seg for the
 * small segments of few-channel inputs (kw·C = 1, 3, 5, 7), so the inner copy is unrolled
 * instead of a vector loop with runtime checks around three floats. */
static inline __attribute__((always_inline)) void copy_segments(
    float *restrict dst, int64_t K, const float *restrict src, int64_t step, int64_t count,
    int64_t seg) {
    for (int64_t q = 0; q < count; q++, dst += K, src += step)
        for (int64_t e = 0; e < seg; e++) dst[e] = src[e];
}

/* The general pixel: tap by tap, zeros outside the image. */
/* Output columns [j0, j1) split as [j0, ja) left edge, [ja, jb) interior, [jb, j1) right edge:
 * an interior column's window lies wholly inside the row (w0 = j·sw − pl ≥ 0, w0 + kw ≤ W). */
static inline void interior_columns(const ck_conv2d_shape *s, int64_t j0, int64_t j1, int64_t *ja,
                                    int64_t *jb) {
    const int64_t W = s->in_w, kw = s->kernel_w, sw = s->stride_w, pl = s->pad_left;
    int64_t a = pl > 0 ? (pl + sw - 1) / sw : 0;
    int64_t b = W >= kw ? (W - kw + pl) / sw + 1 : 0;
    a = CK_MIN(CK_MAX(a, j0), j1);
    *ja = a;
    *jb = CK_MAX(CK_MIN(b, j1), a);
}

static void im2col_pixel(const ck_conv2d_shape *s, const float *src_row, int64_t w0, float *dst) {
    const int64_t W = s->in_w, C = s->in_c, Cg = conv_cin_group(s);
    for (int b = 0; b < s->kernel_w; b++) {
        const int64_t iw = w0 + (int64_t)b * s->dilation_w;
        float *d = dst + b * Cg;
        if (iw < 0 || iw >= W) {
            for (int64_t c = 0; c < Cg; c++) d[c] = 0.0f;
        } else {
            const float *v = src_row + iw * C;
            for (int64_t c = 0; c < Cg; c++) d[c] = v[c];
        }
    }
}

/* One kernel row a of the col rows of a run of output pixels (n, i, j0..j1) that share their
 * input row ih: dst points at column a·kw·Cg of the run's first col row. */
static void im2col_run_row(const ck_conv2d_shape *s, const float *src_row, int64_t ih, int64_t j0,
                           int64_t j1, float *dst) {
    const int64_t C = s->in_c, Cg = conv_cin_group(s), K = conv_k(s);
    const int64_t kw = s->kernel_w, segment = kw * Cg, sw = s->stride_w, pl = s->pad_left;
    if (ih < 0 || ih >= s->in_h) {
        for (int64_t j = j0; j < j1; j++, dst += K)
            for (int64_t e = 0; e < segment; e++) dst[e] = 0.0f;
        return;
    }
    if (s->groups != 1 || s->dilation_w != 1) {
        for (int64_t j = j0; j < j1; j++, dst += K) im2col_pixel(s, src_row, j * sw - pl, dst);
        return;
    }
    /* One group, no dilation along w: the kw·C values of a kernel row are adjacent in x, so an
     * interior pixel is one copy. */
    int64_t ja, jb;
    interior_columns(s, j0, j1, &ja, &jb);
    for (int64_t j = j0; j < ja; j++) im2col_pixel(s, src_row, j * sw - pl, dst + (j - j0) * K);
    float *d = dst + (ja - j0) * K;
    const float *v = src_row + (ja * sw - pl) * C;
    const int64_t count = jb - ja, step = sw * C;
    switch (segment) {
    case 1: copy_segments(d, K, v, step, count, 1); break;
    case 3: copy_segments(d, K, v, step, count, 3); break;
    case 5: copy_segments(d, K, v, step, count, 5); break;
    case 6: copy_segments(d, K, v, step, count, 6); break;
    case 7: copy_segments(d, K, v, step, count, 7); break;
    case 9: copy_segments(d, K, v, step, count, 9); break;
    default: copy_segments(d, K, v, step, count, segment); break;
    }
    for (int64_t j = jb; j < j1; j++) im2col_pixel(s, src_row, j * sw - pl, dst + (j - j0) * K);
}

/* col[r, (a, b, c)] for the `rows` output pixels starting at linear pixel p0, group g, gathered
 * one run of pixels of the same output row at a time (the bounds of a kernel row are checked once
 * per run, not per pixel). col: [rows, K] */
static void im2col_block(const ck_conv2d_shape *s, const float *x, int64_t p0, int64_t rows,
                         int64_t g, float *col) {
    const int64_t H = s->in_h, W = s->in_w, C = s->in_c, Cg = conv_cin_group(s), K = conv_k(s);
    const int64_t segment = (int64_t)s->kernel_w * Cg;
    for (int64_t r = 0; r < rows;) {
        const int64_t p = p0 + r;
        const int64_t j0 = p % s->out_w, i = (p / s->out_w) % s->out_h;
        const int64_t n = p / (s->out_w * s->out_h);
        const int64_t run = CK_MIN(s->out_w - j0, rows - r);
        const float *image = x + n * H * W * C + g * Cg;
        const int64_t h0 = i * s->stride_h - s->pad_top;
        for (int a = 0; a < s->kernel_h; a++) {
            const int64_t ih = h0 + (int64_t)a * s->dilation_h;
            im2col_run_row(s, image + ih * W * C, ih, j0, j0 + run, col + r * K + a * segment);
        }
        r += run;
    }
}

/* dst[q·step + e] += src[q·K + e]: the adjoint of copy_segments. Pixels of one run may overlap
 * in dst (stride < kw), so the order is kept: q ascending. */
static inline __attribute__((always_inline)) void add_segments(
    float *dst, int64_t step, const float *src, int64_t K, int64_t count, int64_t seg) {
    for (int64_t q = 0; q < count; q++, dst += step, src += K)
        for (int64_t e = 0; e < seg; e++) dst[e] += src[e];
}

static void col2im_pixel(const ck_conv2d_shape *s, const float *src, int64_t w0, float *dst_row) {
    const int64_t W = s->in_w, C = s->in_c, Cg = conv_cin_group(s);
    for (int b = 0; b < s->kernel_w; b++) {
        const int64_t iw = w0 + (int64_t)b * s->dilation_w;
        if (iw < 0 || iw >= W) continue;
        float *d = dst_row + iw * C;
        const float *v = src + b * Cg;
        for (int64_t c = 0; c < Cg; c++) d[c] += v[c];
    }
}

/* Kernel row a of a run of pixels (n, i, j0..j1): dx_row[ih, ...] += dcol segments. */
static void col2im_run_row(const ck_conv2d_shape *s, const float *src, int64_t ih, int64_t j0,
                           int64_t j1, float *dst_row) {
    const int64_t C = s->in_c, Cg = conv_cin_group(s), K = conv_k(s);
    const int64_t kw = s->kernel_w, segment = kw * Cg, sw = s->stride_w, pl = s->pad_left;
    if (ih < 0 || ih >= s->in_h) return;
    if (s->groups != 1 || s->dilation_w != 1) {
        for (int64_t j = j0; j < j1; j++, src += K) col2im_pixel(s, src, j * sw - pl, dst_row);
        return;
    }
    int64_t ja, jb;
    interior_columns(s, j0, j1, &ja, &jb);
    for (int64_t j = j0; j < ja; j++) col2im_pixel(s, src + (j - j0) * K, j * sw - pl, dst_row);
    const float *v = src + (ja - j0) * K;
    float *d = dst_row + (ja * sw - pl) * C;
    const int64_t count = jb - ja, step = sw * C;
    switch (segment) {
    case 1: add_segments(d, step, v, K, count, 1); break;
    case 3: add_segments(d, step, v, K, count, 3); break;
    case 5: add_segments(d, step, v, K, count, 5); break;
    case 6: add_segments(d, step, v, K, count, 6); break;
    case 7: add_segments(d, step, v, K, count, 7); break;
    case 9: add_segments(d, step, v, K, count, 9); break;
    default: add_segments(d, step, v, K, count, segment); break;
    }
    for (int64_t j = jb; j < j1; j++) col2im_pixel(s, src + (j - j0) * K, j * sw - pl, dst_row);
}

/* dx[n, ih, iw, g·Cg + c] += dcol[r, (a, b, c)] for the block's pixels (the adjoint of im2col). */
static void col2im_block(const ck_conv2d_shape *s, const float *dcol, int64_t p0, int64_t rows,
                         int64_t g, float *dx) {
    const int64_t H = s->in_h, W = s->in_w, C = s->in_c, Cg = conv_cin_group(s), K = conv_k(s);
    const int64_t segment = (int64_t)s->kernel_w * Cg;
    for (int64_t r = 0; r < rows;) {
        const int64_t p = p0 + r;
        const int64_t j0 = p % s->out_w, i = (p / s->out_w) % s->out_h;
        const int64_t n = p / (s->out_w * s->out_h);
        const int64_t run = CK_MIN(s->out_w - j0, rows - r);
        float *image = dx + n * H * W * C + g * Cg;
        const int64_t h0 = i * s->stride_h - s->pad_top;
        for (int a = 0; a < s->kernel_h; a++) {
            const int64_t ih = h0 + (int64_t)a * s->dilation_h;
            col2im_run_row(s, dcol + r * K + a * segment, ih, j0, j0 + run, image + ih * W * C);
        }
        r += run;
    }
}

/* ---- forward ---- */

typedef struct {
    const ck_conv2d_shape *s;
    const float *x, *w, *bias;
    ck_activation act;
    float *y;
} conv_forward_job;

static void conv_forward_thread(void *ctx, int thread, int nthreads) {
    const conv_forward_job *j = ctx;
    const ck_conv2d_shape *s = j->s;
    const int64_t K = conv_k(s), F = s->out_c, Fg = conv_fout_group(s);
    const int64_t block = conv_block_rows(s);
    int64_t begin, end;
    ck_split_range(conv_rows(s), nthreads, thread, 1, &begin, &end);
    float *col = ck_scratch_reserve(&col_buffer, (size_t)(block * K));
    if (!col) return;
    for (int64_t p0 = begin; p0 < end; p0 += block) {
        const int64_t rows = CK_MIN(block, end - p0);
        for (int64_t g = 0; g < s->groups; g++) {
            im2col_block(s, j->x, p0, rows, g, col);
            ck_sgemm_bias_act(0, 0, (int)rows, (int)Fg, (int)K, 1.0f, col, (int)K, j->w + g * Fg,
                              (int)F, 0.0f, j->y + p0 * F + g * Fg, (int)F,
                              j->bias ? j->bias + g * Fg : NULL, j->act);
        }
    }
}

/* ---- forward, direct: few input channels ---- */

/* With C_in ≤ 4 the im2col depth K = kh·kw·C_in is tiny (9 for a grayscale 3×3): the GEMM is all
 * packing and store, and the gathered block costs as much as the product. A direct convolution
 * keeps one output pixel's F accumulators in registers (F ≤ 64: four AVX-512 vectors), adds
 * x[tap]·w[tap, :] for each of the K taps (a broadcast and a vector FMA each), applies the
 * bias and ReLU in registers and stores the pixel once: y is written once and x is read from
 * L1. Interior pixels go in pairs that share each weight load. Measured on the cnn's first conv
 * (28×28×1 → 32, 3×3, one thread): 74% -> ~110% of the GEMM of its own im2col shape (M = 86528,
 * N = 32, K = 9). Items are output pixels, split evenly over the threads. */
#define CONV_DIRECT_MAX_CIN 4
#define CONV_DIRECT_MAX_K 32

static int conv_is_direct(const ck_conv2d_shape *s) {
    return s->groups == 1 && s->in_c <= CONV_DIRECT_MAX_CIN && conv_k(s) <= CONV_DIRECT_MAX_K;
}

/* One output pixel (n, i, j), filters [f0, f0 + width): y[f] = bias[f] + Σ_taps x·w, with the
 * activation when it is identity or relu (the others are applied by the caller afterwards). */
static inline __attribute__((always_inline)) void conv_direct_pixel(
    const ck_conv2d_shape *s, const float *restrict image, const float *restrict w,
    const float *restrict bias, int relu, int64_t i, int64_t j, int64_t f0, int64_t width,
    float *restrict y) {
    const int64_t W = s->in_w, C = s->in_c, F = s->out_c;
    float acc[64];
    for (int64_t f = 0; f < width; f++) acc[f] = bias ? bias[f0 + f] : 0.0f;
    for (int a = 0; a < s->kernel_h; a++) {
        const int64_t ih = i * s->stride_h + (int64_t)a * s->dilation_h - s->pad_top;
        if (ih < 0 || ih >= s->in_h) continue;
        for (int b = 0; b < s->kernel_w; b++) {
            const int64_t iw = j * s->stride_w + (int64_t)b * s->dilation_w - s->pad_left;
            if (iw < 0 || iw >= W) continue;
            const float *restrict xv = image + (ih * W + iw) * C;
            const float *restrict wv = w + ((int64_t)(a * s->kernel_w + b) * C) * F + f0;
            for (int64_t c = 0; c < C; c++) {
                const float xs = xv[c];
                for (int64_t f = 0; f < width; f++) acc[f] += xs * wv[c * F + f];
            }
        }
    }
    if (relu)
        for (int64_t f = 0; f < width; f++) y[f] = acc[f] > 0.0f ? acc[f] : 0.0f;
    else
        for (int64_t f = 0; f < width; f++) y[f] = acc[f];
}

/* Two interior pixels (every tap inside the image) at once, sharing each weight load: tap t of
 * the pixel whose window starts at x0 reads x0[off[t]]. */
static inline __attribute__((always_inline)) void conv_direct_pair(
    const float *restrict x0, const float *restrict x1, const int64_t *restrict off, int64_t K,
    const float *restrict w, int64_t F, const float *restrict bias, int relu, int64_t width,
    float *restrict y0, float *restrict y1) {
    float acc0[64], acc1[64];
    for (int64_t f = 0; f < width; f++) acc0[f] = acc1[f] = bias ? bias[f] : 0.0f;
    for (int64_t t = 0; t < K; t++) {
        const float a0 = x0[off[t]], a1 = x1[off[t]];
        const float *restrict wt = w + t * F;
        for (int64_t f = 0; f < width; f++) {
            acc0[f] += a0 * wt[f];
            acc1[f] += a1 * wt[f];
        }
    }
    if (relu) {
        for (int64_t f = 0; f < width; f++) y0[f] = acc0[f] > 0.0f ? acc0[f] : 0.0f;
        for (int64_t f = 0; f < width; f++) y1[f] = acc1[f] > 0.0f ? acc1[f] : 0.0f;
    } else {
        for (int64_t f = 0; f < width; f++) y0[f] = acc0[f];
        for (int64_t f = 0; f < width; f++) y1[f] = acc1[f];
    }
}

/* Output pixels [begin, end), filters [f0, f0 + width): interior pixels in pairs, the border
 * ones (padding) tap by tap with bounds checks. */
static inline __attribute__((always_inline)) void conv_direct_width(
    const ck_conv2d_shape *s, const float *x, const float *w, const float *bias, int relu,
    const int64_t *off, int64_t begin, int64_t end, int64_t f0, int64_t width, float *y) {
    const int64_t F = s->out_c, H = s->in_h, W = s->in_w, C = s->in_c, K = conv_k(s);
    const int64_t span_h = (int64_t)(s->kernel_h - 1) * s->dilation_h;
    const int64_t span_w = (int64_t)(s->kernel_w - 1) * s->dilation_w;
    const float *b = bias ? bias + f0 : NULL;
    for (int64_t p = begin; p < end;) {
        const int64_t j0 = p % s->out_w, i = (p / s->out_w) % s->out_h;
        const int64_t run_end = p + CK_MIN(s->out_w - j0, end - p);
        const float *image = x + (p / (s->out_w * s->out_h)) * H * W * C;
        const int64_t ih0 = i * s->stride_h - s->pad_top;
        const int row_inside = ih0 >= 0 && ih0 + span_h < H;
        for (int64_t q = p; q < run_end;) {
            const int64_t j = j0 + (q - p), iw0 = j * s->stride_w - s->pad_left;
            const int64_t iw1 = iw0 + s->stride_w;
            if (q + 1 < run_end && row_inside && iw0 >= 0 && iw1 + span_w < W) {
                const float *x0 = image + (ih0 * W + iw0) * C;
                conv_direct_pair(x0, x0 + s->stride_w * C, off, K, w + f0, F, b, relu, width,
                                 y + q * F + f0, y + (q + 1) * F + f0);
                q += 2;
            } else {
                conv_direct_pixel(s, image, w, bias, relu, i, j, f0, width, y + q * F + f0);
                q += 1;
            }
        }
        p = run_end;
    }
}

static inline __attribute__((always_inline)) void conv_direct_loop(
    const ck_conv2d_shape *s, const float *x, const float *w, const float *bias, int relu,
    int64_t begin, int64_t end, float *y) {
    const int64_t F = s->out_c, C = s->in_c, W = s->in_w;
    int64_t off[CONV_DIRECT_MAX_K];
    for (int a = 0, t = 0; a < s->kernel_h; a++)
        for (int b = 0; b < s->kernel_w; b++)
            for (int64_t c = 0; c < C; c++, t++)
                off[t] = ((int64_t)a * s->dilation_h * W + (int64_t)b * s->dilation_w) * C + c;
    switch (F) { /* the common filter counts get constant widths: registers */
    case 16: conv_direct_width(s, x, w, bias, relu, off, begin, end, 0, 16, y); return;
    case 32: conv_direct_width(s, x, w, bias, relu, off, begin, end, 0, 32, y); return;
    case 64: conv_direct_width(s, x, w, bias, relu, off, begin, end, 0, 64, y); return;
    default: break;
    }
    for (int64_t f0 = 0; f0 < F; f0 += 64)
        conv_direct_width(s, x, w, bias, relu, off, begin, end, f0, CK_MIN(64, F - f0), y);
}

#define CONV_DIRECT_ARGS                                                                         \
    const ck_conv2d_shape *s, const float *x, const float *w, const float *bias, int relu,       \
        int64_t b, int64_t e, float *y
static void conv_direct_generic(CONV_DIRECT_ARGS) { conv_direct_loop(s, x, w, bias, relu, b, e, y); }
CK_TARGET_AVX2 static void conv_direct_avx2(CONV_DIRECT_ARGS) {
    conv_direct_loop(s, x, w, bias, relu, b, e, y);
}
CK_TARGET_AVX512 static void conv_direct_avx512(CONV_DIRECT_ARGS) {
    conv_direct_loop(s, x, w, bias, relu, b, e, y);
}

static void conv_direct_range(void *ctx, int64_t begin, int64_t end) {
    const conv_forward_job *j = ctx;
    const int relu = j->act == CK_ACT_RELU;
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: conv_direct_avx512(j->s, j->x, j->w, j->bias, relu, begin, end, j->y); break;
    case CK_ISA_AVX2: conv_direct_avx2(j->s, j->x, j->w, j->bias, relu, begin, end, j->y); break;
    default: conv_direct_generic(j->s, j->x, j->w, j->bias, relu, begin, end, j->y); break;
    }
    if (j->act != CK_ACT_IDENTITY && j->act != CK_ACT_RELU) /* rows still in cache */
        ck_bias_activation((int)(end - begin), (int)j->s->out_c, NULL, j->act,
                           j->y + begin * j->s->out_c, (int)j->s->out_c);
}

void ck_conv2d_forward(const ck_conv2d_shape *s, const float *x, const float *w,
                       const float *bias, ck_activation act, float *y) {
    const int64_t M = conv_rows(s), F = s->out_c, Fg = conv_fout_group(s);
    const int64_t Cg = conv_cin_group(s);
    if (M == 0 || F == 0) return;
    if (conv_is_pointwise(s)) {
        for (int64_t g = 0; g < s->groups; g++)
            ck_sgemm_bias_act(0, 0, (int)M, (int)Fg, (int)Cg, 1.0f, x + g * Cg, (int)s->in_c,
                              w + g * Fg, (int)F, 0.0f, y + g * Fg, (int)F,
                              bias ? bias + g * Fg : NULL, act);
        return;
    }
    conv_forward_job j = {s, x, w, bias, act, y};
    if (conv_is_direct(s)) {
        ck_parallel_for(M, 2048, conv_direct_range, &j);
        return;
    }
    /* One block per thread at least: a region for a tiny convolution costs more than it saves. */
    int nthreads = (int)CK_MIN((int64_t)ck_num_threads(), (M + conv_block_rows(s) / 4 - 1) /
                                                               CK_MAX(conv_block_rows(s) / 4, 1));
    ck_parallel_run(CK_MAX(nthreads, 1), conv_forward_thread, &j);
}

/* ---- backward: filter and bias ---- */

typedef struct {
    const ck_conv2d_shape *s;
    const float *x, *dy;
    float *dw, *db;
    float *partials; /* [nthreads][K·F + F]: thread t > 0 sums here; thread 0 into dw, db */
    int nthreads;
    const float *relu_y; /* fused ReLU: dy is masked by relu_y > 0, block by block; else NULL */
    float *dz;           /* fused ReLU: the masked dy [rows, F] is kept here, or NULL */
} conv_filter_job;

/* dz[r, f] = y[r, f] > 0 ? dy[r, f] : 0 over rows·F contiguous elements: the ReLU's derivative
 * as a select (a NaN upstream where the unit was off gives 0, as ck_unary_backward). */
static void relu_mask_rows(int64_t count, const float *restrict y, const float *restrict dy,
                           float *restrict dz) {
    for (int64_t i = 0; i < count; i++) dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
CK_TARGET_AVX512 static void relu_mask_rows_avx512(int64_t count, const float *restrict y,
                                                   const float *restrict dy, float *restrict dz) {
    for (int64_t i = 0; i < count; i++) dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
CK_TARGET_AVX2 static void relu_mask_rows_avx2(int64_t count, const float *restrict y,
                                               const float *restrict dy, float *restrict dz) {
    for (int64_t i = 0; i < count; i++) dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

static void conv_filter_thread(void *ctx, int thread, int nthreads) {
    const conv_filter_job *j = ctx;
    const ck_conv2d_shape *s = j->s;
    const int64_t K = conv_k(s), F = s->out_c, Fg = conv_fout_group(s);
    const int64_t block = conv_block_rows(s);
    int64_t begin, end;
    ck_split_range(conv_rows(s), nthreads, thread, 1, &begin, &end);
    float *dw = thread == 0 ? j->dw : j->partials + (int64_t)(thread - 1) * (K * F + F);
    float *db = thread == 0 ? j->db : dw + K * F;
    float *col = ck_scratch_reserve(&col_buffer, (size_t)(block * K));
    if (!col) return;
    int first = 1;
    if (begin >= end) {
        memset(dw, 0, (size_t)(K * F) * sizeof(float));
    }
    if (db) memset(db, 0, (size_t)F * sizeof(float));
    float *mask = NULL;
    if (j->relu_y && !j->dz) {
        mask = ck_scratch_reserve(&mask_buffer, (size_t)(block * F));
        if (!mask) return;
    }
    for (int64_t p0 = begin; p0 < end; p0 += block, first = 0) {
        const int64_t rows = CK_MIN(block, end - p0);
        const float *dy = j->dy + p0 * F;
        if (j->relu_y) {
            /* Masked here, while the block is about to be read anyway: the masked block is
             * read by the GEMM from cache, and no separate pass reads dy and y again. */
            float *dz = j->dz ? j->dz + p0 * F : mask;
            switch (ck_isa_active()) {
            case CK_ISA_AVX512: relu_mask_rows_avx512(rows * F, j->relu_y + p0 * F, dy, dz); break;
            case CK_ISA_AVX2: relu_mask_rows_avx2(rows * F, j->relu_y + p0 * F, dy, dz); break;
            default: relu_mask_rows(rows * F, j->relu_y + p0 * F, dy, dz); break;
            }
            dy = dz;
        }
        for (int64_t g = 0; g < s->groups; g++) {
            const float *a = j->x + g * conv_cin_group(s);
            int lda = (int)s->in_c;
            if (!conv_is_pointwise(s)) {
                im2col_block(s, j->x, p0, rows, g, col);
                a = col;
                lda = (int)K;
            } else {
                a += p0 * s->in_c;
            }
            ck_sgemm(1, 0, (int)K, (int)Fg, (int)rows, 1.0f, a, lda, dy + g * Fg, (int)F,
                     first ? 0.0f : 1.0f, dw + g * Fg, (int)F);
        }
        if (db)
            for (int64_t r = 0; r < rows; r++)
                for (int64_t f = 0; f < F; f++) db[f] += dy[r * F + f];
    }
}

static void conv_backward_filter(const ck_conv2d_shape *s, const float *x, const float *dy,
                                 const float *relu_y, float *dz, float *dw, float *db) {
    const int64_t K = conv_k(s), F = s->out_c, M = conv_rows(s);
    if (K * F == 0) {
        if (relu_y && dz) relu_mask_rows(M * F, relu_y, dy, dz);
        if (db) memset(db, 0, (size_t)F * sizeof(float));
        return;
    }
    int64_t block = conv_block_rows(s);
    int nthreads = (int)CK_MIN((int64_t)ck_num_threads(), CK_MAX((M + block - 1) / block, 1));
    conv_filter_job j = {s, x, dy, dw, db, NULL, nthreads, relu_y, dz};
    if (nthreads > 1) {
        j.partials = ck_scratch_reserve(&partial_buffer, (size_t)((nthreads - 1) * (K * F + F)));
        if (!j.partials) j.nthreads = nthreads = 1;
    }
    ck_parallel_run(nthreads, conv_filter_thread, &j);
    for (int t = 1; t < nthreads; t++) {
        const float *p = j.partials + (int64_t)(t - 1) * (K * F + F);
        for (int64_t e = 0; e < K * F; e++) dw[e] += p[e];
        if (db)
            for (int64_t f = 0; f < F; f++) db[f] += p[K * F + f];
    }
}

void ck_conv2d_backward_filter(const ck_conv2d_shape *s, const float *x, const float *dy,
                               float *dw, float *db) {
    conv_backward_filter(s, x, dy, NULL, NULL, dw, db);
}

void ck_conv2d_backward_filter_relu(const ck_conv2d_shape *s, const float *x, const float *dy,
                                    const float *y, float *dz, float *dw, float *db) {
    conv_backward_filter(s, x, dy, y, dz, dw, db);
}

/* ---- backward: data ---- */

typedef struct {
    const ck_conv2d_shape *s;
    const float *dy, *w;
    float *dx;
    int64_t image_begin, image_end; /* used by the serial driver */
} conv_data_job;

/* Images [n0, n1): zero their dx, then for each block dcol = dY·W_gᵀ and col2im. */
static void conv_data_images(const ck_conv2d_shape *s, const float *dy_all, const float *w,
                             float *dx, int64_t n0, int64_t n1) {
    const int64_t K = conv_k(s), F = s->out_c, Fg = conv_fout_group(s);
    const int64_t image = s->in_h * s->in_w * s->in_c, pixels = s->out_h * s->out_w;
    const int64_t block = conv_rows_for(s, CONV_DATA_BLOCK_BYTES);
    memset(dx + n0 * image, 0, (size_t)((n1 - n0) * image) * sizeof(float));
    float *dcol = ck_scratch_reserve(&col_buffer, (size_t)(block * K));
    if (!dcol) return;
    for (int64_t p0 = n0 * pixels; p0 < n1 * pixels; p0 += block) {
        const int64_t rows = CK_MIN(block, n1 * pixels - p0);
        for (int64_t g = 0; g < s->groups; g++) {
            ck_sgemm(0, 1, (int)rows, (int)K, (int)Fg, 1.0f, dy_all + p0 * F + g * Fg, (int)F,
                     w + g * Fg, (int)F, 0.0f, dcol, (int)K);
            col2im_block(s, dcol, p0, rows, g, dx);
        }
    }
}

static void conv_data_thread(void *ctx, int thread, int nthreads) {
    const conv_data_job *j = ctx;
    int64_t n0, n1;
    ck_split_range(j->s->batch, nthreads, thread, 1, &n0, &n1);
    if (n0 < n1) conv_data_images(j->s, j->dy, j->w, j->dx, n0, n1);
}

void ck_conv2d_backward_data(const ck_conv2d_shape *s, const float *dy, const float *w,
                             float *dx) {
    const int64_t M = conv_rows(s), F = s->out_c, Fg = conv_fout_group(s);
    const int64_t Cg = conv_cin_group(s), C = s->in_c;
    if (s->batch * s->in_h * s->in_w * C == 0) return;
    if (conv_is_pointwise(s)) {
        for (int64_t g = 0; g < s->groups; g++)
            ck_sgemm(0, 1, (int)M, (int)Cg, (int)Fg, 1.0f, dy + g * Fg, (int)F, w + g * Fg, (int)F,
                     0.0f, dx + g * Cg, (int)C);
        return;
    }
    int nthreads = (int)CK_MIN((int64_t)ck_num_threads(), s->batch);
    conv_data_job j = {s, dy, w, dx, 0, s->batch};
    if (nthreads > 1 && s->batch >= 2 * nthreads - 1) {
        ck_parallel_run(nthreads, conv_data_thread, &j);
    } else {
        /* Few images: blocks in order, each GEMM threaded internally. */
        conv_data_images(s, dy, w, dx, 0, s->batch);
    }
}

/* ---- references: the definitions, loop by loop ---- */

void ck_conv2d_forward_reference(const ck_conv2d_shape *s, const float *x, const float *w,
                                 const float *bias, ck_activation act, float *y) {
    const int64_t Cg = conv_cin_group(s), Fg = conv_fout_group(s), F = s->out_c;
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t i = 0; i < s->out_h; i++)
            for (int64_t j = 0; j < s->out_w; j++)
                for (int64_t f = 0; f < F; f++) {
                    const int64_t g = f / Fg;
                    double acc = bias ? bias[f] : 0.0;
                    for (int a = 0; a < s->kernel_h; a++)
                        for (int b = 0; b < s->kernel_w; b++) {
                            int64_t ih = i * s->stride_h + a * s->dilation_h - s->pad_top;
                            int64_t iw = j * s->stride_w + b * s->dilation_w - s->pad_left;
                            if (ih < 0 || ih >= s->in_h || iw < 0 || iw >= s->in_w) continue;
                            for (int64_t c = 0; c < Cg; c++)
                                acc += (double)x[((n * s->in_h + ih) * s->in_w + iw) * s->in_c +
                                                 g * Cg + c] *
                                       w[((a * s->kernel_w + b) * Cg + c) * F + f];
                        }
                    y[((n * s->out_h + i) * s->out_w + j) * F + f] = (float)acc;
                }
    ck_bias_activation((int)conv_rows(s), (int)F, NULL, act, y, (int)F);
}

void ck_conv2d_backward_filter_reference(const ck_conv2d_shape *s, const float *x,
                                         const float *dy, float *dw, float *db) {
    const int64_t Cg = conv_cin_group(s), Fg = conv_fout_group(s), F = s->out_c;
    for (int a = 0; a < s->kernel_h; a++)
        for (int b = 0; b < s->kernel_w; b++)
            for (int64_t c = 0; c < Cg; c++)
                for (int64_t f = 0; f < F; f++) {
                    const int64_t g = f / Fg;
                    double acc = 0.0;
                    for (int64_t n = 0; n < s->batch; n++)
                        for (int64_t i = 0; i < s->out_h; i++)
                            for (int64_t j = 0; j < s->out_w; j++) {
                                int64_t ih = i * s->stride_h + a * s->dilation_h - s->pad_top;
                                int64_t iw = j * s->stride_w + b * s->dilation_w - s->pad_left;
                                if (ih < 0 || ih >= s->in_h || iw < 0 || iw >= s->in_w) continue;
                                acc += (double)x[((n * s->in_h + ih) * s->in_w + iw) * s->in_c +
                                                 g * Cg + c] *
                                       dy[((n * s->out_h + i) * s->out_w + j) * F + f];
                            }
                    dw[((a * s->kernel_w + b) * Cg + c) * F + f] = (float)acc;
                }
    if (db)
        for (int64_t f = 0; f < F; f++) {
            double acc = 0.0;
            for (int64_t p = 0; p < conv_rows(s); p++) acc += dy[p * F + f];
            db[f] = (float)acc;
        }
}

void ck_conv2d_backward_data_reference(const ck_conv2d_shape *s, const float *dy, const float *w,
                                       float *dx) {
    const int64_t Cg = conv_cin_group(s), Fg = conv_fout_group(s), F = s->out_c;
    /* Gather form: for each input cell, every (output pixel, tap) that reads it. */
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t ih = 0; ih < s->in_h; ih++)
            for (int64_t iw = 0; iw < s->in_w; iw++)
                for (int64_t ci = 0; ci < s->in_c; ci++) {
                    const int64_t g = ci / Cg, c = ci % Cg;
                    double acc = 0.0;
                    for (int a = 0; a < s->kernel_h; a++)
                        for (int b = 0; b < s->kernel_w; b++) {
                            int64_t hi = ih + s->pad_top - a * s->dilation_h;
                            int64_t wi = iw + s->pad_left - b * s->dilation_w;
                            if (hi < 0 || wi < 0 || hi % s->stride_h || wi % s->stride_w) continue;
                            int64_t i = hi / s->stride_h, j = wi / s->stride_w;
                            if (i >= s->out_h || j >= s->out_w) continue;
                            for (int64_t f = g * Fg; f < (g + 1) * Fg; f++)
                                acc += (double)dy[((n * s->out_h + i) * s->out_w + j) * F + f] *
                                       w[((a * s->kernel_w + b) * Cg + c) * F + f];
                        }
                    dx[((n * s->in_h + ih) * s->in_w + iw) * s->in_c + ci] = (float)acc;
                }
}
