import CKernels

/// How a loss turns per-sample values into what it returns (Keras's `reduction`).
///
/// ```swift
/// let perSample = try MeanSquaredError(reduction: .none)(yTrue, yPred)   // shape [N]
/// ```
public enum LossReduction: String, Sendable {
    /// Σ(values · weights) / number of values — the default; zero-weight samples still count.
    case sumOverBatchSize = "sum_over_batch_size"
    /// Σ(values · weights).
    case sum
    /// Σ(values · weights) / Σ weights.
    case meanWithSampleWeight = "mean_with_sample_weight"
    /// The weighted per-sample values, unreduced.
    case none
}

/// A Keras loss: per-sample values reduced over the last axis, then weighted and reduced.
/// Every loss is differentiable through ``GradientTape``.
///
/// ```swift
/// let loss = try SparseCategoricalCrossentropy(fromLogits: true)(labels, logits)
/// ```
public protocol Loss: Sendable {
    /// Keras's name, e.g. `mean_squared_error`.
    var name: String { get }
    /// How values are reduced.
    var reduction: LossReduction { get }
    /// The per-sample values (the last axis reduced), and a mask of the entries that count
    /// (nil: all do).
    func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?)
}

extension Loss {
    /// The loss of `yPred` against `yTrue`, weighted by `sampleWeight` (one per sample, or
    /// any shape that broadcasts to the per-sample values) and reduced. `mask` is the
    /// prediction's Keras mask (1 = counts; e.g. a recurrent output's time steps after
    /// `Embedding(maskZero: true)`), combined with the loss's own as Keras's `Loss.__call__`.
    ///
    /// ```swift
    /// let l = try MeanSquaredError()(yTrue, yPred, sampleWeight: [1, 0, 0.5])
    /// ```
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor? = nil, mask predictionMask: Tensor? = nil)
        throws -> Tensor
    {
        var (values, mask) = try values(yTrue, yPred)
        if let predictionMask {
            let m = try matchingRank(predictionMask, values.shape)
            mask = try mask.map { try $0 * m } ?? m.broadcasted(to: values.shape)
        }
        var weights = try sampleWeight.map { try matchingRank($0, values.shape) }
        if let mask {
            // Keras's apply_mask: the mean is taken over the valid entries only.
            var scaled = mask
            if reduction == .sumOverBatchSize {
                let total = Float(mask.scalarCount)
                let valid = try mask.sum().scalar ?? 0
                scaled = mask * (total / (valid + 1e-7))
            }
            weights = try weights.map { try $0 * scaled } ?? scaled
        }
        let weighted = try weights.map { try values * $0 } ?? values
        switch reduction {
        case .none:
            return weighted
        case .sum:
            return try weighted.sum()
        case .sumOverBatchSize:
            let count = Float(weighted.scalarCount)
            return count == 0 ? try Tensor.zeros([]) : try weighted.sum() / count
        case .meanWithSampleWeight:
            let divisor = try weights.map { try $0.broadcasted(to: weighted.shape).sum().scalar ?? 0 }
                ?? Float(weighted.scalarCount)
            return divisor == 0 ? try Tensor.zeros([]) : try weighted.sum() / divisor
        }
    }

    /// A sample weight of shape [N, 1] for values [N] is squeezed; [N] for values [N, T] is
    /// expanded (Keras's squeeze_or_expand_to_same_rank); anything else must broadcast.
    private func matchingRank(_ weight: Tensor, _ shape: [Int]) throws -> Tensor {
        var w = weight
        if w.rank == shape.count + 1, w.shape.last == 1 { w = try w.squeezingShape(at: -1) }
        while w.rank < shape.count && w.rank > 0 { w = try w.expandingShape(at: -1) }
        guard try Shape.broadcast(w.shape, shape, operation: name) == shape else {
            throw PeregrineError.shapeMismatch(
                operation: "\(name): sample_weight", expected: shape, actual: weight.shape)
        }
        return w
    }
}

/// Keras's squeeze_or_expand_to_same_rank for (y_true, y_pred): when the ranks differ by one
/// and the longer one ends in 1, that axis is squeezed. Other shapes must then agree exactly —
/// a loss never broadcasts y_true against y_pred silently.
func alignedTargets(_ yTrue: Tensor, _ yPred: Tensor, loss: String) throws -> (Tensor, Tensor) {
    var t = yTrue, p = yPred
    if t.rank == p.rank + 1, t.shape.last == 1 { t = try t.squeezingShape(at: -1) }
    if p.rank == t.rank + 1, p.shape.last == 1 { p = try p.squeezingShape(at: -1) }
    guard t.shape == p.shape else {
        throw PeregrineError.shapeMismatch(
            operation: "\(loss): y_true must match y_pred", expected: yPred.shape, actual: yTrue.shape)
    }
    return (t, p)
}

/// `clip(x, lo, hi)` with TF's gradient: 1 inside [lo, hi], bounds included, 0 outside.
///
/// ```swift
/// let p = try clip(probabilities, min: 1e-7, max: 1 - 1e-7)
/// ```
public func clip(_ x: Tensor, min lo: Float, max hi: Float) throws -> Tensor {
    // maximum gives the gradient to x on ties (x ≥ lo), minimum too (x ≤ hi): bounds pass it.
    try minimum(maximum(x, Tensor(lo)), Tensor(hi))
}
