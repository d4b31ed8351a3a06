/// What `compile` fixes: the optimizer, one loss per output with its weight, and the metrics.
final class TrainingConfiguration {
    let optimizer: Optimizer
    let losses: [any Loss]
    let lossWeights: [Float]
    let metricNames: [String]
    /// Per output, fresh metric objects (their kind may be chosen at the first batch).
    var metrics: [[Metric]]

    init(optimizer: Optimizer, losses: [any Loss], lossWeights: [Float], metricNames: [String]) throws {
        self.optimizer = optimizer
        self.losses = losses
        self.lossWeights = lossWeights
        self.metricNames = metricNames
        self.metrics = try losses.map { _ in try metricNames.map(makeMetric(named:)) }
    }
}

extension Model {
    /// The optimizer `compile` set (Keras's `model.optimizer`), nil before.
    ///
    /// ```swift
    /// model.optimizer?.currentLearningRate   // 0.001
    /// ```
    public var optimizer: Optimizer? { training?.optimizer }

    /// Prepares the model for `fit` and `evaluate`: Keras's `compile`.
    ///
    /// ```swift
    /// try model.compile(optimizer: Adam(learningRate: 1e-3),
    ///                   loss: SparseCategoricalCrossentropy(fromLogits: true),
    ///                   metrics: ["accuracy"])
    /// ```
    public func compile(optimizer: Optimizer, loss: any Loss, metrics: [String] = []) throws {
        try compile(optimizer: optimizer, losses: Array(repeating: loss, count: outputs.isEmpty ? 1 : outputs.count), metrics: metrics)
    }

    /// Compiles a model with several outputs: one loss per output, the total weighted by
    /// `lossWeights` (1 each by default).
    ///
    /// ```swift
    /// try model.compile(optimizer: SGD(), losses: [MeanSquaredError(), CategoricalCrossentropy()],
    ///                   lossWeights: [1, 0.5])
    /// ```
    public func compile(
        optimizer: Optimizer, losses: [any Loss], metrics: [String] = [], lossWeights: [Float]? = nil
    ) throws {
        let outputCount = outputs.isEmpty ? 1 : outputs.count
        guard losses.count == outputCount else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).compile", expected: "\(outputCount) loss(es), one per output", actual: "\(losses.count)")
        }
        let weights = lossWeights ?? Array(repeating: 1, count: outputCount)
        guard weights.count == outputCount else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).compile", expected: "\(outputCount) loss weight(s)", actual: "\(weights.count)")
        }
        training = try TrainingConfiguration(
            optimizer: optimizer, losses: losses, lossWeights: weights, metricNames: metrics)
    }

    /// Keras's string form: `compile(optimizer: "adam", loss: "sparse_categorical_crossentropy")`.
    ///
    /// ```swift
    /// try model.compile(optimizer: "adam", loss: "mse", metrics: ["accuracy"])
    /// ```
    public func compile(optimizer: String, loss: String, metrics: [String] = []) throws {
        try compile(optimizer: try makeOptimizer(named: optimizer), loss: try makeLoss(named: loss), metrics: metrics)
    }
}

/// The optimizer Keras's string names, with its defaults.
func makeOptimizer(named name: String) throws -> Optimizer {
    switch name.lowercased() {
    case "sgd": return try SGD()
    case "adam": return try Adam()
    case "adamw": return try AdamW()
    case "rmsprop": return try RMSprop()
    case "adagrad": return try Adagrad()
    default:
        throw PeregrineError.invalidArgument(
            operation: "compile", expected: "an optimizer name (sgd, adam, adamw, rmsprop, adagrad)", actual: "'\(name)'")
    }
}

/// The loss Keras's string names.
func makeLoss(named name: String) throws -> any Loss {
    switch name {
    case "mse", "mean_squared_error": return MeanSquaredError()
    case "mae", "mean_absolute_error": return MeanAbsoluteError()
    case "huber", "huber_loss": return Huber()
    case "binary_crossentropy": return BinaryCrossentropy()
    case "categorical_crossentropy": return CategoricalCrossentropy()
    case "sparse_categorical_crossentropy": return SparseCategoricalCrossentropy()
    default:
        throw PeregrineError.invalidArgument(
            operation: "compile", expected: "a loss name (mse, mae, huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)",
            actual: "'\(name)'")
    }
}

extension Optimizer {
    /// Scalars Keras counts as the optimizer's variables once it has run (slots, plus the
    /// iteration counter and the learning rate); 0 before the first update.
    var variableCount: Int {
        slots.isEmpty ? 0 : 2 + slots.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.scalarCount } }
    }
}
