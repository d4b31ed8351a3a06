import CKernels

/// `y = activation(x · kernel + bias)`: Keras's `Dense`. The product runs over the last axis,
/// so `[batch, …, in]` gives `[batch, …, units]`. One fused C pass does the GEMM, the bias and
/// (for linear, relu, sigmoid, tanh) the activation; the backward pass is one element-wise
/// kernel and two GEMMs.
///
/// Weights, in Keras's order and layout: `kernel` `[in, units]` (glorot-uniform), `bias`
/// `[units]` (zeros).
///
/// ```swift
/// let layer = Dense(units: 10, activation: .softmax)
/// let probabilities = try layer(try Tensor.ones([32, 784]))   // [32, 10]
/// ```
public final class Dense: Layer, @unchecked Sendable {
    /// Output features.
    public let units: Int
    /// Applied to the affine result.
    public let activation: ActivationFunction
    /// Whether there is a bias.
    public let useBias: Bool
    /// How the kernel starts.
    public let kernelInitializer: Initializer
    /// How the bias starts.
    public let biasInitializer: Initializer

    /// `[in, units]`, after build.
    public private(set) var kernel: Variable?
    /// `[units]`, after build (nil without bias).
    public private(set) var bias: Variable?

    /// Keras's `Dense(units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
    /// bias_initializer="zeros")`.
    public init(
        units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        name: String? = nil
    ) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard units > 0 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "units > 0", actual: "\(units)")
        }
        guard let shape = inputShapes.first, inputShapes.count == 1, let features = shape.last else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one input of rank >= 2 ([batch, …, features])",
                actual: "per-sample shapes \(inputShapes)")
        }
        kernel = try addWeight("kernel", shape: [features, units], initializer: kernelInitializer)
        if useBias { bias = try addWeight("bias", shape: [units], initializer: biasInitializer) }
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        [try activation.outputShape(Array(shapes[0].dropLast()) + [units])]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        guard let kernel else { throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt") }
        let w = kernel.value
        let features = w.shape[0]
        guard x.rank >= 2, x.shape.last == features else {
            throw PeregrineError.shapeMismatch(
                operation: name, expected: [-1, features], actual: x.shape)
        }
        let b = bias?.value
        if let fused = activation.fusedKernel {
            return [try affine(x, w, b, activation: fused)]
        }
        return [try activation(try affine(x, w, b, activation: CK_ACT_IDENTITY))]
    }

    /// act(x·w + b) as one recorded operation: forward one fused GEMM, backward the activation's
    /// derivative from the output, then dx = dz·wᵀ, dw = xᵀ·dz, db = Σ_rows dz.
    private func affine(_ x: Tensor, _ w: Tensor, _ b: Tensor?, activation act: ck_activation) throws -> Tensor {
        let features = w.shape[0], units = w.shape[1]
        let rows = x.scalarCount / Swift.max(features, 1)
        let outputShape = Array(x.shape.dropLast()) + [units]
        let y = Tensor(uninitializedShape: outputShape)
        let biasPointer = b.map { UnsafePointer($0.pointer) }
        // Inside predict / evaluate the kernel is packed once for all batches.
        let donePacked = PackedWeights.current?.affine(
            x, rows: rows, weights: w, k: features, n: units, bias: biasPointer, activation: act, into: y) ?? false
        if !donePacked {
            GEMM.sgemm(
                transA: false, transB: false, m: rows, n: units, k: features, alpha: 1,
                a: x.pointer, lda: Swift.max(features, 1), b: w.pointer, ldb: units, beta: 0,
                c: y.pointer, ldc: units, bias: biasPointer, activation: act)
        }
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        return y.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            let dz = act == CK_ACT_IDENTITY ? nil : Tensor(uninitializedShape: outputShape)
            // The first layer's input is the data: no gradient, and a third of an MLP's backward.
            let dx = needed.contains(0) ? Tensor(uninitializedShape: x.shape) : nil
            let dw = Tensor(uninitializedShape: w.shape)
            let db = b == nil ? nil : Tensor(uninitializedShape: [units])
            Dense.affineBackward(
                rows: rows, features: features, units: units, x: x.pointer, w: w.pointer, y: y.pointer,
                upstream: g.pointer, activation: act, activationGradient: dz?.pointer, dx: dx?.pointer,
                dw: dw.pointer, db: db?.pointer)
            return db.map { [dx, dw, $0] } ?? [dx, dw]
        })
    }
}

extension Dense {
    /// The backward pass of y = act(x·W + b) for `rows` rows, into the given buffers (the taped
    /// call and ``DenseStage`` both run it, so they agree bit for bit):
    ///
    ///     dz = act'(y) ⊙ dy      (into `activationGradient`; dy itself for the identity)
    ///     dx = dz·Wᵀ             [rows, features], skipped when `dx` is nil
    ///     dW = xᵀ·dz             [features, units]
    ///     db = Σ_rows dz         [units], skipped when `db` is nil
    ///
    /// ```swift
    /// Dense.affineBackward(rows: 128, features: 784, units: 512, x: x, w: w, y: y, upstream: dy,
    ///                      activation: CK_ACT_RELU, activationGradient: dz, dx: nil, dw: dw, db: db)
    /// ```
    static func affineBackward(
        rows: Int, features: Int, units: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        y: UnsafePointer<Float>, upstream g: UnsafePointer<Float>, activation act: ck_activation,
        activationGradient: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
        dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?
    ) {
        var dz = g
        if act != CK_ACT_IDENTITY, let activationGradient {
            let op: ck_unary_op = act == CK_ACT_RELU ? CK_UNARY_RELU : act == CK_ACT_SIGMOID ? CK_UNARY_SIGMOID : CK_UNARY_TANH
            ck_unary_backward(op, Int64(rows * units), y, y, g, activationGradient)
            dz = UnsafePointer(activationGradient)
        }
        if let dx {
            GEMM.sgemm(
                transA: false, transB: true, m: rows, n: features, k: units, alpha: 1,
                a: dz, lda: units, b: w, ldb: units, beta: 0, c: dx, ldc: Swift.max(features, 1))
        }
        GEMM.sgemm(
            transA: true, transB: false, m: features, n: units, k: rows, alpha: 1,
            a: x, lda: Swift.max(features, 1), b: dz, ldb: units, beta: 0, c: dw, ldc: units)
        if let db { ck_reduce(CK_REDUCE_SUM, 1, Int64(rows), Int64(units), dz, db) }
    }
}
