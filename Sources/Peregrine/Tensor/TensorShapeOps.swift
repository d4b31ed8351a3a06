import CKernels

/// Reshape, transpose/permute, broadcast, concatenation, and adding or removing size-1 axes.
///
/// ```swift
/// let x = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// try x.reshaped(to: [3, -1]).shape    // [3, 2]
/// try x.transposed().shape             // [3, 2]
/// try Tensor.concatenate([x, x], axis: 1).shape   // [2, 6]
/// ```
extension Tensor {
    /// The same elements under a new shape with the same count; one dimension may be -1 and is
    /// inferred. Shares the storage (no copy).
    ///
    /// ```swift
    /// let flat = try images.reshaped(to: [batch, -1])
    /// ```
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        Tensor(shape: try Shape.reshape(shape, to: newShape), storage: storage)
            .recorded("reshape", inputs: [self]) { [shape] g in [try g.reshaped(to: shape)] }
    }

    /// The axes reordered: axis `i` of the result is axis `axes[i]` of `self` (NumPy's transpose).
    ///
    /// ```swift
    /// let nchw = try nhwc.permuted([0, 3, 1, 2])
    /// ```
    public func permuted(_ axes: [Int]) throws -> Tensor {
        guard axes.count == rank else {
            throw PeregrineError.invalidArgument(
                operation: "permute", expected: "a permutation of 0..<\(rank)", actual: "\(axes)")
        }
        let normalized = try axes.map { try Shape.normalize(axis: $0, rank: rank, operation: "permute") }
        guard Set(normalized).count == rank else {
            throw PeregrineError.invalidArgument(
                operation: "permute", expected: "a permutation of 0..<\(rank)", actual: "\(axes)")
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in normalized.enumerated() { inverse[axis] = i }
        return permutedUnchecked(normalized).recorded("permute", inputs: [self]) { g in
            [g.permutedUnchecked(inverse)]
        }
    }

    /// permuted(_:) for axes already checked (internal).
    func permutedUnchecked(_ axes: [Int]) -> Tensor {
        let strides = Shape.contiguousStrides(shape)
        return Tensor.gather(shape: axes.map { shape[$0] }, from: pointer, strides: axes.map { strides[$0] })
    }

    /// The axes in reverse order; a matrix's transpose.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2, 3]]
    /// try x.transposed().shape   // [3, 1]
    /// ```
    public func transposed() throws -> Tensor {
        try permuted(Array((0..<rank).reversed()))
    }

    /// The tensor materialised at a larger shape by NumPy broadcasting.
    ///
    /// ```swift
    /// try Tensor([1, 2]).broadcasted(to: [3, 2]).shape   // [3, 2]
    /// ```
    public func broadcasted(to target: [Int]) throws -> Tensor {
        let operation = "broadcast"
        try Shape.validate(target, operation: operation)
        guard try Shape.broadcast(shape, target, operation: operation) == target else {
            throw PeregrineError.incompatibleShapes(operation: operation, lhs: shape, rhs: target)
        }
        return Tensor.gather(shape: target, from: pointer, strides: Shape.broadcastStrides(shape, to: target))
            .recorded(operation, inputs: [self]) { [shape] g in [try g.summed(toShape: shape)] }
    }

    /// A size-1 axis inserted at `axis` (which may be `rank`, or negative from the end).
    ///
    /// ```swift
    /// try Tensor([1, 2]).expandingShape(at: 0).shape   // [1, 2]
    /// ```
    public func expandingShape(at axis: Int) throws -> Tensor {
        let a = try Shape.normalize(axis: axis, rank: rank + 1, operation: "expandingShape")
        var newShape = shape
        newShape.insert(1, at: a)
        return try reshaped(to: newShape)
    }

    /// The size-1 axes removed: the given ones, or all of them when `axes` is empty.
    ///
    /// ```swift
    /// try (try Tensor.zeros([1, 3, 1])).squeezingShape().shape   // [3]
    /// ```
    public func squeezingShape(at axes: Int...) throws -> Tensor {
        let chosen = try Shape.normalize(axes: axes, rank: rank, operation: "squeezingShape")
        let drop = chosen.isEmpty ? shape.indices.filter { shape[$0] == 1 } : chosen
        if let bad = drop.first(where: { shape[$0] != 1 }) {
            throw PeregrineError.invalidArgument(
                operation: "squeezingShape", expected: "axes of size 1",
                actual: "axis \(bad) of size \(shape[bad]) in shape \(shape)")
        }
        return try reshaped(to: shape.indices.filter { !drop.contains($0) }.map { shape[$0] })
    }

    /// Tensors joined along an existing axis; all other dimensions must match.
    ///
    /// ```swift
    /// let a: Tensor = [[1, 2]], b: Tensor = [[3, 4], [5, 6]]
    /// try Tensor.concatenate([a, b], axis: 0)   // [[1, 2], [3, 4], [5, 6]]
    /// ```
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        let operation = "concatenate"
        guard let first = tensors.first else {
            throw PeregrineError.invalidArgument(operation: operation, expected: "at least one tensor", actual: "none")
        }
        guard first.rank > 0 else {
            throw PeregrineError.invalidArgument(operation: operation, expected: "tensors of rank >= 1", actual: "scalars")
        }
        let axis = try Shape.normalize(axis: axis, rank: first.rank, operation: operation)
        var outShape = first.shape
        outShape[axis] = 0
        for t in tensors {
            var expected = first.shape
            expected[axis] = t.rank == first.rank ? t.shape[axis] : -1
            guard t.shape == expected else {
                throw PeregrineError.invalidArgument(
                    operation: operation,
                    expected: "shapes equal to \(first.shape) except along axis \(axis)",
                    actual: "\(t.shape)")
            }
            outShape[axis] += t.shape[axis]
        }
        let result = Tensor(uninitializedShape: outShape)
        let outStrides = Shape.contiguousStrides(outShape).map(Int64.init)
        var offset = 0
        for t in tensors where t.scalarCount > 0 {
            ck_copy_strided32(
                Int32(t.rank), t.shape.map(Int64.init), t.pointer,
                Shape.contiguousStrides(t.shape).map(Int64.init),
                result.pointer + offset * Int(outStrides[axis]), outStrides)
            offset += t.shape[axis]
        }
        // Backward: each input's gradient is its slab of the upstream gradient along `axis`.
        return result.recorded(operation, inputs: tensors) { g in
            let gStrides = Shape.contiguousStrides(g.shape)
            var start = 0
            return tensors.map { t in
                defer { start += t.shape[axis] }
                return Tensor.gather(shape: t.shape, from: g.pointer + start * gStrides[axis], strides: gStrides)
            }
        }
    }

    /// `self` followed by `other` along `axis`.
    ///
    /// ```swift
    /// let both = try features.concatenated(with: extra, axis: -1)
    /// ```
    public func concatenated(with other: Tensor, axis: Int = 0) throws -> Tensor {
        try Tensor.concatenate([self, other], axis: axis)
    }
}
