import CKernels

/// A quantity averaged over the batches of an epoch: Keras's metrics. Values are weighted by
/// batch size, so the epoch's result is the mean over samples.
///
/// ```swift
/// let accuracy = SparseCategoricalAccuracy()
/// try accuracy.update(labels, logits)
/// accuracy.result   // 0.75
/// ```
public protocol Metric: AnyObject {
    /// The log key, e.g. `accuracy`.
    var name: String { get }
    /// Adds a batch.
    func update(_ yTrue: Tensor, _ yPred: Tensor) throws
    /// The mean so far (0 before any update).
    var result: Float { get }
    /// Forgets every batch.
    func reset()
}

/// Shared bookkeeping: a running sum of per-sample scores and a count of samples.
public class MeanMetric: Metric {
    public let name: String
    var total: Double = 0
    var count: Double = 0

    init(name: String) { self.name = name }

    /// Adds `value` as the mean of `weight` samples (the loss tracker's update).
    ///
    /// ```swift
    /// lossTracker.add(batchLoss, weight: 32)
    /// ```
    public func add(_ value: Float, weight: Int) {
        total += Double(value) * Double(weight)
        count += Double(weight)
    }

    public func update(_ yTrue: Tensor, _ yPred: Tensor) throws {
        throw PeregrineError.invalidArgument(operation: name, expected: "a scored metric", actual: "a mean tracker")
    }

    public var result: Float { count == 0 ? 0 : Float(total / count) }

    public func reset() {
        total = 0
        count = 0
    }

    /// Rows and classes of a prediction, for the accuracy kernels.
    func rowsAndColumns(_ yPred: Tensor) -> (Int64, Int64) {
        let columns = yPred.rank >= 2 ? yPred.shape[yPred.rank - 1] : 1
        return (Int64(yPred.scalarCount / Swift.max(columns, 1)), Int64(columns))
    }
}

/// Fraction of samples whose predicted class (argmax) is the integer label.
///
/// ```swift
/// try model.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true),
///                   metrics: ["sparse_categorical_accuracy"])
/// ```
public final class SparseCategoricalAccuracy: MeanMetric {
    override public init(name: String = "sparse_categorical_accuracy") { super.init(name: name) }

    override public func update(_ yTrue: Tensor, _ yPred: Tensor) throws {
        let (rows, columns) = rowsAndColumns(yPred)
        guard yTrue.scalarCount == rows else {
            throw PeregrineError.shapeMismatch(operation: name, expected: [Int(rows)], actual: yTrue.shape)
        }
        total += ck_accuracy_sparse(rows, columns, yPred.pointer, yTrue.pointer)
        count += Double(rows)
    }
}

/// Fraction of samples whose predicted class matches the one-hot target's.
public final class CategoricalAccuracy: MeanMetric {
    override public init(name: String = "categorical_accuracy") { super.init(name: name) }

    override public func update(_ yTrue: Tensor, _ yPred: Tensor) throws {
        guard yTrue.shape == yPred.shape else {
            throw PeregrineError.shapeMismatch(operation: name, expected: yPred.shape, actual: yTrue.shape)
        }
        let (rows, columns) = rowsAndColumns(yPred)
        total += ck_accuracy_categorical(rows, columns, yPred.pointer, yTrue.pointer)
        count += Double(rows)
    }
}

/// Per sample, the fraction of outputs where (prediction > threshold) equals the target.
public final class BinaryAccuracy: MeanMetric {
    /// The decision threshold (0.5).
    public let threshold: Float

    public init(name: String = "binary_accuracy", threshold: Float = 0.5) {
        self.threshold = threshold
        super.init(name: name)
    }

    override public func update(_ yTrue: Tensor, _ yPred: Tensor) throws {
        guard yTrue.scalarCount == yPred.scalarCount else {
            throw PeregrineError.shapeMismatch(operation: name, expected: yPred.shape, actual: yTrue.shape)
        }
        let (rows, columns) = rowsAndColumns(yPred)
        total += ck_accuracy_binary(rows, columns, yPred.pointer, yTrue.pointer, threshold)
        count += Double(rows)
    }
}

/// Keras's `"accuracy"`: the kind is chosen from the shapes at the first batch (KERAS_SPEC §8):
/// a last dimension of 1 in the prediction → binary; labels of lower rank or ending in 1 →
/// sparse categorical; otherwise categorical. The loss plays no part.
public final class Accuracy: MeanMetric {
    private var chosen: MeanMetric?

    override public init(name: String = "accuracy") { super.init(name: name) }

    override public func update(_ yTrue: Tensor, _ yPred: Tensor) throws {
        if chosen == nil {
            if yPred.shape.last == 1 {
                chosen = BinaryAccuracy(name: name)
            } else if yTrue.rank < yPred.rank || yTrue.shape.last == 1 {
                chosen = SparseCategoricalAccuracy(name: name)
            } else {
                chosen = CategoricalAccuracy(name: name)
            }
        }
        try chosen!.update(yTrue, yPred)
    }

    override public var result: Float { chosen?.result ?? 0 }
    override public func reset() { chosen?.reset() }
}

/// The metric a Keras name means (`accuracy`/`acc`, `binary_accuracy`, `categorical_accuracy`,
/// `sparse_categorical_accuracy`).
func makeMetric(named name: String) throws -> Metric {
    switch name {
    case "accuracy", "acc": return Accuracy(name: name == "acc" ? "acc" : "accuracy")
    case "binary_accuracy": return BinaryAccuracy()
    case "categorical_accuracy": return CategoricalAccuracy()
    case "sparse_categorical_accuracy": return SparseCategoricalAccuracy()
    default:
        throw PeregrineError.invalidArgument(
            operation: "compile", expected: "a metric name (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)",
            actual: "'\(name)'")
    }
}
