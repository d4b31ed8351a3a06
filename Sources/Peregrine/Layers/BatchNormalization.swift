import CKernels

/// Normalises each feature of the last axis over the batch: Keras's `BatchNormalization`
/// (`axis=-1`, statistics over every other axis — (N, H, W) for images).
///
/// Training (`training: true` on a trainable layer) normalises with the batch mean and BIASED
/// variance and moves the moving statistics Keras's way, `moving = moving·momentum +
/// batch·(1 − momentum)`; otherwise (inference, or a frozen layer) it uses the moving statistics
/// and changes nothing. The arithmetic is TensorFlow's:
/// `inv = rsqrt(var + ε)·gamma; y = x·inv + (beta − mean·inv)`. Statistics and normalisation run
/// in one fused C kernel; the backward pass is one reduction and one element-wise pass.
///
/// Weights, in Keras's order: `gamma` (ones, trainable, without `scale: false`), `beta` (zeros,
/// trainable, without `center: false`), `moving_mean` (zeros) and `moving_variance` (ones),
/// both non-trainable.
///
/// ```swift
/// let bn = BatchNormalization()
/// let y = try bn(try Tensor.randomUniform([32, 14, 14, 64]), training: true)
/// bn.weights.map(\.name)   // ["gamma", "beta", "moving_mean", "moving_variance"]
/// ```
public final class BatchNormalization: Layer, @unchecked Sendable {
    /// The normalised axis; only the last (`-1`, or its positive index) is supported.
    public let axis: Int
    /// The weight of the old value in the moving statistics' update.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// 1 − momentum as Keras has it: computed in double from the decimal it was given, then
    /// rounded to float (the shortest decimal of the Float recovers that decimal: 0.99, not
    /// 0.9900000095…).
    let oneMinusMomentum: Float
    /// Whether there is a learned offset `beta`.
    public let center: Bool
    /// Whether there is a learned scale `gamma`.
    public let scale: Bool
    let betaInitializer: Initializer
    let gammaInitializer: Initializer
    let movingMeanInitializer: Initializer
    let movingVarianceInitializer: Initializer

    /// `[features]` scale, after build (nil with `scale: false`).
    public private(set) var gamma: Variable?
    /// `[features]` offset, after build (nil with `center: false`).
    public private(set) var beta: Variable?
    /// `[features]` moving mean, after build.
    public private(set) var movingMean: Variable?
    /// `[features]` moving variance, after build.
    public private(set) var movingVariance: Variable?

    /// Keras's `BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True,
    /// scale=True, beta_initializer="zeros", gamma_initializer="ones",
    /// moving_mean_initializer="zeros", moving_variance_initializer="ones")`.
    ///
    /// ```swift
    /// let bn = BatchNormalization(momentum: 0.9, epsilon: 1e-5)
    /// ```
    public init(
        axis: Int = -1, momentum: Float = 0.99, epsilon: Float = 1e-3, center: Bool = true,
        scale: Bool = true, betaInitializer: Initializer = .zeros, gammaInitializer: Initializer = .ones,
        movingMeanInitializer: Initializer = .zeros, movingVarianceInitializer: Initializer = .ones,
        name: String? = nil
    ) {
        self.axis = axis
        self.momentum = momentum
        oneMinusMomentum = Float(1.0 - (Double("\(momentum)") ?? Double(momentum)))
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.betaInitializer = betaInitializer
        self.gammaInitializer = gammaInitializer
        self.movingMeanInitializer = movingMeanInitializer
        self.movingVarianceInitializer = movingVarianceInitializer
        super.init(name: name)
    }

    override public class var kerasClassName: String { "BatchNormalization" }

