import CKernels

/// RMSprop, Keras's form: `v = ρv + (1−ρ)g²`, `w −= lr·g/√(v + ε)` (ε inside the root);
/// `centered` subtracts the squared running mean of g, `momentum` accumulates the increments.
///
/// ```swift
/// let rms = try RMSprop(learningRate: 1e-3, momentum: 0.9, centered: true)
/// ```
public final class RMSprop: Optimizer, @unchecked Sendable {
    /// Decay of the running mean of g².
    public let rho: Double
    /// Momentum of the increments (0: none).
    public let momentum: Double
    /// Inside the square root of the denominator.
    public let epsilon: Float
    /// Whether to normalise by the variance rather than the second moment.
    public let centered: Bool

    /// Keras's defaults: learning rate 0.001, ρ 0.9, no momentum, ε 1e-7, not centered.
    public init(
        learningRate: LearningRate = 0.001, rho: Double = 0.9, momentum: Double = 0,
        epsilon: Float = 1e-7, centered: Bool = false, weightDecay: Float? = nil,
        clipnorm: Float? = nil, clipvalue: Float? = nil, globalClipnorm: Float? = nil
    ) throws {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        try super.init(
            learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm,
            clipvalue: clipvalue, globalClipnorm: globalClipnorm)
    }

    // Slots: velocity, then the mean gradient when centered, then the momentum when used.
    override public var slotCount: Int { 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0) }

    override public func update(
        _ w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], count: Int, learningRate: Float, step t: Int
    ) {
        let meanGradient = centered ? slots[1] : nil
        let momentumBuffer = momentum > 0 ? slots[centered ? 2 : 1] : nil
        ck_rmsprop_update(
            Int64(count), w, gradient, slots[0], meanGradient, momentumBuffer, learningRate,
            Float(rho), kerasFloat(1 - rho), Float(momentum), epsilon)
    }
}
