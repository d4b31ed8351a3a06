/*
 * ckernels.h — the one public header of Peregrine's C kernels.
 *
 * Conventions, for every entry point below:
 *   - float32 data, row-major (C order); images are channels-last (NHWC).
 *   - Kernels trust their arguments: shapes, strides and pointers are checked by the Swift layer
 *     before any call. A kernel never allocates what its caller can hand it, never prints, never
 *     aborts.
 *   - Every kernel is deterministic for a given thread count; results do not depend on the ISA
 *     path beyond the last-bit differences that different FMA orderings give.
 *   - Sizes are `int` where BLAS uses `int` (GEMM), `int64_t` where tensors may exceed 2^31
 *     elements.
 *
 * The ISA path (AVX-512, AVX2+FMA, portable C) is chosen once from the CPU's features; the
 * environment variable PEREGRINE_ISA=avx512|avx2|generic overrides it, and ck_set_isa() switches
 * it at run time (the tests run every path that way). Threads come from the OpenMP runtime and
 * honour OMP_NUM_THREADS; ck_set_num_threads() overrides it.
 */
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Runtime: ISA dispatch and threading (cpu.c, parallel.c)                                     */
/* ------------------------------------------------------------------------------------------ */

/** The instruction-set paths a kernel family may have. */
typedef enum ck_isa {
    CK_ISA_GENERIC = 0, /* portable C, whatever the compiler makes of it at the baseline ISA */
    CK_ISA_AVX2 = 1,    /* AVX2 + FMA (Haswell and later, Zen 1 and later) */
    CK_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL/DQ (Skylake-X and later, Zen 4 and later) */
} ck_isa;

/** The path in use now. The first call resolves it from the CPU and PEREGRINE_ISA. */
ck_isa ck_isa_active(void);

/** The best path this CPU supports, ignoring any override. */
ck_isa ck_isa_best_supported(void);

/** Switches the path. Returns 0, or -1 (and changes nothing) when the CPU lacks that ISA. */
int ck_set_isa(ck_isa isa);

/** "generic", "avx2" or "avx512". */
const char *ck_isa_name(ck_isa isa);

/** Threads a parallel kernel uses: ck_set_num_threads's value, else OMP_NUM_THREADS, else cores. */
int ck_num_threads(void);

/** Sets the thread count for later kernels; n <= 0 restores the default. */
void ck_set_num_threads(int n);

/**
 * Per-thread overrides of the ISA path and the thread count, for the calling thread only (and
 * the workers of the parallel regions it starts): tests run every path concurrently this way
 * without changing what the rest of the process uses. isa < 0 or n <= 0 removes the override.
 * ck_set_thread_isa returns -1 (and changes nothing) when the CPU lacks that ISA.
 */
int ck_set_thread_isa(int isa);
void ck_set_thread_num_threads(int n);

/** The OpenMP runtime's shared object as the dynamic linker resolved it, e.g. "libgomp.so.1". */
const char *ck_threading_runtime(void);

/**
 * The fp32 FMA throughput of this machine on the active ISA path, in GFLOP/s: register-only FMA
 * chains on `nthreads` threads (<= 0: ck_num_threads()), best of twelve ~10 ms runs. Benchmarks
 * divide by it to report efficiency measured in the same run.
 */
double ck_fma_peak_gflops(int nthreads);

/* ------------------------------------------------------------------------------------------ */
/* GEMM (gemm.c; micro-kernels in gemm_avx512.c, gemm_avx2.c, gemm_generic.c)                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, the meaning of
 * cblas_sgemm(CblasRowMajor, ...). op(X) = X when trans_x == 0, Xᵀ when trans_x == 1.
 *   A is m×k (lda ≥ k) or, transposed, k×m (lda ≥ m); B is k×n (ldb ≥ n) or n×k (ldb ≥ k).
 * Any m, n, k ≥ 0. beta == 0 never reads C (it may hold NaN); alpha == 0 never reads A or B.
 * Always the hand-written kernel, whatever the build.
 */
void ck_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/** The activations a GEMM store (and ck_bias_activation) can apply. */
typedef enum ck_activation {
    CK_ACT_IDENTITY = 0,
    CK_ACT_RELU = 1,    /* max(x, 0) */
    CK_ACT_SIGMOID = 2, /* 1 / (1 + exp(-x)) */
    CK_ACT_TANH = 3,
} ck_activation;

/**
 * The layers' GEMM: C = act(alpha · op(A) · op(B) + beta · C + bias), bias broadcast along rows
 * (bias[j] is added to column j; NULL for none). The bias and the activation are applied in the
 * micro-kernel's store, so Dense and Conv need no second pass over C.
 */
void ck_sgemm_bias_act(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc,
                       const float *bias, ck_activation act);

/**
 * B packed once, for many products with the same B (a layer's weights during inference): the
 * micro-kernel's panels, made by ck_sgemm_pack_b and read by ck_sgemm_packed_b_bias_act, so
 * each product skips the packing (or the aliased in-place reads) of B (gemm_packed_b.c).
 *
 *   float *packed = aligned_alloc(64, ck_sgemm_packed_b_size(k, n) * sizeof(float));
 *   ck_sgemm_pack_b(0, k, n, weights, n, packed);                  // once
 *   ck_sgemm_packed_b_bias_act(0, batch, n, k, 1, x, k, packed, 0, y, n, bias, CK_ACT_RELU);
 *
 * The layout belongs to the ISA path active when packing; the product runs on that path.
 */
/** Floats a packed op(B) [k×n] takes on the active ISA path (0 for a negative k or n). */
size_t ck_sgemm_packed_b_size(int k, int n);

/** Packs op(B) [k×n] (B is k×n with ldb ≥ n, or n×k with ldb ≥ k when trans_b) into `packed`:
 * ck_sgemm_packed_b_size(k, n) floats, 64-byte aligned. Returns 0, or -1 (nothing written) for
 * a negative size, a too small ldb, or a NULL or misaligned `packed`. */
