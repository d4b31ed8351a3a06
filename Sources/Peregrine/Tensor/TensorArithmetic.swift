import CKernels

/// `+ - * /` with NumPy broadcasting, element-wise `pow`, `maximum` and `minimum`.
///
/// Tensor ⊕ tensor operators throw when the shapes are not broadcastable, so they are written
/// with `try`; tensor ⊕ scalar cannot fail and needs none.
///
/// ```swift
/// let x: Tensor = [[1, 2, 3], [4, 5, 6]]       // [2, 3]
/// let bias: Tensor = [10, 20, 30]              // [3]
/// let y = try x + bias                         // [[11, 22, 33], [14, 25, 36]]
/// let z = x * 2 - 1                            // scalars broadcast, no try needed
/// _ = try x + Tensor([1, 2])                   // throws: add: shapes [2, 3] and [2] are not broadcastable
/// ```
extension Tensor {
    /// The broadcasting binary kernel: the output has the broadcast shape, each input is read
    /// through strides with 0 on its broadcast dimensions.
    static func broadcasting(_ op: ck_binary_op, _ a: Tensor, _ b: Tensor, operation: String) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, operation: operation)
        try Shape.checkRank(shape.count, operation: operation)
        let result = Tensor(uninitializedShape: shape)
        ck_binary(
            op, Int32(shape.count), shape.map(Int64.init),
            a.pointer, Shape.broadcastStrides(a.shape, to: shape).map(Int64.init),
            b.pointer, Shape.broadcastStrides(b.shape, to: shape).map(Int64.init), result.pointer)
        return result.recorded(operation, inputs: [a, b]) { g in
            try Tensor.broadcastingBackward(op, a, b, result: result, upstream: g)
        }
    }

    /// `op(self, scalar)` or, with `scalarFirst`, `op(scalar, self)`: the scalar is read with
    /// stride 0 on every dimension, so no tensor of it is built.
    func combined(_ op: ck_binary_op, scalar: Float, scalarFirst: Bool = false) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let own = Shape.contiguousStrides(shape).map(Int64.init)
        let zero = [Int64](repeating: 0, count: shape.count)
        withUnsafePointer(to: scalar) { s in
            if scalarFirst {
                ck_binary(op, Int32(rank), shape.map(Int64.init), s, zero, pointer, own, result.pointer)
            } else {
                ck_binary(op, Int32(rank), shape.map(Int64.init), pointer, own, s, zero, result.pointer)
            }
        }
        let name = ["add", "subtract", "multiply", "divide", "pow", "maximum", "minimum"][Int(op.rawValue)]
        return result.recorded("\(name) (with a scalar)", inputs: [self]) { [self] g in
            [combinedBackward(op, scalar: scalar, scalarFirst: scalarFirst, upstream: g)]
        }
    }

    /// `self + other` with broadcasting.
    ///
    /// ```swift
    /// let y = try x.adding(bias)   // same as try x + bias
    /// ```
    public func adding(_ other: Tensor) throws -> Tensor {
        try Tensor.broadcasting(CK_BINARY_ADD, self, other, operation: "add")
    }

    /// `self - other` with broadcasting.
    ///
    /// ```swift
    /// let centered = try x.subtracting(try x.mean(axis: 0, keepDims: true))
    /// ```
    public func subtracting(_ other: Tensor) throws -> Tensor {
        try Tensor.broadcasting(CK_BINARY_SUB, self, other, operation: "subtract")
    }

    /// `self * other` element-wise with broadcasting (not a matrix product: see ``matmul(_:_:)``).
    ///
    /// ```swift
    /// let masked = try x.multiplying(mask)
    /// ```
    public func multiplying(_ other: Tensor) throws -> Tensor {
        try Tensor.broadcasting(CK_BINARY_MUL, self, other, operation: "multiply")
    }

    /// `self / other` element-wise with broadcasting (IEEE: x/0 is ±inf or NaN, not an error).
    ///
    /// ```swift
    /// let normalized = try x.dividing(try x.sum(axis: 1, keepDims: true))
    /// ```
    public func dividing(_ other: Tensor) throws -> Tensor {
        try Tensor.broadcasting(CK_BINARY_DIV, self, other, operation: "divide")
    }

    /// Element-wise sum with broadcasting; throws on incompatible shapes.
    ///
    /// ```swift
    /// let y = try a + b
    /// ```
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.adding(rhs) }

    /// Element-wise difference with broadcasting; throws on incompatible shapes.
    ///
    /// ```swift
    /// let d = try a - b
    /// ```
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.subtracting(rhs) }

    /// Element-wise product with broadcasting; throws on incompatible shapes.
    ///
    /// ```swift
    /// let p = try a * b
    /// ```
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.multiplying(rhs) }

    /// Element-wise quotient with broadcasting; throws on incompatible shapes.
    ///
    /// ```swift
    /// let q = try a / b
    /// ```
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.dividing(rhs) }

    /// Adds a scalar to every element.
    ///
    /// ```swift
    /// let y = x + 1
    /// ```
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.combined(CK_BINARY_ADD, scalar: rhs) }

    /// Subtracts a scalar from every element.
    ///
    /// ```swift
    /// let y = x - 0.5
    /// ```
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.combined(CK_BINARY_SUB, scalar: rhs) }

    /// Multiplies every element by a scalar.
    ///
    /// ```swift
    /// let y = x * 2
    /// ```
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.combined(CK_BINARY_MUL, scalar: rhs) }

    /// Divides every element by a scalar.
    ///
    /// ```swift
    /// let y = x / 255
    /// ```
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.combined(CK_BINARY_DIV, scalar: rhs) }

    /// Adds every element to a scalar.
    ///
    /// ```swift
    /// let y = 1 + x
    /// ```
    public static func + (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.combined(CK_BINARY_ADD, scalar: lhs, scalarFirst: true)
    }

    /// Subtracts every element from a scalar.
    ///
    /// ```swift
    /// let complement = 1 - p
    /// ```
    public static func - (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.combined(CK_BINARY_SUB, scalar: lhs, scalarFirst: true)
    }

    /// Multiplies a scalar by every element.
    ///
    /// ```swift
    /// let y = 0.5 * x
    /// ```
    public static func * (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.combined(CK_BINARY_MUL, scalar: lhs, scalarFirst: true)
    }

    /// Divides a scalar by every element.
    ///
    /// ```swift
    /// let reciprocal = 1 / x
    /// ```
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.combined(CK_BINARY_DIV, scalar: lhs, scalarFirst: true)
    }

    /// Negates every element.
    ///
    /// ```swift
    /// let y = -x
    /// ```
    public static prefix func - (x: Tensor) -> Tensor { x.unary(CK_UNARY_NEG) }
}

/// Element-wise `x ^ y` with broadcasting (`powf` semantics).
///
/// ```swift
/// let y = try pow(Tensor([2, 3]), Tensor([3, 2]))   // [8.0, 9.0]
/// ```
public func pow(_ x: Tensor, _ y: Tensor) throws -> Tensor {
    try Tensor.broadcasting(CK_BINARY_POW, x, y, operation: "pow")
}

/// Element-wise maximum with broadcasting; NaN in either input gives NaN.
///
/// ```swift
/// let y = try maximum(Tensor([1, 5]), Tensor([3, 2]))   // [3.0, 5.0]
/// ```
public func maximum(_ x: Tensor, _ y: Tensor) throws -> Tensor {
    try Tensor.broadcasting(CK_BINARY_MAX, x, y, operation: "maximum")
}

/// Element-wise minimum with broadcasting; NaN in either input gives NaN.
///
/// ```swift
/// let y = try minimum(Tensor([1, 5]), Tensor([3, 2]))   // [1.0, 2.0]
/// ```
public func minimum(_ x: Tensor, _ y: Tensor) throws -> Tensor {
    try Tensor.broadcasting(CK_BINARY_MIN, x, y, operation: "minimum")
}
