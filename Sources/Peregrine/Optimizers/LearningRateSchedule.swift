import Foundation

/// A learning rate that depends on the optimizer's step (`iterations`, starting at 0 for the
/// first update), as Keras's `LearningRateSchedule`. Arithmetic in float32, as Keras does.
///
/// ```swift
/// let schedule = ExponentialDecay(initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.96)
/// schedule(step: 100)   // 0.096
/// ```
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for the update made at `step`.
    func callAsFunction(step: Int) -> Float
}

/// `lr0 · rate^(step / decaySteps)`, the exponent floored when `staircase`.
///
/// ```swift
/// ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true)(step: 15)   // 0.05
/// ```
public struct ExponentialDecay: LearningRateSchedule {
    public var initialLearningRate: Float
    public var decaySteps: Int
    public var decayRate: Float
    public var staircase: Bool

    /// Keras's `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)`.
    public init(initialLearningRate: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false) {
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
    }

    public func callAsFunction(step: Int) -> Float {
        var p = Float(step) / Float(decaySteps)
        if staircase { p = p.rounded(.down) }
        return initialLearningRate * Foundation.pow(decayRate, p)
    }
}

/// Cosine decay from `initialLearningRate` (or, after a linear warmup, from `warmupTarget`) to
/// `alpha · lr` over `decaySteps`, then constant.
///
/// ```swift
/// let s = CosineDecay(initialLearningRate: 0, decaySteps: 1000, warmupTarget: 0.1, warmupSteps: 100)
/// s(step: 50)    // 0.05, halfway up the warmup
/// ```
public struct CosineDecay: LearningRateSchedule {
    public var initialLearningRate: Float
    public var decaySteps: Int
    public var alpha: Float
    public var warmupTarget: Float?
    public var warmupSteps: Int

    /// Keras's `CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
    /// warmup_steps=0)`.
    public init(
        initialLearningRate: Float, decaySteps: Int, alpha: Float = 0, warmupTarget: Float? = nil,
        warmupSteps: Int = 0
    ) {
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
        self.warmupTarget = warmupTarget
        self.warmupSteps = warmupSteps
    }

    public func callAsFunction(step: Int) -> Float {
        let decay = Float(decaySteps)
        func decayed(_ step: Float, from lr: Float) -> Float {
            let fraction = step / decay
            let cosine = 0.5 * (1 + Foundation.cos(Float.pi * fraction))
            return lr * ((1 - alpha) * cosine + alpha)
        }
        guard let target = warmupTarget else {
            return decayed(Swift.min(Float(step), decay), from: initialLearningRate)
        }
        let warmup = Float(warmupSteps)
        let s = Swift.min(Float(step), decay + warmup)
        if s < warmup {
            return (target - initialLearningRate) * (s / warmup) + initialLearningRate
        }
        return decayed(s - warmup, from: target)
    }
}
