/*
 * qr.c — the orthogonal factor of a thin QR decomposition, for Keras's `orthogonal` initializer.
 *
 * Householder QR as LAPACK's sgeqr2 + sorg2r, unblocked: the matrices are weight shapes
 * (at most a few thousand on a side) and the initializer runs once per weight, so clarity wins
 * over blocking. Dot products and norms accumulate in double, which keeps Qᵀ·Q within a few
 * float ulps of I even for the 512 × 128 blocks of an LSTM.
 *
 *   1. for j < n: the reflector H_j = I − τ_j v_j v_jᵀ that zeroes A[j+1:, j]; A[j, j] = R[j, j];
 *      v_j (v_j[0] = 1 implied) is stored below the diagonal; H_j is applied to A[j:, j+1:].
 *   2. Q = H_0 H_1 … H_{n−1} I[:, :n], formed in place from the last reflector back (sorg2r).
 *   3. column j of Q times sign(R[j, j]), so R's diagonal is positive: the unique thin QR, the
 *      same Q whatever algorithm (numpy's LAPACK, TF's) produced it — Keras's `q *= sign(diag(r))`.
 */
#include "internal.h"

#include <math.h>

void ck_qr_orthonormal(int m, int n, float *a, float *work) {
    float *tau = work, *sign = work + n;
    const int64_t ld = n;
    for (int j = 0; j < n; j++) {
        float *col = a + j; /* column j, stride ld */
        double alpha = col[(int64_t)j * ld], xnorm2 = 0.0;
        for (int i = j + 1; i < m; i++) xnorm2 += (double)col[i * ld] * col[i * ld];
        if (xnorm2 == 0.0) {
            tau[j] = 0.0f;
            sign[j] = alpha < 0.0 ? -1.0f : 1.0f;
            continue;
        }
        double beta = -copysign(sqrt(alpha * alpha + xnorm2), alpha);
        tau[j] = (float)((beta - alpha) / beta);
        double scale = 1.0 / (alpha - beta);
        for (int i = j + 1; i < m; i++) col[i * ld] = (float)(col[i * ld] * scale);
        col[(int64_t)j * ld] = (float)beta;
        sign[j] = beta < 0.0 ? -1.0f : 1.0f;
        /* A[j:, j+1:] -= τ v (vᵀ A[j:, j+1:]) */
        for (int c = j + 1; c < n; c++) {
            double w = a[(int64_t)j * ld + c];
            for (int i = j + 1; i < m; i++) w += (double)col[i * ld] * a[i * ld + c];
            float tw = (float)(tau[j] * w);
            a[(int64_t)j * ld + c] -= tw;
            for (int i = j + 1; i < m; i++) a[i * ld + c] -= col[i * ld] * tw;
        }
    }
    /* Q in place, last reflector first */
    for (int j = n - 1; j >= 0; j--) {
        float *col = a + j;
        if (j < n - 1) {
            col[(int64_t)j * ld] = 1.0f;
            for (int c = j + 1; c < n; c++) {
                double w = 0.0;
                for (int i = j; i < m; i++) w += (double)col[i * ld] * a[i * ld + c];
                float tw = (float)(tau[j] * w);
                for (int i = j; i < m; i++) a[i * ld + c] -= col[i * ld] * tw;
            }
        }
        for (int i = j + 1; i < m; i++) col[i * ld] = -tau[j] * col[i * ld];
        col[(int64_t)j * ld] = 1.0f - tau[j];
        for (int i = 0; i < j; i++) col[i * ld] = 0.0f;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) a[(int64_t)i * ld + j] *= sign[j];
}
