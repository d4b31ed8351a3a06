import CKernels

/// How much `fit`, `evaluate` and `predict` print.
public enum Verbosity: Sendable {
    /// A progress bar (Keras's "auto" = 1).
    case auto
    /// Nothing.
    case silent
    /// A progress bar.
    case progressBar
    /// One line per epoch.
    case oneLinePerEpoch

    var level: Int {
        switch self {
        case .silent: 0
        case .auto, .progressBar: 1
        case .oneLinePerEpoch: 2
        }
    }
}

extension Model {
    /// Set by a callback to end `fit` after the current epoch (batch, for TerminateOnNaN).
    public var stopTraining: Bool {
        get { stopRequested }
        set { stopRequested = newValue }
    }

    /// Trains for `epochs` passes over `x` and `y` (Keras's `fit`): batches of `batchSize`
    /// (the last partial batch kept), reshuffled each epoch when `shuffle`; `validationSplit`
    /// holds out the LAST fraction before any shuffling. Returns the ``History``.
    ///
    /// ```swift
    /// let history = try model.fit(x, y, batchSize: 128, epochs: 2, validationSplit: 0.1)
    /// ```
    @discardableResult
    public func fit(
        _ x: Tensor, _ y: Tensor, batchSize: Int = 32, epochs: Int = 1,
        verbose: Verbosity = .auto, callbacks: [Callback] = [], validationSplit: Float = 0,
        validationData: (x: Tensor, y: Tensor)? = nil, shuffle: Bool = true
    ) throws -> History {
        try fit(
            [x], [y], batchSize: batchSize, epochs: epochs, verbose: verbose, callbacks: callbacks,
            validationSplit: validationSplit, validationData: validationData.map { ([$0.x], [$0.y]) },
            shuffle: shuffle)
    }

