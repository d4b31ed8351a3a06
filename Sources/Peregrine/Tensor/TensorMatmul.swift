import CKernels

/// Matrix products through ``GEMM`` (Peregrine's kernel or OpenBLAS, whichever is selected).
///
/// Supported shapes (row-major):
/// - `[M, K] · [K, N] → [M, N]`
/// - `[B, M, K] · [K, N] → [B, M, N]` (one GEMM over B·M rows: a Dense layer on a sequence)
/// - `[B, M, K] · [B, K, N] → [B, M, N]` (B independent products)
///
/// ```swift
/// let a: Tensor = [[1, 2], [3, 4]]
/// let b: Tensor = [[5], [6]]
/// try matmul(a, b)   // [[17.0], [39.0]]
/// ```
public func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try matrixProduct(a, b)
}

func matrixProduct(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    let operation = "matmul"
    func mismatch() -> PeregrineError {
        .invalidArgument(
            operation: operation,
            expected: "[M, K]·[K, N], [B, M, K]·[K, N] or [B, M, K]·[B, K, N]",
            actual: "\(a.shape)·\(b.shape)")
    }
    guard (a.rank == 2 || a.rank == 3), (b.rank == 2 || b.rank == 3), !(a.rank == 2 && b.rank == 3)
    else { throw mismatch() }
    let k = a.shape[a.rank - 1], m = a.shape[a.rank - 2]
    guard b.shape[b.rank - 2] == k else { throw mismatch() }
    let n = b.shape[b.rank - 1]
    let batch = a.rank == 3 ? a.shape[0] : 1
    if b.rank == 3 && b.shape[0] != batch { throw mismatch() }
    // ck_sgemm takes int sizes.
    let limit = Int(Int32.max)
    guard batch * m <= limit, n <= limit, k <= limit else {
        throw PeregrineError.invalidArgument(
            operation: operation, expected: "dimensions below 2^31", actual: "\(a.shape)·\(b.shape)")
    }
    let outShape = a.rank == 3 ? [batch, m, n] : [m, n]
    let result = Tensor(uninitializedShape: outShape)
    if k == 0 {  // an empty sum: zeros, without asking the GEMM about a degenerate product
        ck_fill(Int64(result.scalarCount), 0, result.pointer)
        return result.recorded(operation, inputs: [a, b]) { g in matrixProductBackward(a, b, upstream: g) }
    }
    if b.rank == 2 {
        // [B·M, K]·[K, N]: the batch folds into the rows, one GEMM.
        GEMM.sgemm(transA: false, transB: false, m: batch * m, n: n, k: k, alpha: 1,
                   a: a.pointer, lda: Swift.max(k, 1), b: b.pointer, ldb: Swift.max(n, 1),
                   beta: 0, c: result.pointer, ldc: Swift.max(n, 1))
    } else {
        for i in 0..<batch {
            GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                       a: a.pointer + i * m * k, lda: Swift.max(k, 1),
                       b: b.pointer + i * k * n, ldb: Swift.max(n, 1),
                       beta: 0, c: result.pointer + i * m * n, ldc: Swift.max(n, 1))
        }
    }
    return result.recorded(operation, inputs: [a, b]) { g in matrixProductBackward(a, b, upstream: g) }
}

extension Tensor {
    /// The matrix product `self · other`; see ``matmul(_:_:)`` for the supported shapes.
    ///
    /// ```swift
    /// let y = try x.matmul(weights)
    /// ```
    public func matmul(_ other: Tensor) throws -> Tensor {
        try matrixProduct(self, other)
    }
}
