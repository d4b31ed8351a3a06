import CKernels

/// Shape arithmetic shared by the tensor operations: validation, strides, NumPy broadcasting and
/// axis normalisation. Internal: the public API speaks in `[Int]` shapes.
enum Shape {
    /// Throws unless every dimension is ≥ 0 and the rank fits the strided kernels.
    static func validate(_ shape: [Int], operation: String) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "non-negative dimensions", actual: "shape \(shape)")
        }
        try checkRank(shape.count, operation: operation)
    }

    /// Throws unless the rank is at most CK_MAX_RANK (8).
    static func checkRank(_ rank: Int, operation: String) throws {
        guard rank <= Int(CK_MAX_RANK) else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "a rank of at most \(CK_MAX_RANK)", actual: "rank \(rank)")
        }
    }

    /// Row-major strides in elements: [2, 3, 4] → [12, 4, 1].
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for d in shape.indices.reversed() {
            strides[d] = step
            step *= shape[d]
        }
        return strides
    }

    /// NumPy broadcasting: align on the right, each pair of dimensions equal or one of them 1.
    static func broadcast(_ a: [Int], _ b: [Int], operation: String) throws -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw PeregrineError.incompatibleShapes(operation: operation, lhs: a, rhs: b)
            }
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Strides that read a contiguous `shape` as if broadcast to `target` (0 on broadcast dimensions).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = contiguousStrides(shape)
        let offset = target.count - shape.count
        return target.indices.map { d in
            d < offset || shape[d - offset] == 1 ? 0 : own[d - offset]
        }
    }

    /// `axis` in `-rank..<rank` → `0..<rank`.
    static func normalize(axis: Int, rank: Int, operation: String) throws -> Int {
        guard axis >= -rank && axis < rank else {
            throw PeregrineError.axisOutOfRange(operation: operation, axis: axis, rank: rank)
        }
        return axis < 0 ? axis + rank : axis
    }

    /// `newShape` with its -1 (at most one) resolved so that it holds as many elements as `shape`.
    static func reshape(_ shape: [Int], to newShape: [Int]) throws -> [Int] {
        let count = shape.reduce(1, *)
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        let fail = PeregrineError.invalidArgument(
            operation: "reshape",
            expected: "a shape with \(count) scalars (at most one -1) for input \(shape)",
            actual: "\(newShape)")
        guard inferred.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else { throw fail }
        var resolved = newShape
        if let i = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else { throw fail }
            resolved[i] = count / known
        }
        guard resolved.reduce(1, *) == count else { throw fail }
        try checkRank(resolved.count, operation: "reshape")
        return resolved
    }

    /// Distinct normalised axes, ascending.
    static func normalize(axes: [Int], rank: Int, operation: String) throws -> [Int] {
        let normalized = try axes.map { try normalize(axis: $0, rank: rank, operation: operation) }
        guard Set(normalized).count == normalized.count else {
            throw PeregrineError.invalidArgument(
                operation: operation, expected: "distinct axes", actual: "\(axes)")
        }
        return normalized.sorted()
    }
}

/// Copies `shape`'s 32-bit elements from `source` read with element strides `strides` into
/// contiguous `destination` (internal: the one loop behind transpose, broadcast and slicing).
func gather32(shape: [Int], from source: UnsafeRawPointer, strides: [Int], into destination: UnsafeMutableRawPointer) {
    guard shape.reduce(1, *) > 0 else { return }
    ck_copy_strided32(
        Int32(shape.count), shape.map(Int64.init), source, strides.map(Int64.init),
        destination, Shape.contiguousStrides(shape).map(Int64.init))
}

extension Tensor {
    /// Copies `shape`'s elements from `source` read with element strides `strides` into a new
    /// contiguous tensor (internal: transpose, broadcast, slicing).
    static func gather(shape: [Int], from source: UnsafePointer<Float>, strides: [Int]) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        gather32(shape: shape, from: source, strides: strides, into: result.pointer)
        return result
    }
}
