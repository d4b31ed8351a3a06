import CKernels

/// A small image set generated in code, the stand-in for Fashion-MNIST when it is not
/// installed: 28×28 oriented gratings under noise, ten classes by orientation, deterministic
/// for a seed.
///
/// ```swift
/// let (images, labels) = SyntheticImages.make(count: 6000, seed: 1)   // [6000, 28, 28, 1], [6000]
/// ```
public enum SyntheticImages {
    /// `count` images `[count, 28, 28, 1]` in [0, 1] and their labels `[count]` (0…9 as floats).
    public static func make(count: Int, seed: UInt64) -> (images: Tensor, labels: Tensor) {
        let images = Tensor(uninitializedShape: [count, 28, 28, 1])
        let labels = Tensor(uninitializedShape: [count])
        ck_synthetic_images(Int64(count), seed, images.pointer, labels.pointer)
        return (images, labels)
    }
}
