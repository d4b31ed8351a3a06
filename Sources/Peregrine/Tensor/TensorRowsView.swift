extension Tensor {
    /// Rows `range` of the leading axis without copying them: a tensor whose storage is a view
    /// of this one's (kept alive by it; a write through the view copies first, so neither tensor
    /// ever sees the other change). What `predict`, `evaluate` and unshuffled `fit` cut their
    /// batches with: a batch of 256 MNIST rows is 800 KB that a slice would copy on one thread
    /// while the model's kernels run on all of them.
    ///
    /// ```swift
    /// let batch = images.rowsView(0..<256)   // == images[0..<256], no copy
    /// ```
    func rowsView(_ range: Range<Int>) throws -> Tensor {
        guard rank >= 1, range.lowerBound >= 0, range.upperBound <= shape[0] else {
            throw PeregrineError.invalidArgument(
                operation: "rows", expected: "a range within 0..<\(rank >= 1 ? shape[0] : 0) of a tensor with rows",
                actual: "\(range) of shape \(shape)")
        }
        let rowSize = shape.dropFirst().reduce(1, *)
        let view = TensorStorage<Float>(viewing: storage, offset: range.lowerBound * rowSize, count: range.count * rowSize)
        return Tensor(shape: [range.count] + shape.dropFirst(), storage: view)
    }
}
