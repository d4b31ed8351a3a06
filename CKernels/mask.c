/*
 * mask.c — Keras masks as row selections.
 *
 * A Keras mask marks which entries of a prediction count (1) and which are padding (0). The
 * metrics weight their per-entry scores by it; with 0/1 weights that is the same as scoring only
 * the kept rows, so the accuracy kernels run unchanged on the rows this kernel lists.
 *
 *   mask: [n] (any float; nonzero = kept)  →  indices: [count] of the kept positions, in order
 *
 * One sequential pass (n is a batch's time steps: tiny next to the scoring); it is its own
 * reference.
 */
#include "internal.h"

int64_t ck_mask_kept_indices(int64_t n, const float *mask, int32_t *indices) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i] != 0.0f) indices[count++] = (int32_t)i;
    return count;
}