int ck_sgemm_pack_b(int trans_b, int k, int n, const float *b, int ldb, float *packed);

/** ck_sgemm_bias_act with B packed by ck_sgemm_pack_b. Returns 0, or -1 (C untouched) when
 * `packed_b` is not a packed B of k×n. */
int ck_sgemm_packed_b_bias_act(int trans_a, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *packed_b, float beta, float *c, int ldc,
                               const float *bias, ck_activation act);

/** The epilogue alone, in place: C[i][j] = act(C[i][j] + bias[j]) (bias may be NULL). */
void ck_bias_activation(int m, int n, const float *bias, ck_activation act, float *c, int ldc);

/** The plain triple loop with the same contract as ck_sgemm_bias_act: the tests' reference. */
void ck_sgemm_reference(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc, const float *bias, ck_activation act);

/* ------------------------------------------------------------------------------------------ */
/* Element-wise math (eltwise.c)                                                                */
/* ------------------------------------------------------------------------------------------ */

/** One-input element-wise functions. */
typedef enum ck_unary_op {
    CK_UNARY_NEG = 0,
    CK_UNARY_EXP,
    CK_UNARY_LOG,
    CK_UNARY_SQRT,
    CK_UNARY_ABS,
    CK_UNARY_TANH,
    CK_UNARY_SIGMOID,
    CK_UNARY_RELU,
    CK_UNARY_SQUARE,
} ck_unary_op;

/** y[i] = op(x[i]) for i < n. x and y may be the same buffer. */
void ck_unary(ck_unary_op op, int64_t n, const float *x, float *y);

/** y[i] = x[i] ^ p (powf semantics; p == 2 and p == 0.5 are exact fast paths). */
void ck_pow_scalar(int64_t n, const float *x, float p, float *y);

/** Two-input element-wise functions. */
typedef enum ck_binary_op {
    CK_BINARY_ADD = 0,
    CK_BINARY_SUB,
    CK_BINARY_MUL,
    CK_BINARY_DIV,
    CK_BINARY_POW,
    CK_BINARY_MAX,
    CK_BINARY_MIN,
} ck_binary_op;

/** The largest rank the strided kernels accept. */
#define CK_MAX_RANK 8

/**
 * Broadcasting binary op: y = op(a, b) over an output of the given rank and shape, y contiguous.
 * a_strides / b_strides are in elements, one per output dimension, 0 where that input is
 * broadcast. The caller computes the broadcast (NumPy rules); the kernel collapses contiguous
 * dimensions and runs the inner loop vectorised for the stride patterns (1,1), (1,0), (0,1).
 */
void ck_binary(ck_binary_op op, int rank, const int64_t *shape, const float *a,
               const int64_t *a_strides, const float *b, const int64_t *b_strides, float *y);

/** y[i] = value for i < n. */
void ck_fill(int64_t n, float value, float *y);

/** y[i] = value for i < n, 32-bit integers (labels, indices). */
void ck_fill_int32(int64_t n, int32_t value, int32_t *y);

/** y[i] = (float)x[i] for i < n (exact below 2^24 in magnitude, rounded to nearest above). */
void ck_int32_to_float(int64_t n, const int32_t *x, float *y);

/* ------------------------------------------------------------------------------------------ */
/* Reductions and row-wise normalisers (reduce.c)                                               */
/* ------------------------------------------------------------------------------------------ */

typedef enum ck_reduce_op {
    CK_REDUCE_SUM = 0,
    CK_REDUCE_MEAN,
    CK_REDUCE_MAX,
    CK_REDUCE_MIN,
} ck_reduce_op;

/**
 * x viewed as [outer, len, inner] (contiguous) reduced over the middle axis: y is [outer, inner].
 * len == 0 gives 0 for SUM, NaN for MEAN, -inf / +inf for MAX / MIN. MAX and MIN propagate NaN.
 * Sums accumulate in float with pairwise blocking, so the error grows like log(len).
 */
void ck_reduce(ck_reduce_op op, int64_t outer, int64_t len, int64_t inner, const float *x,
               float *y);

/** Index of the first maximum over the middle axis of [outer, len, inner]; idx is [outer, inner]. */
void ck_argmax(int64_t outer, int64_t len, int64_t inner, const float *x, int32_t *idx);

/** Row-wise softmax of x[rows, cols] (max-subtracted), y may alias x. */
void ck_softmax(int64_t rows, int64_t cols, const float *x, float *y);

/** Row-wise log-softmax of x[rows, cols]: x - max - log(sum(exp(x - max))). y may alias x. */
void ck_log_softmax(int64_t rows, int64_t cols, const float *x, float *y);

/* ------------------------------------------------------------------------------------------ */
/* Data movement and random numbers (copy.c, random.c)                                          */
/* ------------------------------------------------------------------------------------------ */

/**
 * Strided copy of 32-bit elements (float or int32): for every index (i0..i{rank-1}) of `shape`,
 * y[Σ i_d·y_strides[d]] = x[Σ i_d·x_strides[d]]. Strides are in elements and may be negative or 0
 * on x. Transpose, permute, slicing, concatenation and broadcast materialisation are all this.
 */
void ck_copy_strided32(int rank, const int64_t *shape, const void *x, const int64_t *x_strides,
                       void *y, const int64_t *y_strides);

/**
 * Counter-based random numbers: element i of a stream depends only on (seed, offset + i), so the
 * result is the same for any thread count and a stream can be continued where it stopped.
 */
void ck_random_uniform(int64_t n, uint64_t seed, uint64_t offset, float low, float high, float *y);

/** Normal(mean, stddev) by Box–Muller over the same counter-based generator. */
void ck_random_normal(int64_t n, uint64_t seed, uint64_t offset, float mean, float stddev, float *y);

/* ------------------------------------------------------------------------------------------ */
/* Backward passes of the element-wise functions (eltwise_backward.c): TF's gradient formulas   */
/* ------------------------------------------------------------------------------------------ */