    override public func build(inputShapes: [[Int]]) throws {
        guard inputShapes.count == 1, let features = inputShapes[0].last else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one input of rank >= 2 ([batch, …, features])",
                actual: "per-sample shapes \(inputShapes)")
        }
        // `axis` counts the batch axis, as Keras's does.
        let rank = inputShapes[0].count + 1
        guard axis == -1 || axis == rank - 1 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "axis -1 (the last axis, \(rank - 1))", actual: "axis \(axis)")
        }
        if scale { gamma = try addWeight("gamma", shape: [features], initializer: gammaInitializer) }
        if center { beta = try addWeight("beta", shape: [features], initializer: betaInitializer) }
        movingMean = try addWeight("moving_mean", shape: [features], initializer: movingMeanInitializer, trainable: false)
        movingVariance = try addWeight(
            "moving_variance", shape: [features], initializer: movingVarianceInitializer, trainable: false)
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, mask: nil, training: training)
    }

    /// A call with Keras's mask (one axis less than the input, 1 = the entry counts): in
    /// training the batch statistics (and so the moving ones) cover the kept entries only —
    /// Keras's masked moments, Σ over kept / (count + 1e-7) — while every entry is normalized.
    ///
    /// ```swift
    /// let y = try bn.call([x], mask: mask, training: true)[0]
    /// ```
    public func call(_ inputs: [Tensor], mask: Tensor?, training: Bool) throws -> [Tensor] {
        try call(inputs, mask: mask, training: training, fusedReLU: false)
    }

    /// This layer followed by a ReLU, as one pass and one tape node: the kernels apply max(y, 0)
    /// in their store and mask the gradient by the output (``Sequential`` uses it for a
    /// BatchNormalization → Activation(.relu) pair; it saves a read and a write of the tensor
    /// each way).
    ///
    /// ```swift
    /// let y = try bn.callFusingReLU(x, training: true)   // == relu(bn(x, training: true))
    /// ```
    func callFusingReLU(_ x: Tensor, training: Bool) throws -> Tensor {
        try buildIfNeeded(inputShapes: [Array(x.shape.dropFirst())])
        return try call([x], mask: nil, training: training, fusedReLU: true)[0]
    }

    private func call(_ inputs: [Tensor], mask: Tensor?, training: Bool, fusedReLU: Bool) throws -> [Tensor] {
        let x = inputs[0]
        guard let movingMean, let movingVariance else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let features = movingMean.shape[0]
        guard x.rank >= 2, x.shape.last == features else {
            throw PeregrineError.shapeMismatch(operation: name, expected: [-1, features], actual: x.shape)
        }
        let g = gamma?.value, b = beta?.value
        if let mask {
            guard mask.shape == Array(x.shape.dropLast()) else {
                throw PeregrineError.shapeMismatch(operation: "\(name) mask", expected: Array(x.shape.dropLast()), actual: mask.shape)
            }
        }
        if training && trainable {
            let (y, mean, variance) = try mask.map {
                try BatchNormalization.normalizeWithMaskedStatistics(x, mask: $0, gamma: g, beta: b, epsilon: epsilon)
            } ?? BatchNormalization.normalizeWithBatchStatistics(
                x, gamma: g, beta: b, epsilon: epsilon, relu: fusedReLU, name: name)
            updateMovingStatistics(mean: mean.pointer, variance: variance.pointer)
            return [y]
        }
        return [BatchNormalization.normalize(
            x, gamma: g, beta: b, mean: movingMean.value, variance: movingVariance.value,
            epsilon: epsilon, relu: fusedReLU, name: name)]
    }

    /// Training mode as one recorded operation (with `relu`, followed by max(·, 0)); also
    /// returns the batch mean and variance.
    static func normalizeWithBatchStatistics(
        _ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float, relu: Bool = false, name: String
    ) -> (Tensor, mean: Tensor, variance: Tensor) {
        let features = x.shape.last!
        let rows = x.scalarCount / Swift.max(features, 1)
        let y = Tensor(uninitializedShape: x.shape)
        let mean = Tensor(uninitializedShape: [features])
        let variance = Tensor(uninitializedShape: [features])
        ck_batchnorm_forward_training(
            Int64(rows), Int64(features), x.pointer, gamma.map { UnsafePointer($0.pointer) },
            beta.map { UnsafePointer($0.pointer) }, epsilon, relu ? 1 : 0, y.pointer, mean.pointer,
            variance.pointer)
        let recorded = record(
            y, x: x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon,
            training: true, relu: relu, name: name)
        return (recorded, mean, variance)
    }

    /// Training mode with Keras's masked moments, as tensor operations (the tape differentiates
    /// through the statistics): mean = Σ m·x / (Σ m + 1e-7), var = Σ m·(x − mean)² / (Σ m + 1e-7)
    /// over all axes but the last, then y = x·inv + (β − mean·inv), inv = γ/√(var + ε).
    static func normalizeWithMaskedStatistics(
        _ x: Tensor, mask: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float
    ) throws -> (Tensor, mean: Tensor, variance: Tensor) {
        let features = x.shape.last!
        let rows = x.scalarCount / Swift.max(features, 1)
        let flat = try x.reshaped(to: [rows, features])
        let m = try mask.reshaped(to: [rows, 1])
        let count = try m.sum() + 1e-7
        let mean = try (flat * m).sum(axes: [0]) / count
        let centered = try (flat - mean) * m
        let variance = try (centered * centered).sum(axes: [0]) / count
        var inv = 1 / sqrt(variance + epsilon)
        if let gamma { inv = try inv * gamma }
        var shift = try Tensor.zeros([features]) - mean * inv
        if let beta { shift = try beta + shift }
        let y = try (flat * inv + shift).reshaped(to: x.shape)
        return (y, mean, variance)
    }

    /// Inference mode (given statistics, treated as constants) as one recorded operation (with
    /// `relu`, followed by max(·, 0)).
    static func normalize(
        _ x: Tensor, gamma: Tensor?, beta: Tensor?, mean: Tensor, variance: Tensor, epsilon: Float,
        relu: Bool = false, name: String
    ) -> Tensor {
        let features = x.shape.last!
        let rows = x.scalarCount / Swift.max(features, 1)
        let y = Tensor(uninitializedShape: x.shape)
        ck_batchnorm_forward_inference(
            Int64(rows), Int64(features), x.pointer, gamma.map { UnsafePointer($0.pointer) },
            beta.map { UnsafePointer($0.pointer) }, mean.pointer, variance.pointer, epsilon, relu ? 1 : 0,
            y.pointer)
        return record(
            y, x: x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon,
            training: false, relu: relu, name: name)
    }

    /// Attaches the backward pass: dx, dgamma, dbeta from one fused kernel (with `relu`, the
    /// upstream gradient masked by y > 0 inside it).
    private static func record(
        _ y: Tensor, x: Tensor, gamma: Tensor?, beta: Tensor?, mean: Tensor, variance: Tensor,
        epsilon: Float, training: Bool, relu: Bool, name: String
    ) -> Tensor {
        var inputs = [x]
        if let gamma { inputs.append(gamma) }
        if let beta { inputs.append(beta) }
        return y.recorded(name, inputs: inputs) { g in
            let features = x.shape.last!
            let rows = x.scalarCount / Swift.max(features, 1)
            let dx = Tensor(uninitializedShape: x.shape)
            let dgamma = gamma == nil ? nil : Tensor(uninitializedShape: [features])
            let dbeta = beta == nil ? nil : Tensor(uninitializedShape: [features])
            ck_batchnorm_backward(
                Int64(rows), Int64(features), x.pointer, g.pointer, relu ? UnsafePointer(y.pointer) : nil,
                mean.pointer, variance.pointer,
                gamma.map { UnsafePointer($0.pointer) }, epsilon, training ? 1 : 0, dx.pointer,
                dgamma?.pointer, dbeta?.pointer)
            var grads: [Tensor?] = [dx]
            if let dgamma { grads.append(dgamma) }
            if let dbeta { grads.append(dbeta) }
            return grads
        }
    }
}

extension BatchNormalization {
    /// Moves the moving mean and variance towards a batch's `mean` and `variance` ([features]):
    /// moving = moving·momentum + batch·(1 − momentum), in place.
    ///
    /// ```swift
    /// norm.updateMovingStatistics(mean: mean.pointer, variance: variance.pointer)
    /// ```
    func updateMovingStatistics(mean: UnsafePointer<Float>, variance: UnsafePointer<Float>) {
        guard let movingMean, let movingVariance else { return }
        let features = Int64(movingMean.shape[0])
        movingMean.updateInPlace { mm in
            movingVariance.updateInPlace { mv in
                ck_batchnorm_update_moving(features, momentum, oneMinusMomentum, mean, variance, mm, mv)
            }
        }
    }
}
