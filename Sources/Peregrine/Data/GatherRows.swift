import CKernels

extension Tensor {
    /// The rows (slices along the first axis) at `indices`, in that order: `x[indices[i], ...]`.
    /// The result's shape is `indices.shape + shape.dropFirst()`. Shuffled batches are this.
    ///
    /// Not recorded on a ``GradientTape`` (it is for input data). Throws when the tensor is a
    /// scalar or an index is not a row.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2], [3, 4], [5, 6]]
    /// try x.gatherRows([2, 0])   // [[5.0, 6.0], [1.0, 2.0]]
    /// ```
    public func gatherRows(_ indices: IntTensor) throws -> Tensor {
        guard rank >= 1 else {
            throw PeregrineError.invalidArgument(
                operation: "gatherRows", expected: "a tensor with rows (rank >= 1)", actual: "a scalar")
        }
        let rows = shape[0]
        if let bad = indices.withUnsafeBufferPointer({ $0.firstIndex { $0 < 0 || Int($0) >= rows } }) {
            throw PeregrineError.invalidArgument(
                operation: "gatherRows", expected: "row indices in 0..<\(rows) (shape \(shape))",
                actual: "\(indices.scalars[bad]) at position \(bad)")
        }
        try Shape.checkRank(indices.rank + rank - 1, operation: "gatherRows")
        return gatherRowsUnchecked(indices)
    }

    /// `gatherRows` for indices known to be valid rows (the dataset's permutations).
    func gatherRowsUnchecked(_ indices: IntTensor) -> Tensor {
        let rowShape = Array(shape.dropFirst())
        let result = Tensor(uninitializedShape: indices.shape + rowShape)
        ck_gather_rows(Int64(indices.scalarCount), Int64(rowShape.reduce(1, *)), pointer,
                       indices.storage.pointer, result.pointer)
        return result
    }
}
