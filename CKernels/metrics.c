/*
 * metrics.c — accuracy counts for the training loop's metrics, one pass over the predictions.
 *
 * Each returns a sum over rows of a per-row score (0/1 for the categorical ones, the fraction of
 * matching elements for binary accuracy), so that the Swift side can keep a batch-size-weighted
 * running mean exactly as Keras's MeanMetricWrapper does. Ties in argmax go to the first
 * maximum, as ops.argmax does.
 */
#include "internal.h"

static int64_t row_argmax(int64_t cols, const float *x) {
    int64_t best = 0;
    for (int64_t j = 1; j < cols; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* pred: [rows, cols]; labels: [rows] class indices stored as float. */
double ck_accuracy_sparse(int64_t rows, int64_t cols, const float *pred, const float *labels) {
    double correct = 0;
    for (int64_t r = 0; r < rows; r++)
        correct += (float)row_argmax(cols, pred + r * cols) == labels[r];
    return correct;
}

/* pred, target: [rows, cols]; a row counts when both argmaxes agree. */
double ck_accuracy_categorical(int64_t rows, int64_t cols, const float *pred, const float *target) {
    double correct = 0;
    for (int64_t r = 0; r < rows; r++)
        correct += row_argmax(cols, pred + r * cols) == row_argmax(cols, target + r * cols);
    return correct;
}

/* pred, target: [rows, cols]; per row, the fraction of (pred > threshold) == target. */
double ck_accuracy_binary(int64_t rows, int64_t cols, const float *pred, const float *target,
                          float threshold) {
    double total = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t matches = 0;
        for (int64_t j = 0; j < cols; j++)
            matches += (pred[r * cols + j] > threshold ? 1.0f : 0.0f) == target[r * cols + j];
        total += cols > 0 ? (double)matches / (double)cols : 0.0;
    }
    return total;
}
