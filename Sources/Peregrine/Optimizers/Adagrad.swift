import CKernels

/// Adagrad: `acc += g²`, `w −= lr·g/√(acc + ε)`, the accumulator starting at 0.1 (Keras).
///
/// ```swift
/// let adagrad = try Adagrad(learningRate: 0.01)
/// ```
public final class Adagrad: Optimizer, @unchecked Sendable {
    /// The accumulator's starting value.
    public let initialAccumulatorValue: Float
    /// Inside the square root of the denominator.
    public let epsilon: Float

    /// Keras's defaults: learning rate 0.001, initial accumulator 0.1, ε 1e-7.
    public init(
        learningRate: LearningRate = 0.001, initialAccumulatorValue: Float = 0.1,
        epsilon: Float = 1e-7, weightDecay: Float? = nil, clipnorm: Float? = nil,
        clipvalue: Float? = nil, globalClipnorm: Float? = nil
    ) throws {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        try super.init(
            learningRate: learningRate, weightDecay: weightDecay, clipnorm: clipnorm,
            clipvalue: clipvalue, globalClipnorm: globalClipnorm)
    }

    override public var slotCount: Int { 1 }
    override public var slotInitialValue: Float { initialAccumulatorValue }

    override public func update(
        _ w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], count: Int, learningRate: Float, step t: Int
    ) {
        ck_adagrad_update(Int64(count), w, gradient, slots[0], learningRate, epsilon)
    }
}
