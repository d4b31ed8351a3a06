#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The images a ``TrainingBenchmark`` trains and predicts on.
///
/// ```swift
/// let data = try TrainingBenchmarkData.load(.fashion)   // or .synthetic
/// print(data.source)   // "Fashion-MNIST (60000 training, 10000 test images)"
/// ```
public struct TrainingBenchmarkData: Sendable {
    /// Which set: Debian's Fashion-MNIST, or the embedded synthetic gratings.
    public enum Kind: String, Sendable, CaseIterable {
        /// Fashion-MNIST from `FashionMNIST.defaultDirectory` (what the anchors read).
        case fashion
        /// ``SyntheticImages``: 12,000 training and 2,000 test images, no files needed.
        case synthetic
    }

    /// Training images `[N, 28, 28, 1]` and labels `[N]`.
    public let trainImages, trainLabels: Tensor
    /// Test images `[M, 28, 28, 1]`, for inference.
    public let testImages: Tensor
    /// What was loaded, for the report.
    public let source: String

    /// Loads `kind`; `.fashion` throws when the files are missing (see ``available(_:)``).
    ///
    /// ```swift
    /// let data = try TrainingBenchmarkData.load(TrainingBenchmarkData.available(.fashion))
    /// ```
    public static func load(_ kind: Kind) throws -> TrainingBenchmarkData {
        switch kind {
        case .fashion:
            let (x, y) = try FashionMNIST.load(split: .train)
            let (xt, _) = try FashionMNIST.load(split: .test)
            return TrainingBenchmarkData(
                trainImages: x, trainLabels: y, testImages: xt,
                source: "Fashion-MNIST (\(x.shape[0]) training, \(xt.shape[0]) test images)")
        case .synthetic:
            let (x, y) = SyntheticImages.make(count: 12000, seed: 1)
            let (xt, _) = SyntheticImages.make(count: 2000, seed: 2)
            return TrainingBenchmarkData(
                trainImages: x, trainLabels: y, testImages: xt,
                source: "synthetic gratings (\(x.shape[0]) training, \(xt.shape[0]) test images)")
        }
    }

    /// `kind`, or `.synthetic` when Fashion-MNIST's files are not installed.
    ///
    /// ```swift
    /// TrainingBenchmarkData.available(.fashion)   // .synthetic without dataset-fashion-mnist
    /// ```
    public static func available(_ kind: Kind) -> Kind {
        guard kind == .fashion else { return kind }
        let path = FashionMNIST.defaultDirectory.appendingPathComponent("train-images-idx3-ubyte.gz").path
        return access(path, R_OK) == 0 ? .fashion : .synthetic
    }
}

/// Times one compass workload as a user runs it: compiled with Adam(1e-3) and sparse categorical
/// cross-entropy on logits (the anchors' loss) with the accuracy metric, trained with `fit`
/// (batch 128, shuffled each epoch, as `keras_fmnist.py` does) and run with `predict` (batch 256,
/// the anchors' inference batch). It also exposes the pieces of one step — forward, backward, the
/// full step — for the `Benchmarks/` suite.
///
/// ```swift
/// let bench = try TrainingBenchmark(workload: .cnn, data: try .load(.synthetic))
/// try bench.warmUp()
/// let train = try bench.trainingSamplesPerSecond(steps: 50)      // samples/s, full steps
/// let infer = try bench.inferenceSamplesPerSecond()              // samples/s over the test set
/// let gflops = train * bench.arithmetic.trainingFLOPs * 1e-9
/// ```
public final class TrainingBenchmark {
    /// The workload measured.
    public let workload: CompassWorkload
    /// Its model, compiled.
    public let model: Sequential
    /// FLOPs per sample of the model's products (training and inference).
    public let arithmetic: ModelArithmetic
    /// Samples per training step (128, as the anchors).
    public let batchSize: Int
    /// Samples per `predict` batch (256, as the anchors).
    public let inferenceBatchSize: Int

    private let x, y, xTest: Tensor
    private let batchX, batchY, predictX: Tensor
    /// The fixed batch as `trainStep` and the plans take it (made once: an array per step allocates).
    private let batch: (x: [Tensor], y: [Tensor])
    private let loss = SparseCategoricalCrossentropy(fromLogits: true)

