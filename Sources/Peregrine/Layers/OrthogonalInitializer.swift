import CKernels

extension Initializer {
    /// Keras's `Orthogonal(gain)`: the weight viewed as `[rows, cols]` (rows = product of all
    /// but the last axis) gets orthonormal rows (rows ≤ cols) or columns (rows > cols), times
    /// `gain`. As Keras: draw N(0, 1) `[max(r, c), min(r, c)]` from ``RandomGenerator``, take Q of
    /// its QR with `Q · sign(diag(R))` (C: `ck_qr_orthonormal`, Householder), transpose when
    /// rows < cols. The recurrent kernels' default: for an LSTM's `[u, 4u]` the whole matrix
    /// has orthonormal rows (the per-gate blocks are not each orthogonal).
    ///
    /// ```swift
    /// let lstm = LSTM(units: 32, recurrentInitializer: .orthogonal(gain: 1))
    /// let q = try Initializer.orthogonal()([4, 16])   // q · qᵀ ≈ I₄
    /// ```
    public static func orthogonal(gain: Float = 1) -> Initializer {
        Initializer(name: "orthogonal") { shape in
            guard shape.count >= 2 else {
                throw PeregrineError.invalidArgument(
                    operation: "orthogonal initializer", expected: "a shape of rank >= 2", actual: "\(shape)")
            }
            let rows = shape.dropLast().reduce(1, *), cols = shape[shape.count - 1]
            let m = Swift.max(rows, cols), n = Swift.min(rows, cols)
            let a = RandomGenerator.normal([m, n], mean: 0, stddev: 1)
            if n > 0 {
                let work = Tensor(uninitializedShape: [2 * n])
                ck_qr_orthonormal(Int32(m), Int32(n), a.pointer, work.pointer)
            }
            let q = rows < cols ? try a.transposed() : a
            let scaled = gain == 1 ? q : q * gain
            return try scaled.reshaped(to: shape)
        }
    }
}
