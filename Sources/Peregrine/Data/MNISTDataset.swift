#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// MNIST-format datasets (MNIST, Fashion-MNIST, KMNIST): four IDX files in one directory,
/// loaded as Keras's `mnist.load_data()` returns them after the usual preprocessing —
/// images `[N, 28, 28, 1]` scaled to [0, 1], labels a float tensor `[N]` of class indices.
///
/// ```swift
/// let (x, y) = try MNISTDataset.load(directory: URL(fileURLWithPath: "/data/mnist"), split: .test)
/// x.shape   // [10000, 28, 28, 1]
/// ```
public enum MNISTDataset {
    /// The training or the test half.
    ///
    /// ```swift
    /// let train = try MNISTDataset.load(directory: dir, split: .train)
    /// ```
    public enum Split: Sendable {
        /// `train-images-idx3-ubyte(.gz)` and `train-labels-idx1-ubyte(.gz)`: 60 000 examples.
        ///
        /// ```swift
        /// let (x, y) = try MNISTDataset.load(directory: dir, split: .train)
        /// ```
        case train
        /// `t10k-images-idx3-ubyte(.gz)` and `t10k-labels-idx1-ubyte(.gz)`: 10 000 examples.
        ///
        /// ```swift
        /// let (xTest, yTest) = try MNISTDataset.load(directory: dir, split: .test)
        /// ```
        case test

        var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// The number of classes; every label must be below it.
    ///
    /// ```swift
    /// let head = Dense(units: MNISTDataset.classCount)
    /// ```
    public static let classCount = 10

    /// Loads one split from `directory`, preferring the `.gz` files and falling back to the
    /// uncompressed names; `limit` keeps the first `limit` examples.
    ///
    /// Throws ``PeregrineError`` naming the file when one is missing, corrupt or truncated,
    /// when images and labels disagree in count, or a label is not a class index.
    ///
    /// ```swift
    /// let (x, y) = try MNISTDataset.load(directory: dir, split: .train, limit: 1000)
    /// ```
    public static func load(directory: URL, split: Split = .train, limit: Int? = nil) throws
        -> (images: Tensor, labels: Tensor)
    {
        let imagesURL = locate(directory, "\(split.filePrefix)-images-idx3-ubyte")
        let labelsURL = locate(directory, "\(split.filePrefix)-labels-idx1-ubyte")
        let images = try IDXFile.read(imagesURL, rank: 3, limit: limit, scale: 1 / 255)
        let labels = try IDXFile.read(labelsURL, rank: 1, limit: limit)
        guard images.shape[0] == labels.shape[0] else {
            throw PeregrineError.invalidArgument(
                operation: "MNISTDataset.load '\(directory.path)'",
                expected: "as many labels as images (\(images.shape[0]) in \(imagesURL.lastPathComponent))",
                actual: "\(labels.shape[0]) labels in \(labelsURL.lastPathComponent)")
        }
        if let bad = labels.withUnsafeBufferPointer({ $0.firstIndex { $0 >= Float(classCount) } }) {
            throw PeregrineError.invalidArgument(
                operation: "IDXFile.read '\(labelsURL.path)'",
                expected: "class indices below \(classCount)", actual: "label \(labels.scalars[bad]) at index \(bad)")
        }
        return (try images.reshaped(to: images.shape + [1]), labels)
    }

    /// `directory/name.gz` when it exists, else `directory/name`.
    static func locate(_ directory: URL, _ name: String) -> URL {
        let compressed = directory.appendingPathComponent(name + ".gz")
        return FileManager.default.fileExists(atPath: compressed.path)
            ? compressed : directory.appendingPathComponent(name)
    }
}
