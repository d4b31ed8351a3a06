import Foundation

/// Hooks into `fit`: Keras's `Callback`. Override what you need; `model` is set by `fit`.
///
/// ```swift
/// final class PrintLoss: Callback {
///     override func onEpochEnd(_ epoch: Int, logs: [String: Float]) throws { print(logs["loss"]!) }
/// }
/// ```
open class Callback {
    /// The model being trained.
    public internal(set) weak var model: Model?

    public init() {}

    open func onTrainBegin() throws {}
    open func onTrainEnd(logs: [String: Float]) throws {}
    open func onEpochBegin(_ epoch: Int) throws {}
    open func onEpochEnd(_ epoch: Int, logs: [String: Float]) throws {}
    open func onBatchEnd(_ batch: Int, logs: [String: Float]) throws {}
}

/// Whether a smaller or a larger monitored value is better.
public enum MonitorMode: Sendable {
    /// Larger is better for names containing "acc", smaller otherwise (Keras's "auto").
    case auto, min, max

    func prefersLarger(_ monitor: String) -> Bool {
        switch self {
        case .min: false
        case .max: true
        case .auto: monitor.contains("acc") || monitor.hasPrefix("fmeasure") || monitor.contains("auc")
        }
    }
}

/// Stops training when the monitored value stops improving (Keras's `EarlyStopping`).
///
/// ```swift
/// let stop = EarlyStopping(monitor: "val_loss", patience: 3, restoreBestWeights: true)
/// try model.fit(x, y, epochs: 100, validationSplit: 0.1, callbacks: [stop])
/// ```
public final class EarlyStopping: Callback {
    public let monitor: String
    public let minDelta: Float
    public let patience: Int
    public let restoreBestWeights: Bool
    let larger: Bool
    private var best: Float?
    private var wait = 0
    private var bestWeights: [Tensor]?
    /// The epoch training stopped at, or nil.
    public private(set) var stoppedEpoch: Int?

    public init(
        monitor: String = "val_loss", minDelta: Float = 0, patience: Int = 0,
        mode: MonitorMode = .auto, restoreBestWeights: Bool = false
    ) {
        self.monitor = monitor
        self.minDelta = Swift.abs(minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
        self.larger = mode.prefersLarger(monitor)
    }

    override public func onTrainBegin() throws {
        best = nil
        wait = 0
        bestWeights = nil
        stoppedEpoch = nil
    }

    override public func onEpochEnd(_ epoch: Int, logs: [String: Float]) throws {
        guard let current = logs[monitor], let model else { return }
        let improved = best.map { larger ? current - minDelta > $0 : current + minDelta < $0 } ?? true
        wait += 1
        if improved {
            best = current
            wait = 0
            if restoreBestWeights { bestWeights = model.weights.map(\.untrackedValue) }
        }
        if wait >= patience && epoch > 0 {
            stoppedEpoch = epoch
            model.stopTraining = true
            if restoreBestWeights, let bestWeights {
                for (variable, value) in zip(model.weights, bestWeights) { try variable.assign(value) }
            }
        }
    }
}

/// Sets the optimizer's learning rate at the start of each epoch from `schedule(epoch, lr)`.
///
/// ```swift
/// let decay = LearningRateScheduler { epoch, lr in epoch < 10 ? lr : lr * 0.9 }
/// ```
public final class LearningRateScheduler: Callback {
    let schedule: (Int, Float) -> Float

    public init(_ schedule: @escaping (_ epoch: Int, _ learningRate: Float) -> Float) {
        self.schedule = schedule
    }

    override public func onEpochBegin(_ epoch: Int) throws {
        guard let optimizer = model?.training?.optimizer else { return }
        optimizer.learningRate = .constant(schedule(epoch, optimizer.currentLearningRate))
    }
}

/// Stops training as soon as a batch's loss is NaN or infinite.
///
/// ```swift
/// try model.fit(x, y, epochs: 5, callbacks: [TerminateOnNaN()])
/// ```
public final class TerminateOnNaN: Callback {
    /// The batch whose loss was not finite, if any.
    public private(set) var terminatedAtBatch: Int?

    override public init() {}

    override public func onBatchEnd(_ batch: Int, logs: [String: Float]) throws {
        if let loss = logs["loss"], !loss.isFinite {
            terminatedAtBatch = batch
            model?.stopTraining = true
        }
    }
}

/// Appends each epoch's logs to a CSV file (Keras's `CSVLogger`): `epoch,key1,key2,…`.
///
/// ```swift
/// try model.fit(x, y, epochs: 5, callbacks: [CSVLogger(URL(fileURLWithPath: "training.csv"))])
/// ```
public final class CSVLogger: Callback {
    public let url: URL
    public let separator: String
    public let append: Bool
    private var keys: [String]?
    private var handle: FileHandle?

    public init(_ url: URL, separator: String = ",", append: Bool = false) {
        self.url = url
        self.separator = separator
        self.append = append
    }

    override public func onTrainBegin() throws {
        let exists = FileManager.default.fileExists(atPath: url.path)
        if !append || !exists {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw PeregrineError.invalidArgument(operation: "CSVLogger", expected: "a writable file", actual: url.path)
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle?.seekToEnd()
        keys = append && exists ? [] : nil
    }

    override public func onEpochEnd(_ epoch: Int, logs: [String: Float]) throws {
        let sortedKeys = logs.keys.sorted()
        if keys == nil {
            keys = sortedKeys
            try handle?.write(contentsOf: Data(((["epoch"] + sortedKeys).joined(separator: separator) + "\n").utf8))
        }
        let columns = (keys?.isEmpty ?? true) ? sortedKeys : keys!
        let row = ["\(epoch)"] + columns.map { logs[$0].map { "\($0)" } ?? "" }
        try handle?.write(contentsOf: Data((row.joined(separator: separator) + "\n").utf8))
    }

    override public func onTrainEnd(logs: [String: Float]) throws {
        try handle?.close()
        handle = nil
    }
}

/// Saves the model's weights (safetensors, atomically) at the end of each epoch, or only when
/// the monitored value improves (Keras's `ModelCheckpoint` with `save_weights_only=True`).
/// `{epoch}` in the path is replaced by the 1-based epoch number.
///
/// ```swift
/// let checkpoint = ModelCheckpoint("checkpoints/cnn-{epoch}.safetensors", monitor: "val_loss",
///                                  saveBestOnly: true)
/// ```
public final class ModelCheckpoint: Callback {
    public let path: String
    public let monitor: String
    public let saveBestOnly: Bool
    let larger: Bool
    private var best: Float?

    public init(_ path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto) {
        self.path = path
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.larger = mode.prefersLarger(monitor)
    }

    override public func onTrainBegin() throws { best = nil }

    override public func onEpochEnd(_ epoch: Int, logs: [String: Float]) throws {
        guard let model else { return }
        if saveBestOnly {
            guard let current = logs[monitor] else { return }
            if let best, larger ? current <= best : current >= best { return }
            best = current
        }
        let url = URL(fileURLWithPath: path.replacingOccurrences(of: "{epoch}", with: "\(epoch + 1)"))
        try model.saveWeights(to: url)
    }
}