    /// The model for `workload`, compiled, and the data reshaped for it; seeds the global random
    /// stream with `seed` (weights, dropout, shuffling).
    ///
    /// ```swift
    /// let bench = try TrainingBenchmark(workload: .lstm, data: try .load(.fashion))
    /// ```
    public init(
        workload: CompassWorkload, data: TrainingBenchmarkData, batchSize: Int = 128,
        inferenceBatchSize: Int = 256, seed: UInt64 = 0
    ) throws {
        guard batchSize > 0, inferenceBatchSize > 0, data.trainImages.shape[0] >= batchSize,
            data.testImages.shape[0] >= 1
        else {
            throw PeregrineError.invalidArgument(
                operation: "TrainingBenchmark(\(workload))",
                expected: "positive batch sizes and at least one training batch",
                actual: "batch \(batchSize)/\(inferenceBatchSize), images \(data.trainImages.shape), \(data.testImages.shape)")
        }
        RandomGenerator.setSeed(seed)
        self.workload = workload
        self.batchSize = batchSize
        self.inferenceBatchSize = inferenceBatchSize
        model = try workload.makeModel()
        arithmetic = try ModelArithmetic(model)
        try model.compile(optimizer: try Adam(learningRate: 1e-3), loss: loss, metrics: ["accuracy"])
        x = try workload.inputs(data.trainImages)
        y = data.trainLabels
        xTest = try workload.inputs(data.testImages)
        batchX = try x[0..<batchSize]
        batchY = try y[0..<batchSize]
        batch = ([batchX], [batchY])
        predictX = try xTest[0..<Swift.min(inferenceBatchSize, xTest.shape[0])]
    }

    /// Whether training steps run on the model's ``TrainingPlan`` (the default) or, set to
    /// false, on the tape: the two paths side by side in one process.
    ///
    /// ```swift
    /// bench.usesTrainingPlan = false   // step() records and differentiates a tape
    /// ```
    public var usesTrainingPlan: Bool {
        get { model.usesTrainingPlans }
        set { model.usesTrainingPlans = newValue }
    }

    /// Test images available for ``inferenceSamplesPerSecond(samples:)``.
    public var testSampleCount: Int { xTest.shape[0] }

    /// Runs `steps` training steps and one `predict` pass over `inferenceSamples` test images, so
    /// that lazily built state (optimizer slots, kernel scratch, thread pools) exists before timing.
    ///
    /// ```swift
    /// try bench.warmUp(steps: 5)
    /// ```
    public func warmUp(steps: Int = 5, inferenceSamples: Int = 1024) throws {
        _ = try trainingSamplesPerSecond(steps: steps)
        _ = try inferenceSamplesPerSecond(samples: inferenceSamples)
    }

    /// Training samples/s of one `fit` epoch over the first `steps · batchSize` training images:
    /// full steps (forward, loss, backward, Adam update), with the shuffling gather and the
    /// accuracy metric a Keras `fit` also pays.
    ///
    /// ```swift
    /// let rate = try bench.trainingSamplesPerSecond(steps: 50)
    /// ```
    public func trainingSamplesPerSecond(steps: Int) throws -> Double {
        let count = Swift.min(Swift.max(steps, 1) * batchSize, x.shape[0])
        let (xs, ys) = (try x[0..<count], try y[0..<count])
        let seconds = try Self.seconds {
            try model.fit(xs, ys, batchSize: batchSize, epochs: 1, verbose: .silent)
        }
        return Double(count) / seconds
    }

    /// Inference samples/s of `predict` (batch ``inferenceBatchSize``) over the first `samples`
    /// test images (all by default, as the anchors do).
    ///
    /// ```swift
    /// let rate = try bench.inferenceSamplesPerSecond()
    /// ```
    public func inferenceSamplesPerSecond(samples: Int? = nil) throws -> Double {
        let count = Swift.min(Swift.max(samples ?? xTest.shape[0], 1), xTest.shape[0])
        let xs = try xTest[0..<count]
        let seconds = try Self.seconds { _ = try model.predict(xs, batchSize: inferenceBatchSize) }
        return Double(count) / seconds
    }

    // MARK: - The pieces of one step, on one fixed batch

    /// The forward pass in training mode on one batch, no tape.
    ///
    /// ```swift
    /// try bench.forward()
    /// ```
    public func forward() throws {
        _ = try model(batchX, training: true)
    }

    /// A recorded forward pass and loss, waiting for ``backward(_:)``.
    public struct RecordedForward {
        let tape: GradientTape
        let loss: Tensor
    }

