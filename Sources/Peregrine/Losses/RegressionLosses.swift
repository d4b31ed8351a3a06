/// `mean((y_true − y_pred)², axis: −1)`: Keras's `MeanSquaredError`.
///
/// ```swift
/// let loss = try MeanSquaredError()([[0, 1]], [[1, 1]])   // 0.5
/// ```
public struct MeanSquaredError: Loss {
    public let name = "mean_squared_error"
    public var reduction: LossReduction

    /// Keras's default reduction, the mean over the batch.
    public init(reduction: LossReduction = .sumOverBatchSize) { self.reduction = reduction }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        let (t, p) = try alignedTargets(yTrue, yPred, loss: name)
        return (try square(t - p).mean(axes: [-1]), nil)
    }
}

/// `mean(|y_true − y_pred|, axis: −1)`: Keras's `MeanAbsoluteError`.
///
/// ```swift
/// let loss = try MeanAbsoluteError()([[0, 1]], [[1, 1]])   // 0.5
/// ```
public struct MeanAbsoluteError: Loss {
    public let name = "mean_absolute_error"
    public var reduction: LossReduction

    /// Keras's default reduction, the mean over the batch.
    public init(reduction: LossReduction = .sumOverBatchSize) { self.reduction = reduction }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        let (t, p) = try alignedTargets(yTrue, yPred, loss: name)
        return (try abs(t - p).mean(axes: [-1]), nil)
    }
}

/// Quadratic below `delta`, linear above: `½e²` if |e| ≤ δ else `δ|e| − ½δ²`, e = y_pred − y_true;
/// the mean over the last axis. Keras's `Huber`.
///
/// ```swift
/// let loss = try Huber(delta: 1)([[0]], [[3]])   // 2.5
/// ```
public struct Huber: Loss {
    public let name = "huber_loss"
    public var reduction: LossReduction
    /// Where the loss turns linear.
    public var delta: Float

    /// Keras's defaults: δ = 1, the mean over the batch.
    public init(delta: Float = 1, reduction: LossReduction = .sumOverBatchSize) {
        self.delta = delta
        self.reduction = reduction
    }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        let (t, p) = try alignedTargets(yTrue, yPred, loss: name)
        // With a = |e| and q = min(a, δ): ½q² + δ(a − q) is ½a² below δ and δa − ½δ² above,
        // branch-free, and its gradient is Keras's (e inside, δ·sign(e) outside, e at |e| = δ).
        let a = abs(try p - t)
        let q = try minimum(a, Tensor(delta))
        return (try (square(q) * 0.5 + (a - q) * delta).mean(axes: [-1]), nil)
    }
}
