import CKernels

/// Element-wise math functions and the softmax family, as free functions in Keras's spelling
/// (`keras.ops.exp(x)` is `exp(x)`).
///
/// ```swift
/// let x: Tensor = [[-1, 0, 2]]
/// let y = relu(x)                     // [[0.0, 0.0, 2.0]]
/// let p = try softmax(x)              // rows sum to 1
/// ```
extension Tensor {
    /// One unary kernel over every element into a new tensor.
    func unary(_ op: ck_unary_op) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        ck_unary(op, Int64(scalarCount), pointer, result.pointer)
        return result.recorded(Tensor.unaryName(op), inputs: [self]) { [self] g in
            [unaryBackward(op, result: result, upstream: g)]
        }
    }

    /// The Keras name of a unary kernel, for errors and the numerics check.
    static func unaryName(_ op: ck_unary_op) -> String {
        ["negative", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "square"][Int(op.rawValue)]
    }

    /// Moves `axis` last (a strided copy) when it is not last already.
    func movingAxisToEnd(_ axis: Int) -> (Tensor, [Int]?) {
        guard axis != rank - 1 else { return (self, nil) }
        var order = Array(0..<rank)
        order.remove(at: axis)
        order.append(axis)
        return (permutedUnchecked(order), order)
    }

    /// Row-wise softmax or log-softmax along `axis`.
    func softmaxAlong(_ axis: Int, log: Bool, operation: String) throws -> Tensor {
        guard rank > 0 else {
            throw PeregrineError.invalidArgument(operation: operation, expected: "a tensor of rank >= 1", actual: "a scalar")
        }
        let axis = try Shape.normalize(axis: axis, rank: rank, operation: operation)
        let (moved, order) = movingAxisToEnd(axis)
        let cols = moved.shape[rank - 1]
        let rows = cols == 0 ? 0 : moved.scalarCount / cols
        let result = Tensor(uninitializedShape: moved.shape)
        if log {
            ck_log_softmax(Int64(rows), Int64(cols), moved.pointer, result.pointer)
        } else {
            ck_softmax(Int64(rows), Int64(cols), moved.pointer, result.pointer)
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in (order ?? Array(0..<rank)).enumerated() { inverse[d] = i }
        let output = order == nil ? result : result.permutedUnchecked(inverse)
        // Backward in the moved layout (softmax axis last), then moved back.
        return output.recorded(operation, inputs: [self]) { g in
            let movedGradient = order.map { g.permutedUnchecked($0) } ?? g
            let dx = Tensor(uninitializedShape: result.shape)
            if log {
                ck_log_softmax_backward(Int64(rows), Int64(cols), result.pointer, movedGradient.pointer, dx.pointer)
            } else {
                ck_softmax_backward(Int64(rows), Int64(cols), result.pointer, movedGradient.pointer, dx.pointer)
            }
            return [order == nil ? dx : dx.permutedUnchecked(inverse)]
        }
    }
}

/// e^x element-wise.
///
/// ```swift
/// exp(Tensor([0, 1])).scalars   // [1.0, 2.7182817]
/// ```
public func exp(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_EXP) }

/// Natural logarithm element-wise (log 0 = -inf, log of a negative number = NaN).
///
/// ```swift
/// log(Tensor([1, 100]))   // [0.0, 4.6051702]
/// ```
public func log(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_LOG) }

/// Square root element-wise (NaN for negative inputs).
///
/// ```swift
/// sqrt(Tensor([4, 9]))   // [2.0, 3.0]
/// ```
public func sqrt(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_SQRT) }

/// Absolute value element-wise.
///
/// ```swift
/// abs(Tensor([-2, 3]))   // [2.0, 3.0]
/// ```
public func abs(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_ABS) }

/// x² element-wise.
///
/// ```swift
/// square(Tensor([-2, 3]))   // [4.0, 9.0]
/// ```
public func square(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_SQUARE) }

/// x raised to a scalar power (`powf`; exponents 2 and 0.5 are exact x·x and √x).
///
/// ```swift
/// pow(Tensor([2, 3]), 2)   // [4.0, 9.0]
/// ```
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor {
    let result = Tensor(uninitializedShape: x.shape)
    ck_pow_scalar(Int64(x.scalarCount), x.pointer, exponent, result.pointer)
    return result.recorded("pow", inputs: [x]) { g in
        let dx = Tensor(uninitializedShape: x.shape)
        ck_pow_scalar_backward(Int64(x.scalarCount), x.pointer, exponent, g.pointer, dx.pointer)
        return [dx]
    }
}

/// Hyperbolic tangent element-wise.
///
/// ```swift
/// tanh(Tensor([0, 100]))   // [0.0, 1.0]
/// ```
public func tanh(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_TANH) }

/// The logistic function 1 / (1 + e^-x) element-wise.
///
/// ```swift
/// sigmoid(Tensor([0]))   // [0.5]
/// ```
public func sigmoid(_ x: Tensor) -> Tensor {
    var y = x.unary(CK_UNARY_SIGMOID)
    y.kerasLogits = KerasLogits(x, activation: .sigmoid)
    return y
}

/// max(x, 0) element-wise.
///
/// ```swift
/// relu(Tensor([-1, 2]))   // [0.0, 2.0]
/// ```
public func relu(_ x: Tensor) -> Tensor { x.unary(CK_UNARY_RELU) }

/// Softmax along `axis` (the last by default): exp(x − max) / Σ exp(x − max), so large logits
/// do not overflow. Throws on a scalar or an axis out of range.
///
/// ```swift
/// let p = try softmax(Tensor([[1, 2, 3]]))   // [[0.09003057, 0.24472848, 0.66524094]]
/// let q = try softmax(x, axis: 0)            // columns sum to 1
/// ```
public func softmax(_ x: Tensor, axis: Int = -1) throws -> Tensor {
    var y = try x.softmaxAlong(axis, log: false, operation: "softmax")
    if try Shape.normalize(axis: axis, rank: x.rank, operation: "softmax") == x.rank - 1 {
        y.kerasLogits = KerasLogits(x, activation: .softmax)
    }
    return y
}

/// log(softmax(x)) along `axis`, computed as x − max − log Σ exp(x − max) (no log of 0).
///
/// ```swift
/// let logp = try logSoftmax(logits)
/// ```
public func logSoftmax(_ x: Tensor, axis: Int = -1) throws -> Tensor {
    try x.softmaxAlong(axis, log: true, operation: "logSoftmax")
}