/**
 * dx[i] = dy[i] · op'(x[i]), with the derivative written as TF writes it, from the forward
 * input x or output y (exp, sqrt, tanh, sigmoid and relu use y; log, abs and square use x;
 * pass both). relu' and abs' are 0 at 0. dx must not overlap the inputs.
 */
void ck_unary_backward(ck_unary_op op, int64_t n, const float *x, const float *y, const float *dy,
                       float *dx);

/** dx[i] = dy[i] · p · x[i]^(p−1), the backward pass of ck_pow_scalar. */
void ck_pow_scalar_backward(int64_t n, const float *x, float p, const float *dy, float *dx);

/**
 * Backward of element-wise maximum (is_max = 1) or minimum (0) of same-shaped x and y: dz goes
 * to dx where x >= y (maximum) or x <= y (minimum) — ties to the first argument, as TF — and to
 * dy elsewhere. dx or dy may be NULL.
 */
void ck_minmax_backward(int is_max, int64_t n, const float *x, const float *y, const float *dz,
                        float *dx, float *dy);

/**
 * Backward of z = x^y (same shapes): dx = dz·y·x^(y−1), dy = dz·z·log(x) where x > 0 else 0.
 * dx or dy may be NULL.
 */
void ck_pow_backward(int64_t n, const float *x, const float *y, const float *z, const float *dz,
                     float *dx, float *dy);

/** mask[i] = 1 where a[i] == b[i], else 0 (the tie indicator of max/min reductions' gradient). */
void ck_equal_mask(int64_t n, const float *a, const float *b, float *mask);

/** Row-wise softmax backward from its output y[rows, cols]: dx = y · (dy − Σ dy·y). */
void ck_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx);

/** Row-wise log-softmax backward from its output y: dx = dy − exp(y) · Σ dy. */
void ck_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy,
                             float *dx);

/* ------------------------------------------------------------------------------------------ */
/* Losses on logits (loss.c): fused, numerically stable, loss and gradient in one pass         */
/* ------------------------------------------------------------------------------------------ */

/**
 * Softmax cross-entropy of logits[rows, cols] against dense targets[rows, cols]:
 *   loss[r] = -Σ_j targets[r,j] · log_softmax(logits[r])_j.
 * When grad != NULL, also grad[r,j] = s_r · (softmax(logits[r])_j − targets[r,j]) — TF's
 * gradient, the derivative of loss[r] when a row's targets sum to 1 — scaled by
 * s_r = grad_scale[r] (1 when grad_scale is NULL).
 */
void ck_softmax_cross_entropy(int64_t rows, int64_t cols, const float *logits,
                              const float *targets, float *loss, float *grad,
                              const float *grad_scale);

/** The same with integer labels in [0, cols) (checked by the caller): the target is one-hot. */
void ck_sparse_softmax_cross_entropy(int64_t rows, int64_t cols, const float *logits,
                                     const int32_t *labels, float *loss, float *grad,
                                     const float *grad_scale);

/**
 * Converts float class labels to int32 for the sparse kernels, checking each: an exact integer in
 * [0, classes), or ignore_class when has_ignore (then label 0 and valid 0; valid may be NULL).
 * Returns the index of the first invalid label, or -1 when all are valid.
 */
int64_t ck_sparse_labels(int64_t n, const float *x, int32_t classes, int has_ignore,
                         int32_t ignore_class, int32_t *labels, float *valid);

/**
 * Element-wise sigmoid cross-entropy: loss[i] = max(x,0) − x·y + log(1 + exp(−|x|)), and when
 * grad != NULL, grad[i] = grad_scale · (sigmoid(x) − y).
 */
void ck_sigmoid_cross_entropy(int64_t n, const float *logits, const float *targets, float *loss,
                              float *grad, float grad_scale);

/* ------------------------------------------------------------------------------------------ */
/* Optimizer updates (optimizer.c): Keras's arithmetic, rounding for rounding, no FMA          */
/* ------------------------------------------------------------------------------------------ */

/**
 * SGD on n elements. velocity == NULL: w -= g·lr. Otherwise (momentum μ > 0):
 * velocity = -g·lr + velocity·μ, then w += velocity, or with nesterov w += -g·lr + velocity·μ.
 */
void ck_sgd_update(int64_t n, float *w, const float *g, float *velocity, float lr, float momentum,
                   int nesterov);

/**
 * Adam (Keras's epsilon-hat form). alpha = lr·sqrt(1-β2^t)/(1-β1^t), computed by the caller.
 * m += (g-m)(1-β1); v += (g²-v)(1-β2); with v_hat (amsgrad) v_hat = max(v_hat, v) is used;
 * w -= m·alpha / (sqrt(v) + ε). v_hat is NULL without amsgrad.
 */
void ck_adam_update(int64_t n, float *w, const float *g, float *m, float *v, float *v_hat,
                    float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon);

/**
 * RMSprop. v = ρv + (1-ρ)g²; with mean_g (centered) mean_g = ρ·mean_g + (1-ρ)g and the
 * denominator v - mean_g² + ε, else v + ε (ε inside the square root); inc = lr·g/sqrt(den);
 * with momentum_buf: momentum_buf = μ·momentum_buf + inc, w -= momentum_buf; else w -= inc.
 */
void ck_rmsprop_update(int64_t n, float *w, const float *g, float *v, float *mean_g,
                       float *momentum_buf, float lr, float rho, float one_minus_rho,
                       float momentum, float epsilon);

/** Adagrad: acc += g²; w -= lr·g / sqrt(acc + ε). */
void ck_adagrad_update(int64_t n, float *w, const float *g, float *acc, float lr, float epsilon);

/** Decoupled weight decay, applied before the update: w = w - (w·weight_decay)·lr. */
void ck_weight_decay(int64_t n, float *w, float weight_decay, float lr);

/** Σ x[i]², accumulated in double: the norms of clipnorm and global_clipnorm. */
double ck_sum_of_squares(int64_t n, const float *x);

