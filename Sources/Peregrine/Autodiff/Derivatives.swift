import CKernels

/// The backward passes of the Tensor operations: each public op records one of these on the
/// recording tapes (``Tensor/recorded(_:inputs:backward:)``). The formulas are TensorFlow's
/// gradient registrations, so Peregrine's gradients match Keras's, sub-gradients included;
/// the element-wise ones are single C passes (`ck_unary_backward`, `ck_minmax_backward`, …).
extension Tensor {
    /// A gradient of a broadcast result summed back to an input's `target` shape: over the
    /// leading axes the input lacked and over the axes where it had size 1.
    func summed(toShape target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, size) in target.enumerated() where size == 1 && shape[lead + i] != 1 {
            axes.append(lead + i)
        }
        let reduced = axes.isEmpty ? self : try sum(axes: axes, keepDims: true)
        return try reduced.reshaped(to: target)
    }

    /// The inputs of a broadcast op materialised at the output shape (element-wise backward
    /// kernels need aligned operands); no copy when the shapes already agree.
    private func materialized(_ target: [Int]) throws -> Tensor {
        shape == target ? self : try broadcasted(to: target)
    }

    /// Gradients of `op(a, b)` (broadcasting) with respect to a and b.
    static func broadcastingBackward(
        _ op: ck_binary_op, _ a: Tensor, _ b: Tensor, result: Tensor, upstream g: Tensor
    ) throws -> [Tensor?] {
        switch op {
        case CK_BINARY_ADD:
            return [try g.summed(toShape: a.shape), try g.summed(toShape: b.shape)]
        case CK_BINARY_SUB:
            return [try g.summed(toShape: a.shape), try (-g).summed(toShape: b.shape)]
        case CK_BINARY_MUL:
            return [try (g * b).summed(toShape: a.shape), try (g * a).summed(toShape: b.shape)]
        case CK_BINARY_DIV:
            // TF's _RealDivGrad: g / y and g · ((−x / y) / y).
            return [
                try (g / b).summed(toShape: a.shape),
                try (g * ((-a) / b / b)).summed(toShape: b.shape),
            ]
        case CK_BINARY_POW, CK_BINARY_MAX, CK_BINARY_MIN:
            let x = try a.materialized(result.shape), y = try b.materialized(result.shape)
            let dx = Tensor(uninitializedShape: result.shape)
            let dy = Tensor(uninitializedShape: result.shape)
            let n = Int64(result.scalarCount)
            if op == CK_BINARY_POW {
                ck_pow_backward(n, x.pointer, y.pointer, result.pointer, g.pointer, dx.pointer, dy.pointer)
            } else {
                ck_minmax_backward(
                    op == CK_BINARY_MAX ? 1 : 0, n, x.pointer, y.pointer, g.pointer, dx.pointer,
                    dy.pointer)
            }
            return [try dx.summed(toShape: a.shape), try dy.summed(toShape: b.shape)]
        default:
            return [nil, nil]
        }
    }

    /// Gradient of `op(self, scalar)` (or `op(scalar, self)`) with respect to self.
    func combinedBackward(
        _ op: ck_binary_op, scalar s: Float, scalarFirst: Bool, upstream g: Tensor
    ) -> Tensor? {
        switch op {
        case CK_BINARY_ADD: return g
        case CK_BINARY_SUB: return scalarFirst ? -g : g
        case CK_BINARY_MUL: return g * s
        case CK_BINARY_DIV:
            // s / x: g · ((−s / x) / x), TF's order of rounding; x / s: g / s.
            guard scalarFirst else { return g / s }
            let negated = (-s) / self
            return try? g * (negated / self)
        default: return nil
        }
    }

    /// Gradient of the element-wise `op` with output `result`.
    func unaryBackward(_ op: ck_unary_op, result: Tensor, upstream g: Tensor) -> Tensor {
        let dx = Tensor(uninitializedShape: shape)
        ck_unary_backward(op, Int64(scalarCount), pointer, result.pointer, g.pointer, dx.pointer)
        return dx
    }

    /// Gradient of a sum/mean/max/min reduction whose kept-dims output is `resultKept`.
    func reductionBackward(
        _ op: ck_reduce_op, axes: [Int], resultKept: Tensor, upstream g: Tensor
    ) throws -> Tensor {
        let spread = try g.reshaped(to: resultKept.shape).broadcasted(to: shape)
        switch op {
        case CK_REDUCE_SUM:
            return spread
        case CK_REDUCE_MEAN:
            let count = axes.reduce(1) { $0 * shape[$1] }
            return spread / Float(Swift.max(count, 1))
        default:
            // TF's _MaxGrad/_MinGrad: the gradient is shared equally among the tied extremes.
            let extremes = try resultKept.broadcasted(to: shape)
            let indicators = Tensor(uninitializedShape: shape)
            ck_equal_mask(Int64(scalarCount), pointer, extremes.pointer, indicators.pointer)
            let selected = try indicators.sum(axes: axes, keepDims: true)
            return try (indicators / selected) * spread
        }
    }
}

/// The gradients of a matrix product (``matmul(_:_:)``): `da = g·bᵀ`, `db = aᵀ·g`, each one
/// GEMM with transpose flags (per batch item when both sides are batched).
func matrixProductBackward(_ a: Tensor, _ b: Tensor, upstream g: Tensor) -> [Tensor?] {
    let k = a.shape[a.rank - 1], m = a.shape[a.rank - 2], n = b.shape[b.rank - 1]
    let batch = a.rank == 3 ? a.shape[0] : 1
    let da = Tensor(uninitializedShape: a.shape)
    let db = Tensor(uninitializedShape: b.shape)
    if n == 0 {
        ck_fill(Int64(da.scalarCount), 0, da.pointer)
        ck_fill(Int64(db.scalarCount), 0, db.pointer)
        return [da, db]
    }
    if b.rank == 2 {
        // Rows of every batch item together: da[BM×K] = g[BM×N]·bᵀ, db[K×N] = a[BM×K]ᵀ·g.
        GEMM.sgemm(
            transA: false, transB: true, m: batch * m, n: k, k: n, alpha: 1, a: g.pointer, lda: n,
            b: b.pointer, ldb: n, beta: 0, c: da.pointer, ldc: Swift.max(k, 1))
        GEMM.sgemm(
            transA: true, transB: false, m: k, n: n, k: batch * m, alpha: 1, a: a.pointer,
            lda: Swift.max(k, 1), b: g.pointer, ldb: n, beta: 0, c: db.pointer, ldc: n)
    } else {
        for i in 0..<batch {
            GEMM.sgemm(
                transA: false, transB: true, m: m, n: k, k: n, alpha: 1, a: g.pointer + i * m * n,
                lda: n, b: b.pointer + i * k * n, ldb: n, beta: 0, c: da.pointer + i * m * k,
                ldc: Swift.max(k, 1))
            GEMM.sgemm(
                transA: true, transB: false, m: k, n: n, k: m, alpha: 1, a: a.pointer + i * m * k,
                lda: Swift.max(k, 1), b: g.pointer + i * m * n, ldb: n, beta: 0,
                c: db.pointer + i * k * n, ldc: n)
        }
    }
    return [da, db]
}
