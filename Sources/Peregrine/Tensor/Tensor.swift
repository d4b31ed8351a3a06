import CKernels

/// An n-dimensional array of `Float`: a shape and contiguous row-major (C-order) storage,
/// aligned to 64 bytes, with value semantics and copy-on-write.
///
/// Every loop over the elements runs in Peregrine's C kernels; the Swift type holds the shape,
/// checks arguments and throws ``PeregrineError`` when they are wrong.
///
/// ```swift
/// let x: Tensor = [[1, 2, 3], [4, 5, 6]]        // shape [2, 3]
/// let y = try x * 2 + Tensor.ones([3])          // broadcasting
/// print(y)                                      // Tensor([2, 3]) [[3.0, 5.0, 7.0], [9.0, 11.0, 13.0]]
/// ```
public struct Tensor: Sendable {
    /// The size of each dimension, outermost first. `[]` is a scalar (rank 0).
    ///
    /// ```swift
    /// try Tensor.zeros([2, 3]).shape   // [2, 3]
    /// ```
    public private(set) var shape: [Int]

    @usableFromInline var storage: TensorStorage<Float>

    /// The recorded operation that produced this tensor while a ``GradientTape`` watched one of
    /// its inputs (nil otherwise): how gradients flow back through it.
    var node: TapeNode? = nil

    /// Set on the outputs of `sigmoid` and `softmax`: the logits they came from, so that a
    /// cross-entropy on these probabilities uses the exact logits formula, as Keras does
    /// (its `_keras_logits`, KERAS_SPEC §4).
    var kerasLogits: KerasLogits? = nil

    /// Wraps storage that already holds `shape`'s elements (internal: ops build their results so).
    init(shape: [Int], storage: TensorStorage<Float>) {
        self.shape = shape
        self.storage = storage
    }

    /// A tensor whose elements the caller is about to write (internal: every op's output).
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    // MARK: - Properties

    /// The number of dimensions.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2, 3]]
    /// x.rank   // 2
    /// ```
    public var rank: Int { shape.count }

    /// The number of elements: the product of the shape (1 for a scalar).
    ///
    /// ```swift
    /// try Tensor.zeros([2, 3]).scalarCount   // 6
    /// ```
    public var scalarCount: Int { storage.count }

    /// The elements in row-major order, copied into an array.
    ///
    /// ```swift
    /// let x: Tensor = [[1, 2], [3, 4]]
    /// x.scalars   // [1.0, 2.0, 3.0, 4.0]
    /// ```
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The single element of a one-element tensor (any rank), else `nil`.
    ///
    /// ```swift
    /// let total = try Tensor([1, 2, 3]).sum()
    /// total.scalar   // 6.0
    /// ```
    public var scalar: Float? { storage.count == 1 ? storage.pointer.pointee : nil }

    // MARK: - Raw access

    /// Calls `body` with the elements in row-major order, read-only.
    ///
    /// ```swift
    /// let first = x.withUnsafeBufferPointer { $0.first }
    /// ```
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Calls `body` with the elements in row-major order, writable. Copies the storage first if
    /// another tensor shares it (copy-on-write), so other values never change.
    ///
    /// ```swift
    /// var x = try Tensor.zeros([3])
    /// x.withUnsafeMutableBufferPointer { $0[1] = 5 }   // x: [0.0, 5.0, 0.0]
    /// ```
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) || storage.isView { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The storage pointer for kernels (internal).
    var pointer: UnsafeMutablePointer<Float> { storage.pointer }
}

// MARK: - Creation

extension Tensor {
    /// A tensor of the given shape with `scalars` in row-major order.
    ///
    /// Throws when the count is not the shape's product or a dimension is negative.
    ///
    /// ```swift
    /// let x = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    /// _ = try Tensor(shape: [2, 3], scalars: [1, 2])   // throws: needs 6 scalars, got 2
    /// ```
    public init(shape: [Int], scalars: [Float]) throws {
        try Shape.validate(shape, operation: "Tensor(shape:scalars:)")
        let count = shape.reduce(1, *)
        guard scalars.count == count else {
            throw PeregrineError.invalidArgument(
                operation: "Tensor(shape:scalars:)",
                expected: "\(count) scalars for shape \(shape)", actual: "\(scalars.count)")
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if count > 0 { storage.pointer.update(from: src.baseAddress!, count: count) }
        }
    }