/* ------------------------------------------------------------------------------------------ */
/* Input pipeline (data.c): decoded bytes to floats, shuffled batches                          */
/* ------------------------------------------------------------------------------------------ */

/** y[i] = (float)x[i] · scale: IDX (MNIST) pixels to floats; scale = 1/255 maps them to [0, 1]. */
void ck_u8_to_float(int64_t n, const uint8_t *x, float scale, float *y);
void ck_u8_to_float_reference(int64_t n, const uint8_t *x, float scale, float *y);

/**
 * Row gather: y[r, :] = x[indices[r], :] for r < rows; x: [*, row_size], y: [rows, row_size].
 * Every index must be a valid row of x (the caller checks).
 */
void ck_gather_rows(int64_t rows, int64_t row_size, const float *x, const int32_t *indices,
                    float *y);
void ck_gather_rows_reference(int64_t rows, int64_t row_size, const float *x,
                              const int32_t *indices, float *y);

/**
 * A uniformly random permutation of 0..<n (n < 2^31) into perm: Fisher–Yates whose step i draws
 * from the counter-based stream of random.c at (seed, offset + i). Same seed, same permutation.
 */
void ck_random_permutation(int64_t n, uint64_t seed, uint64_t offset, int32_t *perm);

/* ------------------------------------------------------------------------------------------ */
/* Metrics (metrics.c): sums of per-row accuracy scores                                         */
/* ------------------------------------------------------------------------------------------ */

/** Rows whose argmax of pred[rows, cols] equals labels[r] (class indices stored as float). */
double ck_accuracy_sparse(int64_t rows, int64_t cols, const float *pred, const float *labels);

/** Rows where argmax(pred[r]) == argmax(target[r]). */
double ck_accuracy_categorical(int64_t rows, int64_t cols, const float *pred, const float *target);

/** Σ_r mean_j [(pred[r,j] > threshold) == target[r,j]]. */
double ck_accuracy_binary(int64_t rows, int64_t cols, const float *pred, const float *target,
                          float threshold);

/* ------------------------------------------------------------------------------------------ */
/* Convolution, pooling, batch normalization (conv.c, pool.c, batchnorm.c): NHWC               */
/* ------------------------------------------------------------------------------------------ */

/**
 * The geometry of a 2-D convolution, channels-last:
 *   x [batch, in_h, in_w, in_c], w [kernel_h, kernel_w, in_c/groups, out_c] (Keras's layout),
 *   y [batch, out_h, out_w, out_c].
 * y[n,i,j,f] = Σ_{a,b,c} x[n, i·stride_h + a·dilation_h − pad_top, j·stride_w + b·dilation_w −
 * pad_left, g·Cg + c] · w[a,b,c,f] over real cells only (zero padding), g = f / (out_c/groups).
 * The caller computes out_h/out_w and the padding (Keras's `same` puts the extra cell at the
 * bottom/right, which the output size implies); in_c and out_c divide by groups.
 */
typedef struct ck_conv2d_shape {
    int64_t batch, in_h, in_w, in_c;
    int64_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    int32_t pad_top, pad_left, groups;
} ck_conv2d_shape;

/**
 * y = act(conv(x, w) + bias): blocks of output pixels gathered (im2col) per thread into an
 * L2-sized buffer, each fed to ck_sgemm_bias_act (bias and activation in the GEMM's store); a
 * 1×1 stride-1 unpadded convolution is one GEMM on x with no gather. bias may be NULL.
 */
void ck_conv2d_forward(const ck_conv2d_shape *s, const float *x, const float *w,
                       const float *bias, ck_activation act, float *y);

/**
 * Weight and bias gradients from dy (the gradient at the pre-activation output):
 * dw[kh·kw·Cg, out_c] = Σ im2col(x)ᵀ·dy (chunked GEMMs, per-thread partial sums), db = column
 * sums of dy (db may be NULL). Both are overwritten.
 */
void ck_conv2d_backward_filter(const ck_conv2d_shape *s, const float *x, const float *dy,
                               float *dw, float *db);

/** Input gradient: dx = col2im(dy · wᵀ), chunked; dx is overwritten. */
void ck_conv2d_backward_data(const ck_conv2d_shape *s, const float *dy, const float *w,
                             float *dx);

/**
 * ck_conv2d_backward_filter for a convolution with a fused ReLU, y = relu(conv(x) + b): dy is the
 * gradient at y, masked by y > 0 one block of rows at a time, just before that block's GEMM reads
 * it (one pass fewer over dy and y than ck_unary_backward then ck_conv2d_backward_filter, whose
 * results it equals). dz [rows, out_c], when not NULL, receives the masked gradient for
 * ck_conv2d_backward_data; NULL when the input needs no gradient (a model's first layer).
 */
void ck_conv2d_backward_filter_relu(const ck_conv2d_shape *s, const float *x, const float *dy,
                                    const float *y, float *dz, float *dw, float *db);

/** The direct loops with the same contracts (accumulating in double): the tests' references. */
void ck_conv2d_forward_reference(const ck_conv2d_shape *s, const float *x, const float *w,
                                 const float *bias, ck_activation act, float *y);
void ck_conv2d_backward_filter_reference(const ck_conv2d_shape *s, const float *x,
                                         const float *dy, float *dw, float *db);
void ck_conv2d_backward_data_reference(const ck_conv2d_shape *s, const float *dy, const float *w,
                                       float *dx);

/**
 * The geometry of a 2-D pooling window over x [batch, in_h, in_w, channels] giving
 * y [batch, out_h, out_w, channels]; window (i, j) covers rows i·stride_h − pad_top + [0, pool_h)
 * and columns j·stride_w − pad_left + [0, pool_w), clipped to the image (padded cells never take
 * part). Every window must hold at least one real cell (true for Keras's valid and same).
 */
typedef struct ck_pool2d_shape {
    int64_t batch, in_h, in_w, channels, out_h, out_w;
    int32_t pool_h, pool_w, stride_h, stride_w, pad_top, pad_left;
} ck_pool2d_shape;

