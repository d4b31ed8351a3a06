import CKernels

/// Binary cross-entropy, Keras's `BinaryCrossentropy`: per element
/// `max(x,0) − x·y + log(1 + e^−|x|)` on logits, or `−(y·log p + (1−y)·log(1−p))` with p clipped
/// to [1e-7, 1 − 1e-7]; the mean over the last axis. Probabilities that came from `sigmoid`
/// are scored from their logits, as Keras does.
///
/// ```swift
/// let loss = try BinaryCrossentropy(fromLogits: true, labelSmoothing: 0.1)(labels, logits)
/// ```
public struct BinaryCrossentropy: Loss {
    public let name = "binary_crossentropy"
    public var reduction: LossReduction
    /// Whether `yPred` holds logits rather than probabilities.
    public var fromLogits: Bool
    /// Targets move towards 0.5: y·(1 − s) + s/2.
    public var labelSmoothing: Float

    /// Keras's defaults: probabilities, no smoothing, the mean over the batch.
    public init(
        fromLogits: Bool = false, labelSmoothing: Float = 0,
        reduction: LossReduction = .sumOverBatchSize
    ) {
        self.fromLogits = fromLogits
        self.labelSmoothing = labelSmoothing
        self.reduction = reduction
    }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        var (t, p) = try alignedTargets(yTrue, yPred, loss: name)
        if labelSmoothing > 0 { t = t * (1 - labelSmoothing) + 0.5 * labelSmoothing }
        let elementwise: Tensor
        if fromLogits {
            elementwise = try sigmoidCrossEntropy(logits: p, targets: t)
        } else if let origin = p.kerasLogits, origin.activation == .sigmoid {
            elementwise = try sigmoidCrossEntropy(logits: origin.logits, targets: t)
        } else {
            let q = try clip(p, min: 1e-7, max: 1 - 1e-7)
            elementwise = -(try t * log(q) + (1 - t) * log(1 - q))
        }
        return (try elementwise.mean(axes: [-1]), nil)
    }
}

/// Categorical cross-entropy over one-hot (or soft) targets, Keras's `CategoricalCrossentropy`:
/// `−Σ y·log_softmax(x)` on logits, or on probabilities renormalised then clipped to
/// [1e-7, 1 − 1e-7]. Probabilities that came from `softmax` are scored from their logits.
///
/// ```swift
/// let loss = try CategoricalCrossentropy(fromLogits: true)(oneHot, logits)
/// ```
public struct CategoricalCrossentropy: Loss {
    public let name = "categorical_crossentropy"
    public var reduction: LossReduction
    /// Whether `yPred` holds logits rather than probabilities.
    public var fromLogits: Bool
    /// Targets move towards uniform: y·(1 − s) + s/classes.
    public var labelSmoothing: Float

    /// Keras's defaults: probabilities, no smoothing, the mean over the batch.
    public init(
        fromLogits: Bool = false, labelSmoothing: Float = 0,
        reduction: LossReduction = .sumOverBatchSize
    ) {
        self.fromLogits = fromLogits
        self.labelSmoothing = labelSmoothing
        self.reduction = reduction
    }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        guard yPred.rank >= 1, yTrue.shape == yPred.shape else {
            throw PeregrineError.shapeMismatch(
                operation: "\(name): y_true must match y_pred", expected: yPred.shape,
                actual: yTrue.shape)
        }
        var t = yTrue
        if labelSmoothing > 0 {
            let classes = Float(yPred.shape[yPred.rank - 1])
            t = t * (1 - labelSmoothing) + labelSmoothing / classes
        }
        if fromLogits {
            return (try softmaxCrossEntropy(logits: yPred, targets: t), nil)
        }
        if let origin = yPred.kerasLogits, origin.activation == .softmax {
            return (try softmaxCrossEntropy(logits: origin.logits, targets: t), nil)
        }
        let normalised = try yPred / yPred.sum(axes: [-1], keepDims: true)
        let q = try clip(normalised, min: 1e-7, max: 1 - 1e-7)
        return (-(try (t * log(q)).sum(axes: [-1])), nil)
    }
}

/// Cross-entropy against integer class labels, Keras's `SparseCategoricalCrossentropy`.
/// Labels are class indices of shape [N] (or [N, 1]); a label equal to `ignoreClass` scores 0
/// and is left out of the mean. On probabilities it is `−log(p_y / Σp)` after clipping, as Keras.
///
/// ```swift
/// let loss = try SparseCategoricalCrossentropy(fromLogits: true)(Tensor([2, 0]), logits)
/// ```
public struct SparseCategoricalCrossentropy: Loss {
    public let name = "sparse_categorical_crossentropy"
    public var reduction: LossReduction
    /// Whether `yPred` holds logits rather than probabilities.
    public var fromLogits: Bool
    /// A label value that does not count (e.g. padding), or nil.
    public var ignoreClass: Int?