    /// `fit` for models with several inputs and outputs: one tensor per input and per output.
    ///
    /// ```swift
    /// try model.fit([a, b], [y1, y2], epochs: 5)
    /// ```
    @discardableResult
    public func fit(
        _ x: [Tensor], _ y: [Tensor], batchSize: Int = 32, epochs: Int = 1,
        verbose: Verbosity = .auto, callbacks: [Callback] = [], validationSplit: Float = 0,
        validationData: (x: [Tensor], y: [Tensor])? = nil, shuffle: Bool = true
    ) throws -> History {
        guard let training else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).fit", expected: "a compiled model (call compile first)", actual: "not compiled")
        }
        guard batchSize > 0, epochs >= 0 else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).fit", expected: "batchSize > 0 and epochs >= 0", actual: "batchSize \(batchSize), epochs \(epochs)")
        }
        let count = try sampleCount(x, y, operation: "fit")
        var (trainX, trainY) = (x, y)
        var validation = validationData
        if validationSplit > 0 {
            guard validationSplit < 1, validation == nil else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name).fit", expected: "validationSplit in (0, 1) and no validationData with it",
                    actual: "\(validationSplit)")
            }
            let splitAt = Int((Double(count) * (1 - Double(validationSplit))).rounded(.down))
            guard splitAt > 0, splitAt < count else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name).fit", expected: "a validation split leaving samples on both sides",
                    actual: "split at \(splitAt) of \(count)")
            }
            trainX = try x.map { try $0[0..<splitAt] }
            trainY = try y.map { try $0[0..<splitAt] }
            validation = (try x.map { try $0[splitAt..<count] }, try y.map { try $0[splitAt..<count] })
        }
        let trainCount = trainX[0].shape[0]
        let steps = (trainCount + batchSize - 1) / batchSize
        let history = History()
        history.params = ["epochs": epochs, "steps": steps]
        self.history = history
        stopTraining = false
        for callback in callbacks { callback.model = self }
        for callback in callbacks { try callback.onTrainBegin() }
        var lastLogs: [String: Float] = [:]
        var batches = BatchAssembler(x: trainX, y: trainY)
        var plannedOutput: (predictions: [Tensor], masks: [Tensor?], losses: [Float]) = ([Tensor(0)], [nil], [0])

        for epoch in 0..<epochs {
            if verbose.level == 1 && epochs > 1 { ProgressBar.standardOutput("Epoch \(epoch + 1)/\(epochs)\n") }
            for callback in callbacks { try callback.onEpochBegin(epoch) }
            let bar = verbose.level > 0 ? ProgressBar(target: steps, verbose: verbose.level) : nil
            let trackers = resetTrackers(training)
            let order = shuffle ? try randomPermutation(trainCount) : nil
            var logs: [String: Float] = [:]
            for step in 0..<steps {
                let range = step * batchSize..<Swift.min(trainCount, (step + 1) * batchSize)
                try batches.assemble(range, order: order)
                if let plan = trainingPlans.plan(for: self, training: training, x: batches.x, y: batches.y) {
                    // The planned step, and its bookkeeping in buffers kept from the last batch:
                    // once warm, a step allocates nothing.
                    let loss = try plan.step(batches.x[0], batches.y[0], optimizer: training.optimizer)
                    plannedOutput.predictions[0] = plan.predictions
                    plannedOutput.losses[0] = loss
                    try updateTrackers(
                        trackers, training, batches.y, plannedOutput.predictions, plannedOutput.masks, total: loss,
                        perOutput: plannedOutput.losses, batch: range.count, logs: &logs)
                } else {
                    let (total, perOutput, predictions, masks) = try trainStep(training, batches.x, batches.y)
                    try updateTrackers(
                        trackers, training, batches.y, predictions, masks, total: total.scalar ?? .nan,
                        perOutput: perOutput.map { $0.scalar ?? .nan }, batch: range.count, logs: &logs)
                }
                bar?.update(step + 1, values: logs)
                for callback in callbacks { try callback.onBatchEnd(step, logs: logs) }
                if stopTraining { break }
            }
            if let validation {
                let results = try evaluate(validation.x, validation.y, batchSize: batchSize, verbose: .silent)
                for (key, value) in results { logs["val_" + key] = value }
            }
            if let bar, validation != nil { bar.update(steps, values: logs, finalize: true) }
            history.record(epoch: epoch, logs: logs)
            lastLogs = logs
            for callback in callbacks { try callback.onEpochEnd(epoch, logs: logs) }
            if stopTraining { break }
        }
        for callback in callbacks { try callback.onTrainEnd(logs: lastLogs) }
        return history
    }

    /// The loss (and metrics) on `x`, `y` in inference mode, batch-size-weighted over batches.
    ///
    /// ```swift
    /// let results = try model.evaluate(xTest, yTest)   // ["accuracy": 0.87, "loss": 0.36]
    /// ```
    public func evaluate(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, verbose: Verbosity = .auto) throws -> [String: Float] {
        try evaluate([x], [y], batchSize: batchSize, verbose: verbose)
    }

    /// `evaluate` for several inputs and outputs.
    public func evaluate(_ x: [Tensor], _ y: [Tensor], batchSize: Int = 32, verbose: Verbosity = .auto) throws -> [String: Float] {
        guard let training else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).evaluate", expected: "a compiled model (call compile first)", actual: "not compiled")
        }
        let count = try sampleCount(x, y, operation: "evaluate")
        let steps = (count + batchSize - 1) / batchSize
        let bar = verbose.level > 0 ? ProgressBar(target: steps, verbose: verbose.level) : nil
        let trackers = resetTrackers(training)
        // The weights do not change during the call: layers pack them once (PackedWeights).
        return try PackedWeights.withScope(batches: steps) {
            var logs: [String: Float] = [:]
            for step in 0..<steps {
                let range = step * batchSize..<Swift.min(count, (step + 1) * batchSize)
                let xb = try x.map { try $0.rowsView(range) }
                let yb = try y.map { try $0.rowsView(range) }
                let (predictions, masks) = try callWithMasks(xb, training: false)
                let (total, perOutput) = try weightedLoss(training, yb, predictions, masks)
                try updateTrackers(
                    trackers, training, yb, predictions, masks, total: total.scalar ?? .nan,
                    perOutput: perOutput.map { $0.scalar ?? .nan }, batch: range.count, logs: &logs)
                bar?.update(step + 1, values: logs)
            }
            return logs
        }
    }

    /// The model's outputs on `x` in inference mode, batch by batch, concatenated.
    ///
    /// ```swift
    /// let probabilities = try model.predict(xTest, batchSize: 256)
    /// ```
    public func predict(_ x: Tensor, batchSize: Int = 32) throws -> Tensor {
        let outputs = try predict([x], batchSize: batchSize)
        guard outputs.count == 1 else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).predict", expected: "a single-output model (use predict([x]))", actual: "\(outputs.count) outputs")
        }
        return outputs[0]
    }

    /// `predict` for several inputs and outputs.
    public func predict(_ x: [Tensor], batchSize: Int = 32) throws -> [Tensor] {
        guard batchSize > 0, let count = x.first?.shape.first else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).predict", expected: "inputs with a batch axis and batchSize > 0", actual: "\(x.map(\.shape))")
        }
        var parts: [[Tensor]] = []
        // The weights do not change during the call: layers pack them once (PackedWeights).
        try PackedWeights.withScope(batches: (count + batchSize - 1) / batchSize) {
            var start = 0
            while start < count {
                let range = start..<Swift.min(count, start + batchSize)
                parts.append(try self(try x.map { try $0.rowsView(range) }, training: false))
                start = range.upperBound
            }
        }
        guard let first = parts.first else { return try self(x, training: false) }
        return try first.indices.map { output in try Tensor.concatenate(parts.map { $0[output] }, axis: 0) }
    }

    // MARK: - Pieces of the loop

    private func sampleCount(_ x: [Tensor], _ y: [Tensor], operation: String) throws -> Int {
        let expectedOutputs = outputs.isEmpty ? 1 : outputs.count
        guard !x.isEmpty, y.count == expectedOutputs else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).\(operation)", expected: "\(expectedOutputs) target tensor(s)", actual: "\(y.count)")
        }
        let counts = (x + y).map { $0.rank > 0 ? $0.shape[0] : -1 }
        guard let count = counts.first, count > 0, counts.allSatisfy({ $0 == count }) else {
            throw PeregrineError.invalidArgument(
                operation: "\(name).\(operation)", expected: "x and y with the same number of samples (> 0)",
                actual: "\((x + y).map(\.shape))")
        }
        return count
    }

    /// The compiled losses of each output (weighted by the output's Keras mask, if any) and
    /// their weighted total.
    /// One optimizer step on one batch, on a tape: forward and loss recorded, their gradients, the
    /// optimizer's update (what `fit` runs when the model has no ``TrainingPlan`` for the batch).
    /// Returns the loss and what the metrics need.
    func trainStep(_ training: TrainingConfiguration, _ x: [Tensor], _ y: [Tensor]) throws
        -> (total: Tensor, perOutput: [Tensor], predictions: [Tensor], masks: [Tensor?])
    {
        let tape = GradientTape()
        let (total, perOutput, predictions, masks) = try tape.recording {
            let (predictions, masks) = try callWithMasks(x, training: true)
            let (total, perOutput) = try weightedLoss(training, y, predictions, masks)
            return (total, perOutput, predictions, masks)
        }
        // Read after the forward pass: a model not built yet builds on its first batch.
        let variables = trainableWeights
        let gradients = try tape.gradient(total, variables)
        try training.optimizer.apply(gradients, to: variables)
        return (total, perOutput, predictions, masks)
    }

    private func weightedLoss(_ training: TrainingConfiguration, _ y: [Tensor], _ predictions: [Tensor], _ masks: [Tensor?]) throws -> (Tensor, [Tensor]) {
        let perOutput = try training.losses.indices.map { i in
            try training.losses[i](y[i], predictions[i], mask: i < masks.count ? masks[i] : nil)
        }
        var total = perOutput[0] * training.lossWeights[0]
        for i in perOutput.indices.dropFirst() { total = try total + perOutput[i] * training.lossWeights[i] }
        return (total, perOutput)
    }

    private func resetTrackers(_ training: TrainingConfiguration) -> [MeanMetric] {
        for metrics in training.metrics { for metric in metrics { metric.reset() } }
        return (0...training.losses.count).map { _ in MeanMetric(name: "loss") }
    }

    /// Adds a batch to the running means and writes the logs so far into `logs` (in place: the
    /// same keys every batch, so a warm step does not allocate a dictionary).
    private func updateTrackers(
        _ trackers: [MeanMetric], _ training: TrainingConfiguration, _ y: [Tensor], _ predictions: [Tensor],
        _ masks: [Tensor?], total: Float, perOutput: [Float], batch: Int, logs: inout [String: Float]
    ) throws {
        trackers[0].add(total, weight: batch)
        logs["loss"] = trackers[0].result
        let multiple = perOutput.count > 1
        for (index, loss) in perOutput.enumerated() {
            let prefix = multiple ? outputName(index) + "_" : ""
            if multiple {
                trackers[index + 1].add(loss, weight: batch)
                logs[prefix + "loss"] = trackers[index + 1].result
            }
            for metric in training.metrics[index] {
                try metric.update(y[index], predictions[index], mask: index < masks.count ? masks[index] : nil)
                logs[multiple ? prefix + metric.name : metric.name] = metric.result
            }
        }
    }

    private func outputName(_ index: Int) -> String {
        index < outputs.count ? outputs[index].layer.name : "output_\(index)"
    }

    /// A seeded random order of `count` rows, from the global stream (so `RandomGenerator.setSeed`
    /// makes shuffling reproducible).
    private func randomPermutation(_ count: Int) throws -> IntTensor {
        RandomGenerator.permutation(count)
    }
}
