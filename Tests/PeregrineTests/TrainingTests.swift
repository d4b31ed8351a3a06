import Foundation
import Peregrine
import Testing

/// compile / fit / evaluate / predict semantics (KERAS_SPEC §8) and the callbacks.
struct TrainingTests {
    /// A separable toy problem: the class is which of the two features is larger.
    static func data(_ n: Int, seed: UInt64) throws -> (Tensor, Tensor) {
        let x = try Tensor.randomUniform([n, 2], lowerBound: -1, upperBound: 1, seed: seed)
        let s = x.scalars
        let labels = (0..<n).map { Float(s[2 * $0] > s[2 * $0 + 1] ? 1 : 0) }
        return (x, try Tensor(shape: [n], scalars: labels))
    }

    static func model(learningRate: Float = 0.05) throws -> Sequential {
        let model = try Sequential { Input(shape: [2]); Dense(units: 8, activation: .tanh); Dense(units: 2) }
        try model.compile(
            optimizer: try Adam(learningRate: .constant(learningRate)),
            loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        return model
    }

    @Test func fitLearnsAndRecordsHistory() throws {
        RandomGenerator.setSeed(3)
        let (x, y) = try Self.data(256, seed: 1)
        let model = try Self.model()
        let history = try model.fit(x, y, batchSize: 32, epochs: 8, verbose: .silent, validationSplit: 0.25)
        #expect(history.epoch == Array(0..<8))
        #expect(Set(history.history.keys) == ["loss", "accuracy", "val_loss", "val_accuracy"])
        #expect(history.params["steps"] == 6)  // 192 training samples, batches of 32
        let losses = history.history["loss"]!
        #expect(losses.last! < losses.first! * 0.7)
        #expect(history.history["val_accuracy"]!.last! > 0.85)
        let results = try model.evaluate(x, y, batchSize: 50, verbose: .silent)
        #expect(results["accuracy"]! > 0.85)
        let predictions = try model.predict(x, batchSize: 100)
        #expect(predictions.shape == [256, 2])
    }

    @Test func fitBeforeCompileThrows() throws {
        let model = try Sequential { Input(shape: [2]); Dense(units: 1) }
        #expect { try model.fit(try Tensor.zeros([4, 2]), try Tensor.zeros([4, 1]), verbose: .silent) } throws: {
            "\($0)".contains("compile")
        }
    }

    @Test func mismatchedInputShapeThrows() throws {
        let model = try Self.model()
        #expect { try model.predict(try Tensor.zeros([4, 3])) } throws: { "\($0)".contains("(None, 2)") }
        #expect { try model.fit(try Tensor.zeros([4, 2]), try Tensor.zeros([5]), verbose: .silent) } throws: {
            "\($0)".contains("same number of samples")
        }
    }

    @Test func earlyStoppingStopsAndRestoresTheBestWeights() throws {
        RandomGenerator.setSeed(4)
        let (x, y) = try Self.data(128, seed: 2)
        // A learning rate so large that the loss explodes after the first epochs.
        let model = try Self.model(learningRate: 5)
        let stop = EarlyStopping(monitor: "loss", patience: 1, restoreBestWeights: true)
        let history = try model.fit(x, y, batchSize: 16, epochs: 30, verbose: .silent, callbacks: [stop])
        let losses = history.history["loss"]!
        #expect(losses.count < 30)
        #expect(stop.stoppedEpoch == losses.count - 1)
    }

    @Test func terminateOnNaNStopsAtTheFirstBadBatch() throws {
        let model = try Self.model()
        var scalars = [Float](repeating: 0.5, count: 64 * 2)
        scalars[40] = .nan  // sample 20, in the second batch of 16
        let x = try Tensor(shape: [64, 2], scalars: scalars)
        let terminate = TerminateOnNaN()
        let history = try model.fit(
            x, try Tensor.zeros([64]), batchSize: 16, epochs: 3, verbose: .silent, callbacks: [terminate], shuffle: false)
        #expect(terminate.terminatedAtBatch == 1)
        #expect(history.epoch == [0])
    }

    @Test func csvLoggerAndCheckpointWriteFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (x, y) = try Self.data(64, seed: 5)
        let model = try Self.model()
        let csv = folder.appendingPathComponent("log.csv")
        let checkpoint = ModelCheckpoint(folder.appendingPathComponent("w-{epoch}.safetensors").path, monitor: "loss")
        try model.fit(x, y, batchSize: 16, epochs: 2, verbose: .silent, callbacks: [CSVLogger(csv), checkpoint])
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "epoch,accuracy,loss")
        #expect(lines.count == 3)
        for epoch in 1...2 {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("w-\(epoch).safetensors").path))
        }
        // The last checkpoint holds the final weights, bit for bit.
        let restored = try Self.model()
        try restored.loadWeights(from: folder.appendingPathComponent("w-2.safetensors"))
        for (a, b) in zip(model.weights, restored.weights) {
            #expect(a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern))
        }
    }

    @Test func validationSplitTakesTheLastFraction() throws {
        let model = try Self.model()
        // 10 samples, split 0.3 → 7 train, 3 validation; steps = ceil(7 / 4) = 2.
        let history = try model.fit(try Tensor.zeros([10, 2]), try Tensor.zeros([10]), batchSize: 4, epochs: 1,
                                    verbose: .silent, validationSplit: 0.3, shuffle: false)
        #expect(history.params["steps"] == 2)
        // floor(1 · 0.9) = 0 training samples: Keras's ValueError.
        #expect { try model.fit(try Tensor.zeros([1, 2]), try Tensor.zeros([1]), verbose: .silent, validationSplit: 0.1) } throws: {
            "\($0)".contains("validation split")
        }
    }

    @Test func learningRateSchedulerSetsTheRateEachEpoch() throws {
        let (x, y) = try Self.data(32, seed: 6)
        let model = try Self.model(learningRate: 0.01)
        var seen: [Int] = []
        let scheduler = LearningRateScheduler { epoch, rate in
            seen.append(epoch)
            return rate * 0.5
        }
        try model.fit(x, y, batchSize: 16, epochs: 3, verbose: .silent, callbacks: [scheduler])
        #expect(seen == [0, 1, 2])
        #expect(Swift.abs(try #require(model.optimizer).currentLearningRate - 0.00125) < 1e-9)
    }

    /// Two outputs: the total loss is the weighted sum, and each output's loss and metrics are
    /// logged under its layer's name (Keras's `dense_2_loss`).
    @Test func multiOutputLossesAreWeightedAndPrefixed() throws {
        let input = Input(shape: [2])
        let hidden = try Dense(units: 4, activation: .tanh)(input)
        let first = try Dense(units: 1, name: "regression")(hidden)
        let second = try Dense(units: 2, name: "classes")(hidden)
        let model = try Model(inputs: [input], outputs: [first, second])
        try model.compile(
            optimizer: try SGD(learningRate: 0.1), losses: [MeanSquaredError(), SparseCategoricalCrossentropy(fromLogits: true)],
            metrics: ["accuracy"], lossWeights: [1, 0.5])
        let (x, y) = try Self.data(40, seed: 7)
        let history = try model.fit([x], [try y.reshaped(to: [40, 1]), y], batchSize: 40, epochs: 1, verbose: .silent)
        let logs = history.history.mapValues { $0[0] }
        #expect(Set(logs.keys) == ["loss", "regression_loss", "classes_loss", "regression_accuracy", "classes_accuracy"])
        #expect(Swift.abs(logs["loss"]! - (logs["regression_loss"]! + 0.5 * logs["classes_loss"]!)) < 1e-5)
    }
}
