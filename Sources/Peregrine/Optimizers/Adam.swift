import CKernels
import Foundation

/// Adam, in Keras's form: `α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)`, `m += (g−m)(1−β₁)`, `v += (g²−v)(1−β₂)`,
/// `w −= m·α/(√v + ε)` — ε is added to the un-corrected √v ("epsilon-hat"), which differs from
/// the paper's form in the last digits. `amsgrad` uses the running maximum of v.
///
/// ```swift
/// let adam = try Adam(learningRate: 1e-3)
/// try adam.apply(grads, to: model.trainableWeights)
/// ```
public class Adam: Optimizer, @unchecked Sendable {
    /// Decay of the first moment.
    public let beta1: Double
    /// Decay of the second moment.
    public let beta2: Double
    /// Added to √v in the denominator.
    public let epsilon: Float
    /// Whether to use the running maximum of v (AMSGrad).
    public let amsgrad: Bool

    /// Keras's defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7.
    public init(
        learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Float = 1e-7, amsgrad: Bool = false, weightDecay: Float? = nil,
        clipnorm: Float? = nil, clipvalue: Float? = nil, globalClipnorm: Float? = nil
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        try super.init(
            learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm,
            clipvalue: clipvalue, globalClipnorm: globalClipnorm)
    }

    override public var slotCount: Int { amsgrad ? 3 : 2 }

    override public func update(
        _ w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], count: Int, learningRate: Float, step t: Int
    ) {
        // As Keras: the powers and α in float32, the (1 − β) factors from float64.
        let step = Float(t)
        let beta1Power = Foundation.pow(Float(beta1), step)
        let beta2Power = Foundation.pow(Float(beta2), step)
        let alpha = learningRate * (1 - beta2Power).squareRoot() / (1 - beta1Power)
        ck_adam_update(
            Int64(count), w, gradient, slots[0], slots[1], amsgrad ? slots[2] : nil, alpha,
            kerasFloat(1 - beta1), kerasFloat(1 - beta2), epsilon)
    }
}

/// Adam with decoupled weight decay (default 0.004): exactly `Adam(weightDecay:)`.
///
/// ```swift
/// let adamw = try AdamW(learningRate: 1e-3, weightDecay: 0.01)
/// ```
public final class AdamW: Adam, @unchecked Sendable {
    /// Keras's defaults: learning rate 0.001, weight decay 0.004, β₁ 0.9, β₂ 0.999, ε 1e-7.
    public init(
        learningRate: LearningRate = 0.001, weightDecay: Float = 0.004, beta1: Double = 0.9,
        beta2: Double = 0.999, epsilon: Float = 1e-7, amsgrad: Bool = false,
        clipnorm: Float? = nil, clipvalue: Float? = nil, globalClipnorm: Float? = nil
    ) throws {
        try super.init(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            amsgrad: amsgrad, weightDecay: weightDecay, clipnorm: clipnorm, clipvalue: clipvalue,
            globalClipnorm: globalClipnorm)
    }
}