    /// Records the forward pass and the loss on one batch (what ``backward(_:)`` differentiates).
    ///
    /// ```swift
    /// let recorded = try bench.recordForward()
    /// try bench.backward(recorded)
    /// ```
    public func recordForward() throws -> RecordedForward {
        let tape = GradientTape()
        let value = try tape.recording { try loss(batchY, try model(batchX, training: true)) }
        return RecordedForward(tape: tape, loss: value)
    }

    /// The backward pass: the gradients of a recorded loss w.r.t. the trainable weights.
    public func backward(_ recorded: RecordedForward) throws {
        _ = try recorded.tape.gradient(recorded.loss, model.trainableWeights)
    }

    /// One full training step on one batch: forward, loss, backward, Adam update (no shuffling,
    /// no metric: the step alone).
    ///
    /// ```swift
    /// try bench.step()
    /// ```
    public func step() throws {
        // fit's step: the model's TrainingPlan (no heap allocation once warm), else the tape.
        guard let training = model.training else { return }
        if let plan = model.trainingPlans.plan(for: model, training: training, x: batch.x, y: batch.y) {
            _ = try plan.step(batchX, batchY, optimizer: training.optimizer)
        } else {
            _ = try model.trainStep(training, batch.x, batch.y)
        }
    }

    /// One inference batch (``inferenceBatchSize`` test images) through `predict`.
    public func predictBatch() throws {
        _ = try model.predict(predictX, batchSize: inferenceBatchSize)
    }

    /// Samples in one inference batch (at most ``inferenceBatchSize``).
    public var predictBatchSize: Int { predictX.shape[0] }

    // MARK: - Process measurements

    /// The process's peak resident set size so far, in bytes (`getrusage`'s `ru_maxrss`).
    ///
    /// ```swift
    /// let megabytes = Double(TrainingBenchmark.peakResidentBytes()) / 1e6
    /// ```
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
    }

    /// Seconds `body` takes on the monotonic clock.
    ///
    /// ```swift
    /// let s = try TrainingBenchmark.seconds { try bench.step() }
    /// ```
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

/// Throughput of one workload at one thread count: every repeat's samples/s, the median and
/// the efficiency against the FMA peak measured in the same run.
///
/// ```swift
/// let result = TrainingThroughput(workload: .cnn, threads: 2, train: [5900, 6100, 6000],
///                                 infer: [20000, 21000, 20500], fmaPeakGFLOPS: 350,
///                                 arithmetic: try ModelArithmetic(try CompassWorkload.cnn.makeModel()))
/// result.trainEfficiency   // ≈ 0.26 of the peak
/// ```
public struct TrainingThroughput: Sendable {
    /// The workload.
    public let workload: CompassWorkload
    /// Kernel threads.
    public let threads: Int
    /// Training samples/s, one per repeat.
    public let train: [Double]
    /// Inference samples/s, one per repeat.
    public let infer: [Double]
    /// fp32 FMA peak at `threads` threads, GFLOP/s, measured in the same run.
    public let fmaPeakGFLOPS: Double
    /// FLOPs per sample.
    public let arithmetic: ModelArithmetic

    /// Collects one configuration's measurements.
    public init(
        workload: CompassWorkload, threads: Int, train: [Double], infer: [Double], fmaPeakGFLOPS: Double,
        arithmetic: ModelArithmetic
    ) {
        self.workload = workload
        self.threads = threads
        self.train = train
        self.infer = infer
        self.fmaPeakGFLOPS = fmaPeakGFLOPS
        self.arithmetic = arithmetic
    }

    /// Median training samples/s.
    public var trainMedian: Double { Self.median(train) }
    /// Median inference samples/s.
    public var inferMedian: Double { Self.median(infer) }
    /// Achieved training GFLOP/s (median rate × training FLOPs per sample).
    public var trainGFLOPS: Double { trainMedian * arithmetic.trainingFLOPs * 1e-9 }
    /// Achieved inference GFLOP/s.
    public var inferGFLOPS: Double { inferMedian * arithmetic.inferenceFLOPs * 1e-9 }
    /// Training GFLOP/s as a fraction of the FMA peak.
    public var trainEfficiency: Double { fmaPeakGFLOPS > 0 ? trainGFLOPS / fmaPeakGFLOPS : 0 }
    /// Inference GFLOP/s as a fraction of the FMA peak.
    public var inferEfficiency: Double { fmaPeakGFLOPS > 0 ? inferGFLOPS / fmaPeakGFLOPS : 0 }

    /// The median of `values` (mean of the middle two for an even count; 0 when empty).
    ///
    /// ```swift
    /// TrainingThroughput.median([3, 1, 2])   // 2
    /// ```
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
