#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Zalando's Fashion-MNIST (Keras's `fashion_mnist.load_data()`): 28×28 grey images of ten
/// kinds of clothing, in MNIST's IDX format. Debian's `dataset-fashion-mnist` package installs
/// it in ``defaultDirectory``.
///
/// ```swift
/// let (x, y) = try FashionMNIST.load(split: .train)   // [60000, 28, 28, 1], [60000]
/// FashionMNIST.classNames[Int(y.scalars[0])]          // "Ankle boot"
/// ```
public enum FashionMNIST {
    /// Where `dataset-fashion-mnist` puts the files: `/usr/share/datasets/fashion-mnist`.
    ///
    /// ```swift
    /// FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path)
    /// ```
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// The class of each label index.
    ///
    /// ```swift
    /// FashionMNIST.classNames[9]   // "Ankle boot"
    /// ```
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads a split: images `[N, 28, 28, 1]` in [0, 1], labels `[N]` (see ``MNISTDataset``).
    ///
    /// ```swift
    /// let (x, y) = try FashionMNIST.load(split: .test, limit: 100)
    /// ```
    public static func load(
        directory: URL = defaultDirectory, split: MNISTDataset.Split = .train, limit: Int? = nil
    ) throws -> (images: Tensor, labels: Tensor) {
        try MNISTDataset.load(directory: directory, split: split, limit: limit)
    }
}
