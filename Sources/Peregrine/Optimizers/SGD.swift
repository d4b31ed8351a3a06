import CKernels

/// Stochastic gradient descent, with optional (Nesterov) momentum: Keras's `SGD`.
///
/// `w -= lr·g`; with momentum μ, `m = μ·m − lr·g` and `w += m` (Nesterov: `w += μ·m − lr·g`).
///
/// ```swift
/// let sgd = try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
/// try sgd.apply(grads, to: [w, b])
/// ```
public final class SGD: Optimizer, @unchecked Sendable {
    /// The momentum μ (0: plain SGD).
    public let momentum: Double
    /// Whether the update looks ahead along the new momentum.
    public let nesterov: Bool

    /// Keras's defaults: learning rate 0.01, no momentum.
    public init(
        learningRate: LearningRate = 0.01, momentum: Double = 0, nesterov: Bool = false,
        weightDecay: Float? = nil, clipnorm: Float? = nil, clipvalue: Float? = nil,
        globalClipnorm: Float? = nil
    ) throws {
        guard (0...1).contains(momentum) else {
            throw PeregrineError.invalidArgument(
                operation: "SGD", expected: "momentum in [0, 1]", actual: "\(momentum)")
        }
        self.momentum = momentum
        self.nesterov = nesterov
        try super.init(
            learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm,
            clipvalue: clipvalue, globalClipnorm: globalClipnorm)
    }

    override public var slotCount: Int { momentum > 0 ? 1 : 0 }

    override public func update(
        _ w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], count: Int, learningRate: Float, step t: Int
    ) {
        ck_sgd_update(
            Int64(count), w, gradient, slots.first, learningRate, kerasFloat(momentum),
            nesterov ? 1 : 0)
    }
}