    /// A rank-1 tensor of the given scalars.
    ///
    /// ```swift
    /// Tensor([1, 2, 3]).shape   // [3]
    /// ```
    public init(_ scalars: [Float]) {
        self.shape = [scalars.count]
        self.storage = scalars.withUnsafeBufferPointer {
            TensorStorage(copying: $0.baseAddress, count: scalars.count)
        }
    }

    /// A rank-0 tensor holding one value.
    ///
    /// ```swift
    /// Tensor(3.5).shape   // []
    /// ```
    public init(_ value: Float) {
        self.init(uninitializedShape: [])
        storage.pointer.pointee = value
    }

    /// The elements of an integer tensor converted to `Float` (exact below 2²⁴).
    ///
    /// ```swift
    /// let labels: IntTensor = [0, 2, 1]
    /// Tensor(labels).scalars   // [0.0, 2.0, 1.0]
    /// ```
    public init(_ integers: IntTensor) {
        self.init(uninitializedShape: integers.shape)
        ck_int32_to_float(Int64(scalarCount), integers.storage.pointer, storage.pointer)
    }

    /// A tensor of the given shape with every element equal to `value`.
    ///
    /// ```swift
    /// let x = try Tensor.full([2, 2], value: 7)   // [[7.0, 7.0], [7.0, 7.0]]
    /// ```
    public static func full(_ shape: [Int], value: Float) throws -> Tensor {
        try Shape.validate(shape, operation: "full")
        let result = Tensor(uninitializedShape: shape)
        ck_fill(Int64(result.scalarCount), value, result.pointer)
        return result
    }

    /// A tensor of zeros.
    ///
    /// ```swift
    /// let x = try Tensor.zeros([2, 3])
    /// ```
    public static func zeros(_ shape: [Int]) throws -> Tensor {
        try full(shape, value: 0)
    }

    /// A tensor of ones.
    ///
    /// ```swift
    /// let x = try Tensor.ones([3])   // [1.0, 1.0, 1.0]
    /// ```
    public static func ones(_ shape: [Int]) throws -> Tensor {
        try full(shape, value: 1)
    }

    /// Uniform random numbers in `[lowerBound, upperBound)` (Keras's `random.uniform`).
    ///
    /// The same seed gives the same tensor on any machine and any thread count; leave it out
    /// for a fresh random seed.
    ///
    /// ```swift
    /// let w = try Tensor.randomUniform([3, 4], lowerBound: -0.05, upperBound: 0.05, seed: 42)
    /// ```
    public static func randomUniform(
        _ shape: [Int], lowerBound: Float = 0, upperBound: Float = 1,
        seed: UInt64 = .random(in: .min ... .max)
    ) throws -> Tensor {
        try Shape.validate(shape, operation: "randomUniform")
        guard lowerBound <= upperBound, lowerBound.isFinite, upperBound.isFinite else {
            throw PeregrineError.invalidArgument(
                operation: "randomUniform", expected: "finite bounds with lowerBound <= upperBound",
                actual: "\(lowerBound)..<\(upperBound)")
        }
        let result = Tensor(uninitializedShape: shape)
        ck_random_uniform(Int64(result.scalarCount), seed, 0, lowerBound, upperBound, result.pointer)
        return result
    }

    /// Normally distributed random numbers (Keras's `random.normal`).
    ///
    /// ```swift
    /// let noise = try Tensor.randomNormal([2, 8], mean: 0, standardDeviation: 0.1, seed: 7)
    /// ```
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
        seed: UInt64 = .random(in: .min ... .max)
    ) throws -> Tensor {
        try Shape.validate(shape, operation: "randomNormal")
        guard standardDeviation >= 0, standardDeviation.isFinite, mean.isFinite else {
            throw PeregrineError.invalidArgument(
                operation: "randomNormal", expected: "a finite mean and a standardDeviation >= 0",
                actual: "mean \(mean), standardDeviation \(standardDeviation)")
        }
        let result = Tensor(uninitializedShape: shape)
        ck_random_normal(Int64(result.scalarCount), seed, 0, mean, standardDeviation, result.pointer)
        return result
    }
}