    /// Keras's defaults: probabilities, no ignored class, the mean over the batch.
    public init(
        fromLogits: Bool = false, ignoreClass: Int? = nil,
        reduction: LossReduction = .sumOverBatchSize
    ) {
        self.fromLogits = fromLogits
        self.ignoreClass = ignoreClass
        self.reduction = reduction
    }

    public func values(_ yTrue: Tensor, _ yPred: Tensor) throws -> (values: Tensor, mask: Tensor?) {
        var labels = yTrue
        if labels.rank == yPred.rank, labels.shape.last == 1 { labels = try labels.squeezingShape(at: -1) }
        guard yPred.rank >= 1, labels.shape == Array(yPred.shape.dropLast()) else {
            throw PeregrineError.shapeMismatch(
                operation: "\(name): labels must be y_pred's shape without its class axis",
                expected: Array(yPred.shape.dropLast()), actual: yTrue.shape)
        }
        let logits: Tensor
        if fromLogits {
            logits = yPred
        } else if let origin = yPred.kerasLogits, origin.activation == .softmax {
            logits = origin.logits
        } else {
            // Keras: log of the clipped probabilities, then the logits formula (which
            // renormalises after clipping).
            logits = log(try clip(yPred, min: 1e-7, max: 1 - 1e-7))
        }
        return try sparseSoftmaxCrossEntropy(logits: logits, labels: labels, ignoreClass: ignoreClass)
    }
}

// MARK: - Fused kernels on logits, recorded as single tape operations

/// Element-wise sigmoid cross-entropy (one C pass for loss and gradient; the gradient is kept
/// and scaled by the upstream gradient in the backward pass).
func sigmoidCrossEntropy(logits: Tensor, targets: Tensor) throws -> Tensor {
    let n = Int64(logits.scalarCount)
    let loss = Tensor(uninitializedShape: logits.shape)
    let grad = Tensor(uninitializedShape: logits.shape)
    ck_sigmoid_cross_entropy(n, logits.pointer, targets.pointer, loss.pointer, grad.pointer, 1)
    return loss.recorded("sigmoid_cross_entropy", inputs: [logits]) { g in [try g * grad] }
}

/// Softmax cross-entropy over the last axis: values of shape `logits.shape.dropLast()`.
func softmaxCrossEntropy(logits: Tensor, targets: Tensor) throws -> Tensor {
    let cols = logits.shape.last ?? 1
    let rows = cols == 0 ? 0 : logits.scalarCount / cols
    let loss = Tensor(uninitializedShape: Array(logits.shape.dropLast()))
    let grad = Tensor(uninitializedShape: logits.shape)
    ck_softmax_cross_entropy(
        Int64(rows), Int64(cols), logits.pointer, targets.pointer, loss.pointer, grad.pointer, nil)
    return loss.recorded("softmax_cross_entropy", inputs: [logits]) { g in
        [try g.expandingShape(at: -1) * grad]
    }
}

/// Sparse softmax cross-entropy with label checking; returns the values and, with an ignored
/// class, the mask of labels that count.
func sparseSoftmaxCrossEntropy(logits: Tensor, labels: Tensor, ignoreClass: Int?) throws
    -> (values: Tensor, mask: Tensor?)
{
    let cols = logits.shape.last ?? 1
    let rows = labels.scalarCount
    let indices = IntTensor(uninitializedShape: labels.shape)
    let valid = Tensor(uninitializedShape: labels.shape)
    let bad = ck_sparse_labels(
        Int64(rows), labels.pointer, Int32(clamping: cols), ignoreClass == nil ? 0 : 1,
        Int32(clamping: ignoreClass ?? 0), indices.storage.pointer, valid.pointer)
    if bad >= 0 {
        throw PeregrineError.invalidArgument(
            operation: "sparse_categorical_crossentropy",
            expected: "integer labels in 0..<\(cols)" + (ignoreClass.map { " or \($0)" } ?? ""),
            actual: "\(labels.scalars[Int(bad)]) at index \(bad)")
    }
    let loss = Tensor(uninitializedShape: labels.shape)
    let grad = Tensor(uninitializedShape: logits.shape)
    ck_sparse_softmax_cross_entropy(
        Int64(rows), Int64(cols), logits.pointer, indices.storage.pointer, loss.pointer,
        grad.pointer, ignoreClass == nil ? nil : valid.pointer)
    var values = loss
    if ignoreClass != nil {
        values = try loss * valid  // ignored entries score exactly 0
    }
    let output = values.recorded("sparse_softmax_cross_entropy", inputs: [logits]) { g in
        [try g.expandingShape(at: -1) * grad]
    }
    return (output, ignoreClass == nil ? nil : valid)
}
