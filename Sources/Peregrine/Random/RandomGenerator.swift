import CKernels
import Synchronization

/// Peregrine's global random stream: initializers, dropout masks and shuffling draw from it, so
/// one ``setSeed(_:)`` makes a whole run reproducible (Keras's `utils.set_random_seed`).
///
/// Each draw takes the next block of a counter-based stream (`ck_random_*`), so the numbers do
/// not depend on thread counts, and two draws never overlap.
///
/// ```swift
/// RandomGenerator.setSeed(42)
/// let model = try Sequential { Dense(units: 10) }   // same initial weights every run
/// ```
public enum RandomGenerator {
    private static let state = Mutex<(seed: UInt64, offset: UInt64)>(
        (UInt64.random(in: .min ... .max), 0))

    /// Restarts the global stream from `seed`.
    ///
    /// ```swift
    /// RandomGenerator.setSeed(1337)
    /// ```
    public static func setSeed(_ seed: UInt64) {
        state.withLock { $0 = (seed, 0) }
    }

    /// Reserves `count` numbers of the stream: the (seed, offset) to generate them from.
    static func reserve(_ count: Int) -> (seed: UInt64, offset: UInt64) {
        state.withLock { s in
            defer { s.offset &+= UInt64(count) }
            return (s.seed, s.offset)
        }
    }

    /// Uniform numbers in [low, high) from the global stream.
    static func uniform(_ shape: [Int], low: Float, high: Float) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let (seed, offset) = reserve(result.scalarCount)
        ck_random_uniform(Int64(result.scalarCount), seed, offset, low, high, result.pointer)
        return result
    }

    /// Normal(mean, stddev) numbers from the global stream.
    static func normal(_ shape: [Int], mean: Float, stddev: Float) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        // Box–Muller consumes two uniforms per normal: reserve both.
        let (seed, offset) = reserve(2 * result.scalarCount)
        ck_random_normal(Int64(result.scalarCount), seed, offset, mean, stddev, result.pointer)
        return result
    }

    /// A uniformly random order of `count` indices from the global stream.
    static func permutation(_ count: Int) -> IntTensor {
        let result = IntTensor(uninitializedShape: [count])
        let (seed, offset) = reserve(count)
        ck_random_permutation(Int64(count), seed, offset, result.storage.pointer)
        return result
    }
}
