import CKernels

#if canImport(Glibc)
import Glibc
#endif

/// An n-dimensional array of `Int32`: class labels, token ids, indices. Same layout and
/// copy-on-write semantics as ``Tensor``; convert with `Tensor(intTensor)`.
///
/// ```swift
/// let labels: IntTensor = [3, 0, 1]
/// let predicted = try logits.argmax()       // IntTensor
/// print(labels == predicted)
/// ```
public struct IntTensor: Sendable {
    /// The size of each dimension, outermost first.
    ///
    /// ```swift
    /// IntTensor([1, 2, 3]).shape   // [3]
    /// ```
    public private(set) var shape: [Int]

    @usableFromInline var storage: TensorStorage<Int32>

    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor of the given shape with `scalars` in row-major order; throws when the count is
    /// not the shape's product or a dimension is negative.
    ///
    /// ```swift
    /// let x = try IntTensor(shape: [2, 2], scalars: [1, 0, 0, 1])
    /// ```
    public init(shape: [Int], scalars: [Int32]) throws {
        try Shape.validate(shape, operation: "IntTensor(shape:scalars:)")
        let count = shape.reduce(1, *)
        guard scalars.count == count else {
            throw PeregrineError.invalidArgument(
                operation: "IntTensor(shape:scalars:)",
                expected: "\(count) scalars for shape \(shape)", actual: "\(scalars.count)")
        }
        self.shape = shape
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress, count: count) }
    }

    /// A rank-1 tensor of the given scalars.
    ///
    /// ```swift
    /// let labels = IntTensor([0, 1, 1])
    /// ```
    public init(_ scalars: [Int32]) {
        self.shape = [scalars.count]
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress, count: scalars.count) }
    }

    /// A tensor with every element equal to `value`.
    ///
    /// ```swift
    /// let padding = try IntTensor.full([2, 5], value: -1)
    /// ```
    public static func full(_ shape: [Int], value: Int32) throws -> IntTensor {
        try Shape.validate(shape, operation: "IntTensor.full")
        let result = IntTensor(uninitializedShape: shape)
        ck_fill_int32(Int64(result.scalarCount), value, result.storage.pointer)
        return result
    }

    /// A tensor of zeros.
    ///
    /// ```swift
    /// let counts = try IntTensor.zeros([10])
    /// ```
    public static func zeros(_ shape: [Int]) throws -> IntTensor { try full(shape, value: 0) }

    /// The number of dimensions.
    ///
    /// ```swift
    /// IntTensor([1, 2]).rank   // 1
    /// ```
    public var rank: Int { shape.count }

    /// The number of elements.
    ///
    /// ```swift
    /// IntTensor([1, 2]).scalarCount   // 2
    /// ```
    public var scalarCount: Int { storage.count }

    /// The elements in row-major order.
    ///
    /// ```swift
    /// let ids: [Int32] = labels.scalars
    /// ```
    public var scalars: [Int32] { Array(UnsafeBufferPointer(start: storage.pointer, count: storage.count)) }

    /// The single element of a one-element tensor, else nil.
    ///
    /// ```swift
    /// IntTensor([7]).scalar   // 7
    /// ```
    public var scalar: Int32? { storage.count == 1 ? storage.pointer.pointee : nil }

    /// Calls `body` with the elements, read-only.
    ///
    /// ```swift
    /// let maxLabel = labels.withUnsafeBufferPointer { $0.max() }
    /// ```
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Calls `body` with the elements, writable (copy-on-write).
    ///
    /// ```swift
    /// labels.withUnsafeMutableBufferPointer { $0[0] = 2 }
    /// ```
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Int32>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) || storage.isView { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same elements under a new shape (one -1 inferred); shares storage.
    ///
    /// ```swift
    /// let column = try labels.reshaped(to: [-1, 1])
    /// ```
    public func reshaped(to newShape: [Int]) throws -> IntTensor {
        var result = self
        result.shape = try Shape.reshape(shape, to: newShape)
        return result
    }

    /// A slice with the same range syntax as ``Tensor``'s subscript.
    ///
    /// ```swift
    /// let firstTen = try labels[0..<10]
    /// ```
    public subscript(_ ranges: any TensorIndexExpression...) -> IntTensor {
        get throws {
            let plan = try SlicePlan(shape: shape, ranges: ranges.map(\.tensorRange))
            let result = IntTensor(uninitializedShape: plan.shape)
            gather32(shape: plan.shape, from: storage.pointer + plan.offset, strides: plan.strides,
                     into: result.storage.pointer)
            return result
        }
    }
}

extension IntTensor: Equatable {
    /// Same shape and same elements.
    ///
    /// ```swift
    /// IntTensor([1, 2]) == IntTensor([1, 2])   // true
    /// ```
    public static func == (lhs: IntTensor, rhs: IntTensor) -> Bool {
        lhs.shape == rhs.shape
            && (lhs.storage === rhs.storage
                || memcmp(lhs.storage.pointer, rhs.storage.pointer, lhs.scalarCount * 4) == 0)
    }
}

extension IntTensor: ExpressibleByArrayLiteral {
    /// A tensor from a nested array literal.
    ///
    /// ```swift
    /// let pairs: IntTensor = [[0, 1], [1, 2]]   // shape [2, 2]
    /// ```
    public init(arrayLiteral elements: TensorLiteral<Int32>...) {
        let (shape, scalars) = TensorLiteral.flatten(elements)
        self.shape = shape
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress, count: scalars.count) }
    }
}

extension IntTensor: CustomStringConvertible {
    /// The shape and the (possibly elided) elements.
    ///
    /// ```swift
    /// print(IntTensor([1, 2, 3]))   // IntTensor([3]) [1, 2, 3]
    /// ```
    public var description: String {
        "IntTensor(\(shape)) " + withUnsafeBufferPointer { formatNested(shape: shape, scalars: $0) { $0.description } }
    }
}