/**
 * Max pooling. argmax (may be NULL) receives, per output element, the winning input cell
 * ih·in_w + iw within its image (the first maximum in window order).
 */
void ck_maxpool2d_forward(const ck_pool2d_shape *s, const float *x, float *y, int32_t *argmax);

/** dx (overwritten) = Σ dy routed to the argmax cells. */
void ck_maxpool2d_backward(const ck_pool2d_shape *s, const float *dy, const int32_t *argmax,
                           float *dx);

/** Average pooling: the sum of the window's real cells divided by their number. */
void ck_avgpool2d_forward(const ck_pool2d_shape *s, const float *x, float *y);

/** dx (overwritten): each window's dy / (its real-cell count) added to its real cells. */
void ck_avgpool2d_backward(const ck_pool2d_shape *s, const float *dy, float *dx);

/** The per-element loops with the same contracts: the tests' references. */
void ck_maxpool2d_forward_reference(const ck_pool2d_shape *s, const float *x, float *y,
                                    int32_t *argmax);
void ck_maxpool2d_backward_reference(const ck_pool2d_shape *s, const float *dy,
                                     const int32_t *argmax, float *dx);
void ck_avgpool2d_forward_reference(const ck_pool2d_shape *s, const float *x, float *y);
void ck_avgpool2d_backward_reference(const ck_pool2d_shape *s, const float *dy, float *dx);

/** Global average pooling of x [batch, cells, channels] (cells = H·W) into y [batch, channels]. */
void ck_global_avgpool2d_forward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                 float *y);
/** dx[n, p, c] = dy[n, c] / cells. */
void ck_global_avgpool2d_backward(int64_t batch, int64_t cells, int64_t channels,
                                  const float *dy, float *dx);
/** Global max pooling of x [batch, cells, channels] into y [batch, channels]. */
void ck_global_maxpool2d_forward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                 float *y);
/** TF's reduce_max gradient: dy[n, c] shared equally by the cells where x equals y. */
void ck_global_maxpool2d_backward(int64_t batch, int64_t cells, int64_t channels, const float *x,
                                  const float *y, const float *dy, float *dx);

/**
 * Batch normalization in training over x [rows, channels] (statistics over the rows):
 * mean, BIASED variance (one pass of per-thread partial sums of x − k and (x − k)², k the first
 * row, combined in double), then TF's
 * inv = rsqrt(var + eps)·gamma; y = x·inv + (beta − mean·inv), and max(y, 0) when relu != 0.
 * gamma / beta may be NULL (1 / 0). mean and variance [channels] receive the batch statistics.
 */
void ck_batchnorm_forward_training(int64_t rows, int64_t channels, const float *x,
                                   const float *gamma, const float *beta, float epsilon, int relu,
                                   float *y, float *mean, float *variance);

/** Inference: the same affine map with the moving statistics. */
void ck_batchnorm_forward_inference(int64_t rows, int64_t channels, const float *x,
                                    const float *gamma, const float *beta,
                                    const float *moving_mean, const float *moving_variance,
                                    float epsilon, int relu, float *y);

/**
 * Folds an inference-mode batch normalization into the affine map before it (a convolution
 * without activation): with the per-channel inv = rsqrt(var + eps)·gamma and
 * shift = beta − mean·inv of ck_batchnorm_forward_inference,
 *   kernel_out[r][c] = kernel[r][c]·inv[c],   bias_out[c] = bias[c]·inv[c] + shift[c],
 * so that x·kernel_out + bias_out = batchnorm(x·kernel + bias) up to rounding. kernel is
 * [rows, channels] (a Conv2D kernel [kh, kw, cin, cout] seen as [kh·kw·cin, cout]); bias,
 * gamma and beta may be NULL (0, 1, 0).
 */
void ck_batchnorm_fold(int64_t rows, int64_t channels, const float *kernel, const float *bias,
                       const float *gamma, const float *beta, const float *moving_mean,
                       const float *moving_variance, float epsilon, float *kernel_out,
                       float *bias_out);

/**
 * Backward, one reduction pass and one element-wise pass. mean / variance are the statistics the
 * forward pass normalised with (batch ones when training != 0, moving ones otherwise: then they
 * are constants and dx = dy·gamma·rstd). y_relu is the forward output when the ReLU was fused
 * (dy is masked by y > 0), else NULL. dx, dgamma, dbeta may each be NULL.
 */
void ck_batchnorm_backward(int64_t rows, int64_t channels, const float *x, const float *dy,
                           const float *y_relu, const float *mean, const float *variance,
                           const float *gamma, float epsilon, int training, float *dx,
                           float *dgamma, float *dbeta);

/**
 * Keras's moving statistics: moving = moving·momentum + batch·one_minus_momentum (momentum is the
 * weight on the OLD value; one_minus_momentum is 1 − momentum computed in double, then rounded).
 */
void ck_batchnorm_update_moving(int64_t channels, float momentum, float one_minus_momentum,
                                const float *mean, const float *variance, float *moving_mean,
                                float *moving_variance);

/** The per-channel formulas in double: the tests' references. */
void ck_batchnorm_forward_training_reference(int64_t rows, int64_t channels, const float *x,
                                             const float *gamma, const float *beta,
                                             float epsilon, int relu, float *y, float *mean,
                                             float *variance);
void ck_batchnorm_backward_reference(int64_t rows, int64_t channels, const float *x,
                                     const float *dy, const float *y_relu, const float *mean,
                                     const float *variance, const float *gamma, float epsilon,
                                     int training, float *dx, float *dgamma, float *dbeta);

