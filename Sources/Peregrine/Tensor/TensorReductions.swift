import CKernels

/// Sums, means, maxima and minima over axes (with or without keeping them), and argmax.
///
/// ```swift
/// let x: Tensor = [[1, 2, 3], [4, 5, 6]]
/// try x.sum()                          // Tensor([]) 21.0
/// try x.sum(axis: 0)                   // [5.0, 7.0, 9.0]
/// try x.mean(axes: [1], keepDims: true)   // [[2.0], [5.0]]
/// try x.argmax(axis: 1)                // IntTensor [2, 2]
/// ```
extension Tensor {
    /// Reduces the given axes; a run of adjacent axes is one kernel call over their product.
    func reduced(_ op: ck_reduce_op, axes: [Int]?, keepDims: Bool, operation: String) throws -> Tensor {
        let axes = try axes.map { try Shape.normalize(axes: $0, rank: rank, operation: operation) }
            ?? Array(0..<rank)
        if op == CK_REDUCE_MAX || op == CK_REDUCE_MIN, let empty = axes.first(where: { shape[$0] == 0 }) {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "a non-empty axis to reduce",
                actual: "axis \(empty) of size 0 in shape \(shape)")
        }
        // Group adjacent axes into runs: [0, 1, 3] → [0...1, 3...3].
        var runs: [ClosedRange<Int>] = []
        for axis in axes {
            if let last = runs.last, last.upperBound + 1 == axis {
                runs[runs.count - 1] = last.lowerBound...axis
            } else {
                runs.append(axis...axis)
            }
        }
        var current = self
        var kept = shape  // shape with the reduced axes set to 1
        for run in runs {
            let outer = kept[..<run.lowerBound].reduce(1, *)
            let len = kept[run].reduce(1, *)
            let inner = kept[(run.upperBound + 1)...].reduce(1, *)
            for d in run { kept[d] = 1 }
            let result = Tensor(uninitializedShape: kept)
            ck_reduce(op, Int64(outer), Int64(len), Int64(inner), current.pointer, result.pointer)
            current = result
        }
        if runs.isEmpty { current = Tensor(shape: kept, storage: storage) }
        let finalShape = keepDims ? kept : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        let resultKept = current
        return Tensor(shape: finalShape, storage: current.storage).recorded(operation, inputs: [self]) {
            [self] g in
            [try reductionBackward(op, axes: axes, resultKept: resultKept, upstream: g)]
        }
    }

    /// The sum over `axes` (all axes when nil). `keepDims` keeps each reduced axis with size 1,
    /// which broadcasts back against the input.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2], [3, 4]]
    /// try x.sum(axes: [0])                  // [4.0, 6.0]
    /// try x.sum(axes: [1], keepDims: true)  // [[3.0], [7.0]]
    /// ```
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduced(CK_REDUCE_SUM, axes: axes, keepDims: keepDims, operation: "sum")
    }

    /// The sum over one axis (negative counts from the end).
    ///
    /// ```swift
    /// try x.sum(axis: -1)
    /// ```
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try sum(axes: [axis], keepDims: keepDims)
    }

    /// The mean over `axes` (all axes when nil). The mean of an empty axis is NaN.
    ///
    /// ```swift
    /// try Tensor([1, 2, 3, 4]).mean().scalar   // 2.5
    /// ```
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduced(CK_REDUCE_MEAN, axes: axes, keepDims: keepDims, operation: "mean")
    }

    /// The mean over one axis.
    ///
    /// ```swift
    /// let perFeature = try batch.mean(axis: 0)
    /// ```
    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try mean(axes: [axis], keepDims: keepDims)
    }

    /// The maximum over `axes` (all axes when nil); NaN if any reduced element is NaN. Throws
    /// on an empty axis.
    ///
    /// ```swift
    /// try Tensor([3, 9, 2]).max().scalar   // 9.0
    /// ```
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduced(CK_REDUCE_MAX, axes: axes, keepDims: keepDims, operation: "max")
    }

    /// The maximum over one axis.
    ///
    /// ```swift
    /// let rowMax = try x.max(axis: 1, keepDims: true)
    /// ```
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try max(axes: [axis], keepDims: keepDims)
    }

    /// The minimum over `axes` (all axes when nil); NaN if any reduced element is NaN.
    ///
    /// ```swift
    /// try Tensor([3, 9, 2]).min().scalar   // 2.0
    /// ```
    public func min(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduced(CK_REDUCE_MIN, axes: axes, keepDims: keepDims, operation: "min")
    }

    /// The minimum over one axis.
    ///
    /// ```swift
    /// let rowMin = try x.min(axis: 1)
    /// ```
    public func min(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try min(axes: [axis], keepDims: keepDims)
    }

    /// The index of the first maximum along `axis` (the last by default); the axis is removed.
    /// NaN counts as the largest value, as in NumPy.
    ///
    /// ```swift
    /// let logits: Tensor = [[0.1, 2, 0.3], [5, 1, 1]]
    /// try logits.argmax().scalars   // [1, 0]
    /// ```
    public func argmax(axis: Int = -1) throws -> IntTensor {
        guard rank > 0 else {
            throw PeregrineError.invalidArgument(operation: "argmax", expected: "a tensor of rank >= 1", actual: "a scalar")
        }
        let axis = try Shape.normalize(axis: axis, rank: rank, operation: "argmax")
        guard shape[axis] > 0 else {
            throw PeregrineError.invalidArgument(
                operation: "argmax", expected: "a non-empty axis", actual: "axis \(axis) of size 0 in shape \(shape)")
        }
        var out = shape
        out.remove(at: axis)
        let result = IntTensor(uninitializedShape: out)
        ck_argmax(Int64(shape[..<axis].reduce(1, *)), Int64(shape[axis]),
                  Int64(shape[(axis + 1)...].reduce(1, *)), pointer, result.storage.pointer)
        return result
    }
}
