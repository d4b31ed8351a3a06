import ArgumentParser
import Foundation
import Peregrine

/// `peregrine train`: the compass workloads on Fashion-MNIST, Adam 1e-3, as the anchors run them.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a compass workload (mlp, cnn, cnnbn, lstm) on Fashion-MNIST.",
        discussion: """
            Trains with Adam(1e-3) and sparse categorical cross-entropy on logits, printing Keras's \
            progress bar, then one line: test_acc, the best epoch's training samples/s and the \
            inference samples/s over the test set. Without the dataset (Debian's \
            dataset-fashion-mnist) it trains on an embedded synthetic set and says so.
            """)

    @Option(help: "Workload: mlp, cnn, cnnbn or lstm.")
    var model: String = "cnn"

    @Option(help: "Passes over the training data.")
    var epochs: Int = 2

    @Option(help: "Samples per training step.")
    var batchSize: Int = 128

    @Option(help: "Use at most this many training and test samples.")
    var limit: Int?

    @Option(help: "Folder with the Fashion-MNIST IDX files.")
    var data: String = FashionMNIST.defaultDirectory.path

    @Option(help: "Write the trained weights (safetensors) here.")
    var save: String?

    @Option(help: "Seed of initial weights, dropout and shuffling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard CompassWorkload(rawValue: model) != nil else {
            throw ValidationError("--model expects one of mlp, cnn, cnnbn, lstm, got '\(model)'")
        }
        guard epochs > 0 else { throw ValidationError("--epochs expects a positive count, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size expects a positive count, got \(batchSize)") }
        if let limit, limit <= 0 { throw ValidationError("--limit expects a positive count, got \(limit)") }
    }

    func run() throws {
        let workload = CompassWorkload(rawValue: model)!
        RandomGenerator.setSeed(seed)
        let (trainImages, trainLabels, testImages, testLabels) = try loadData()
        let x = try workload.inputs(trainImages), xTest = try workload.inputs(testImages)

        let network = try workload.makeModel()
        try network.compile(
            optimizer: try Adam(learningRate: 1e-3),
            loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        var bestRate = 0.0
        for epoch in 0..<epochs {
            print("Epoch \(epoch + 1)/\(epochs)")
            let start = ContinuousClock.now
            try network.fit(x, trainLabels, batchSize: batchSize, epochs: 1)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            bestRate = max(bestRate, Double(x.shape[0]) / seconds)
        }
        let start = ContinuousClock.now
        _ = try network.predict(xTest, batchSize: 256)
        let inferRate = Double(xTest.shape[0]) / ((ContinuousClock.now - start) / .seconds(1))
        let results = try network.evaluate(xTest, testLabels, batchSize: 256, verbose: .silent)
        if let save {
            try network.saveWeights(to: URL(fileURLWithPath: save))
            print("saved weights to \(save)")
        }
        print(String(
            format: "test_acc=%.4f train_samples_per_s=%.0f infer_samples_per_s=%.0f",
            results["accuracy"] ?? 0, bestRate, inferRate))
    }

    /// Fashion-MNIST from `--data`, or the embedded synthetic set when the folder is missing.
    func loadData() throws -> (Tensor, Tensor, Tensor, Tensor) {
        let directory = URL(fileURLWithPath: data)
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("train-images-idx3-ubyte.gz").path) {
            let (x, y) = try FashionMNIST.load(directory: directory, split: .train, limit: limit)
            let (xt, yt) = try FashionMNIST.load(directory: directory, split: .test, limit: limit)
            print("Fashion-MNIST from \(directory.path): \(x.shape[0]) training, \(xt.shape[0]) test images")
            return (x, y, xt, yt)
        }
        let trainCount = min(limit ?? 12000, 60000), testCount = min(limit ?? 2000, 10000)
        print("""
            Fashion-MNIST not found in \(directory.path): training on the embedded synthetic set \
            (\(trainCount) training, \(testCount) test images of oriented gratings).
            Install the real data with `apt-get install dataset-fashion-mnist` (or pass --data DIR).
            """)
        let (x, y) = SyntheticImages.make(count: trainCount, seed: 1)
        let (xt, yt) = SyntheticImages.make(count: testCount, seed: 2)
        return (x, y, xt, yt)
    }
}