/* ------------------------------------------------------------------------------------------ */
/* Recurrent layers (lstm.c, gru.c, simple_rnn.c; rnn_common.c) and QR (qr.c)                   */
/* ------------------------------------------------------------------------------------------ */
/*
 * Whole sequences at a time, Keras's weight layouts and gate orders:
 *   x: [B, T, in] (batch-major, as the layers get it), kernel W: [in, G·u],
 *   recurrent_kernel U: [u, G·u], G = 4 (LSTM: i, f, c, o), 3 (GRU: z, r, h), 1 (SimpleRNN).
 * Forward fills `saved` (size from the *_saved_size function; the layout is in each file) with
 * what backward needs, and writes any of: y_seq [B, T, u], the h of every step in processing
 * order (reversed when go_backwards, as Keras's return_sequences); h_last [B, u]; c_last [B, u]
 * (LSTM). Any output may be NULL. h0 / c0 [B, u] are the initial states, NULL for zeros.
 * Backward takes the upstream gradients of those outputs (NULL for none), a caller-owned
 * `scratch` (*_backward_scratch_size floats), and writes dx [B, T, in] (NULL to skip it: a
 * model's first layer reads the data, which needs no gradient), dkernel, drecurrent_kernel
 * (overwritten, not accumulated), dbias (NULL when there is no bias) and dh0 / dc0 (NULL to skip).
 * Each has a `_reference` of plain loops (per element, per step, sums in double) with the same
 * contract: the tests' reference. The references keep per-row temporaries on the stack and are
 * for u ≤ 512.
 */

int64_t ck_lstm_saved_size(int batch, int steps, int input_size, int units);
int64_t ck_lstm_backward_scratch_size(int batch, int steps, int input_size, int units);

/** LSTM forward: bias [4u] or NULL. See the section comment for the rest. */
void ck_lstm_forward(int batch, int steps, int input_size, int units, int go_backwards,
                     const float *x, const float *kernel, const float *recurrent_kernel,
                     const float *bias, const float *h0, const float *c0, float *saved,
                     float *y_seq, float *h_last, float *c_last);

/** LSTM backward through time from the upstream gradients of y_seq, h_last and c_last. */
void ck_lstm_backward(int batch, int steps, int input_size, int units, int go_backwards,
                      const float *kernel, const float *recurrent_kernel, const float *saved,
                      const float *dy_seq, const float *dh_last, const float *dc_last,
                      float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                      float *dbias, float *dh0, float *dc0);

void ck_lstm_forward_reference(int batch, int steps, int input_size, int units, int go_backwards,
                               const float *x, const float *kernel, const float *recurrent_kernel,
                               const float *bias, const float *h0, const float *c0, float *saved,
                               float *y_seq, float *h_last, float *c_last);
void ck_lstm_backward_reference(int batch, int steps, int input_size, int units, int go_backwards,
                                const float *kernel, const float *recurrent_kernel,
                                const float *saved, const float *dy_seq, const float *dh_last,
                                const float *dc_last, float *scratch, float *dx, float *dkernel,
                                float *drecurrent_kernel, float *dbias, float *dh0, float *dc0);

int64_t ck_gru_saved_size(int batch, int steps, int input_size, int units, int reset_after);
int64_t ck_gru_backward_scratch_size(int batch, int steps, int input_size, int units);

/**
 * GRU forward. reset_after = 1: bias [2, 3u] (row 0 input, row 1 recurrent) or NULL,
 * n = tanh(xh + r·(h·U_h + b_hh)); reset_after = 0: bias [3u] or NULL, n = tanh(xh + (r·h)·U_h).
 */
void ck_gru_forward(int batch, int steps, int input_size, int units, int reset_after,
                    int go_backwards, const float *x, const float *kernel,
                    const float *recurrent_kernel, const float *bias, const float *h0,
                    float *saved, float *y_seq, float *h_last);

/** GRU backward; dbias has the bias's shape ([2, 3u] or [3u]). */
void ck_gru_backward(int batch, int steps, int input_size, int units, int reset_after,
                     int go_backwards, const float *kernel, const float *recurrent_kernel,
                     const float *saved, const float *dy_seq, const float *dh_last,
                     float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                     float *dbias, float *dh0);

void ck_gru_forward_reference(int batch, int steps, int input_size, int units, int reset_after,
                              int go_backwards, const float *x, const float *kernel,
                              const float *recurrent_kernel, const float *bias, const float *h0,
                              float *saved, float *y_seq, float *h_last);
void ck_gru_backward_reference(int batch, int steps, int input_size, int units, int reset_after,
                               int go_backwards, const float *kernel,
                               const float *recurrent_kernel, const float *saved,
                               const float *dy_seq, const float *dh_last, float *scratch,
                               float *dx, float *dkernel, float *drecurrent_kernel, float *dbias,
                               float *dh0);

int64_t ck_simple_rnn_saved_size(int batch, int steps, int input_size, int units);
int64_t ck_simple_rnn_backward_scratch_size(int batch, int steps, int input_size, int units);

/** SimpleRNN forward: h = act(x·W + b + h·U), bias [u] or NULL. */
void ck_simple_rnn_forward(int batch, int steps, int input_size, int units, ck_activation act,
                           int go_backwards, const float *x, const float *kernel,
                           const float *recurrent_kernel, const float *bias, const float *h0,
                           float *saved, float *y_seq, float *h_last);

/** SimpleRNN backward (act' from the saved outputs, as TF). */
void ck_simple_rnn_backward(int batch, int steps, int input_size, int units, ck_activation act,
                            int go_backwards, const float *kernel, const float *recurrent_kernel,
                            const float *saved, const float *dy_seq, const float *dh_last,
                            float *scratch, float *dx, float *dkernel, float *drecurrent_kernel,
                            float *dbias, float *dh0);

void ck_simple_rnn_forward_reference(int batch, int steps, int input_size, int units,
                                     ck_activation act, int go_backwards, const float *x,
                                     const float *kernel, const float *recurrent_kernel,
                                     const float *bias, const float *h0, float *saved,
                                     float *y_seq, float *h_last);
void ck_simple_rnn_backward_reference(int batch, int steps, int input_size, int units,
                                      ck_activation act, int go_backwards, const float *kernel,
                                      const float *recurrent_kernel, const float *saved,
                                      const float *dy_seq, const float *dh_last, float *scratch,
                                      float *dx, float *dkernel, float *drecurrent_kernel,
                                      float *dbias, float *dh0);

/**
 * The activation the recurrent kernels apply to their gates and states, y[i] = act(x[i]) on the
 * active ISA path (y may equal x). Sigmoid and tanh are gate_math.h's, cheaper than vmath's:
 * tanh a rational approximation within 3.5e-7 absolute, sigmoid within 3.2 ulp (9e-8 absolute),
 * the same bits on every path. Exposed so that the tests can hold it to those bounds.
 */
void ck_rnn_activation(ck_activation act, int64_t n, const float *x, float *y);

/**
 * The orthogonal factor of a thin QR: a [m, n] (row-major, m ≥ n) is overwritten with Q [m, n],
 * orthonormal columns, signed so that R's diagonal is positive (Keras's orthogonal initializer:
 * q · sign(diag(r))). work: 2n floats. Householder reflections, sums in double.
 */
void ck_qr_orthonormal(int m, int n, float *a, float *work);

/* ------------------------------------------------------------------------------------------ */
/* Activations (activation.c), dropout (dropout.c), embedding (embedding.c), truncated normal    */
/* numbers (random_truncated.c): the core layers' kernels                                        */
/* ------------------------------------------------------------------------------------------ */

/** The element-wise activations beyond ck_unary's relu/sigmoid/tanh (formulas: activation.c). */
typedef enum ck_act_fn {
    CK_ACT_FN_ELU = 0,       /* x > 0 ? x : α(eˣ − 1) */
    CK_ACT_FN_SELU,          /* λ·elu(x, α) with Keras's fixed λ, α */
    CK_ACT_FN_LEAKY_RELU,    /* x > 0 ? x : αx */
    CK_ACT_FN_GELU,          /* (x/2)(1 + erf(x/√2)), the exact form */
    CK_ACT_FN_GELU_TANH,     /* (x/2)(1 + tanh(√(2/π)(x + 0.044715x³))) */
    CK_ACT_FN_SWISH,         /* x·σ(x) (= silu) */
    CK_ACT_FN_SOFTPLUS,      /* log(1 + eˣ), stable */
    CK_ACT_FN_SOFTSIGN,      /* x / (1 + |x|) */
    CK_ACT_FN_RELU6,         /* min(max(x, 0), 6) */
    CK_ACT_FN_HARD_SIGMOID,  /* relu6(x + 3) / 6 */
    CK_ACT_FN_HARD_SILU,     /* x·hard_sigmoid(x) (= hard_swish) */
    CK_ACT_FN_EXPONENTIAL,   /* eˣ */
    CK_ACT_FN_MISH,          /* x·tanh(softplus(x)) */
} ck_act_fn;

/** y[i] = fn(x[i]); alpha is elu's α or leaky_relu's slope (ignored by the others). */
void ck_activation_forward(ck_act_fn fn, float alpha, int64_t n, const float *x, float *y);

/**
 * dx[i] = dy[i]·fn'(x[i]), TF's gradient formulas (elu/selu use y = fn(x), which the others
 * ignore; y may be NULL for them). Slopes at the kinks: elu 1 (α), leaky_relu α, relu6 0.
 */
void ck_activation_backward(ck_act_fn fn, float alpha, int64_t n, const float *x, const float *y,
                            const float *dy, float *dx);

/** The defining formulas in double precision, element by element: the tests' references. */
void ck_activation_forward_reference(ck_act_fn fn, float alpha, int64_t n, const float *x, float *y);
void ck_activation_backward_reference(ck_act_fn fn, float alpha, int64_t n, const float *x,
                                      const float *dy, float *dx);

/** y[i] = erf(x[i]), vectorised, within 2 ulp of the correctly rounded value. */
void ck_erf(int64_t n, const float *x, float *y);
/** libm's erff, element by element. */
void ck_erf_reference(int64_t n, const float *x, float *y);

/**
 * Training-time dropout: mask[i] = 1/(1 − rate) with probability 1 − rate, else 0 (all 0 when
 * rate ≥ 1), drawn from the counter-based stream at (seed, offset + i); y[i] = x[i]·mask[i].
 */
void ck_dropout_forward(int64_t n, uint64_t seed, uint64_t offset, float rate, const float *x,
                        float *y, float *mask);
void ck_dropout_forward_reference(int64_t n, uint64_t seed, uint64_t offset, float rate,
                                  const float *x, float *y, float *mask);

/**
 * Embedding lookup: y[r, :] = table[int(indices[r]), :] with table [input_dim, dim], indices
 * float-valued and truncated toward zero as TF's cast. Returns -1, or the position of the first
 * index outside [0, input_dim) (NaN included), in which case nothing is written.
 */
int64_t ck_embedding_forward(int64_t count, int64_t dim, int64_t input_dim, const float *table,
                             const float *indices, float *y);

/** dtable = 0, then dtable[int(indices[r]), :] += dy[r, :] in row order. Indices must be valid. */
void ck_embedding_backward(int64_t count, int64_t dim, int64_t input_dim, const float *indices,
                           const float *dy, float *dtable);

void ck_embedding_forward_reference(int64_t count, int64_t dim, const float *table,
                                    const float *indices, float *y);
void ck_embedding_backward_reference(int64_t count, int64_t dim, int64_t input_dim,
                                     const float *indices, const float *dy, float *dtable);

/** mask[i] = int(indices[i]) != 0 ? 1 : 0: Embedding(mask_zero=True)'s mask. */
void ck_embedding_mask_zero(int64_t n, const float *indices, float *mask);

/**
 * Normal(mean, stddev) truncated at ±2 stddev: each element redrawn until inside, as TF's
 * stateless_truncated_normal; counter-based like ck_random_normal (n counters per call).
 */
void ck_random_truncated_normal(int64_t n, uint64_t seed, uint64_t offset, float mean,
                                float stddev, float *y);
void ck_random_truncated_normal_reference(int64_t n, uint64_t seed, uint64_t offset, float mean,
                                          float stddev, float *y);

/* ------------------------------------------------------------------------------------------ */
/* Sampling (sampling.c): the embedded synthetic data set                                       */
/* ------------------------------------------------------------------------------------------ */

/**
 * n synthetic 28×28 images in [0, 1] (images: [n, 784]) and their classes 0..9 (labels: [n],
 * as float): oriented gratings under noise, class = orientation. The stand-in for Fashion-MNIST.
 */
void ck_synthetic_images(int64_t n, uint64_t seed, float *images, float *labels);

/* ------------------------------------------------------------------------------------------ */
/* LSTM inference (lstm_inference.c)                                                            */
/* ------------------------------------------------------------------------------------------ */

/** Floats of scratch ck_lstm_inference needs: [in+u, 4u] + [B, in+u] + [B, 4u] + [B, u]. */
int64_t ck_lstm_inference_scratch_size(int batch, int steps, int input_size, int units);

/**
 * LSTM forward without anything saved for backward (predict, training = false): one GEMM per
 * step, [x_t | h]·[W ; U] + b, and one fused gate pass; same arguments and outputs as
 * ck_lstm_forward (y_seq, h_last, c_last each optional), `scratch` instead of `saved`.
 */
void ck_lstm_inference(int batch, int steps, int input_size, int units, int go_backwards,
                       const float *x, const float *kernel, const float *recurrent_kernel,
                       const float *bias, const float *h0, const float *c0, float *scratch,
                       float *y_seq, float *h_last, float *c_last);
void ck_lstm_inference_reference(int batch, int steps, int input_size, int units,
                                 int go_backwards, const float *x, const float *kernel,
                                 const float *recurrent_kernel, const float *bias, const float *h0,
                                 const float *c0, float *scratch, float *y_seq, float *h_last,
                                 float *c_last);

/* ------------------------------------------------------------------------------------------ */
/* More activations (activation_extra.c): Keras 3's remaining activation strings                */
/* ------------------------------------------------------------------------------------------ */

/** Element-wise activations with up to two parameters a, b (formulas: activation_extra.c). */
typedef enum ck_act2_fn {
    CK_ACT2_CELU = 0,       /* max(x,0) + a·expm1(min(x,0)/a); Keras a = 1 */
    CK_ACT2_HARD_TANH,      /* clip(x, −1, 1) */
    CK_ACT2_HARD_SHRINK,    /* |x| > a ? x : 0; Keras a = 0.5 */
    CK_ACT2_SOFT_SHRINK,    /* x > a ? x − a : x < −a ? x + a : 0; Keras a = 0.5 */
    CK_ACT2_TANH_SHRINK,    /* x − tanh(x) */
    CK_ACT2_LOG_SIGMOID,    /* −softplus(−x), stable */
    CK_ACT2_SPARSE_PLUS,    /* 0, (x+1)²/4, x on (−∞,−1], (−1,1), [1,∞) */
    CK_ACT2_SPARSE_SIGMOID, /* 0, (x+1)/2, 1 on (−∞,−1], (−1,1), [1,∞) */
    CK_ACT2_SQUAREPLUS,     /* (x + √(x² + a))/2; Keras a (b) = 4 */
    CK_ACT2_THRESHOLD,      /* x > a ? x : b */
} ck_act2_fn;

/** y[i] = fn(x[i]; a, b). */
void ck_activation2_forward(ck_act2_fn fn, float a, float b, int64_t n, const float *x, float *y);
/** dx[i] = dy[i]·fn'(x[i]) as TF's autodiff of Keras's expression (celu'(0) = 2, see the file). */
void ck_activation2_backward(ck_act2_fn fn, float a, float b, int64_t n, const float *x,
                             const float *dy, float *dx);
void ck_activation2_forward_reference(ck_act2_fn fn, float a, float b, int64_t n, const float *x,
                                      float *y);
void ck_activation2_backward_reference(ck_act2_fn fn, float a, float b, int64_t n,
                                       const float *x, const float *dy, float *dx);

/** glu over the last axis: x [rows, 2·half] = [a | b] per row, y [rows, half] = a·σ(b). */
void ck_glu_forward(int64_t rows, int64_t half, const float *x, float *y);
/** dx [rows, 2·half] from dy [rows, half]. */
void ck_glu_backward(int64_t rows, int64_t half, const float *x, const float *dy, float *dx);
void ck_glu_forward_reference(int64_t rows, int64_t half, const float *x, float *y);
void ck_glu_backward_reference(int64_t rows, int64_t half, const float *x, const float *dy,
                               float *dx);

/** Keras's sparsemax over each row of x [rows, n] (its τ, which sums the support's cumsums). */
void ck_sparsemax_forward(int64_t rows, int64_t n, const float *x, float *y);
/** TF's gradient of that expression (ties in the sort by index). */
void ck_sparsemax_backward(int64_t rows, int64_t n, const float *x, const float *dy, float *dx);
void ck_sparsemax_forward_reference(int64_t rows, int64_t n, const float *x, float *y);
void ck_sparsemax_backward_reference(int64_t rows, int64_t n, const float *x, const float *dy,
                                     float *dx);

/* ------------------------------------------------------------------------------------------ */
/* Keras masks (mask.c)                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** Writes the positions i < n with mask[i] != 0 to indices (room for n) and returns their count. */
int64_t ck_mask_kept_indices(int64_t n, const float *mask, int32_t *indices);

/* ------------------------------------------------------------------------------------------ */
/* Per-thread scratch buffers (scratch.c)                                                      */
/* ------------------------------------------------------------------------------------------ */

/** How many scratch buffers (GEMM packing, convolution columns) the calling thread holds; they
 *  are freed when the thread exits. For the tests. */
int ck_scratch_thread_buffers(void);
/** How many scratch buffers exiting threads have freed since the process started. */
int64_t ck_scratch_released_buffers(void);

#ifdef __cplusplus
}
#endif

#endif /* CKERNELS_H */
