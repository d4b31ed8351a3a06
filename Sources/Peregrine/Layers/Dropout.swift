import CKernels

/// Keras's `Dropout(rate, seed=None)`: while training, each element is zeroed with probability
/// `rate` and the survivors scaled by 1/(1 − rate) (inverted dropout), so inference is the
/// identity. One C pass draws the mask and applies it; the recorded backward pass multiplies
/// the upstream gradient by the same mask.
///
/// The mask comes from the global ``RandomGenerator`` stream, or with `seed` from the layer's
/// own stream, which advances on every training call (Keras's per-layer seed generator).
///
/// `noiseShape` (Keras's `noise_shape`) is the mask's shape, batch axis included, with `nil`
/// entries taking the input's size: `[nil, 1, nil]` on `[batch, time, features]` drops the same
/// features at every time step. Each entry must be 1 or the input's size (it broadcasts).
///
/// ```swift
/// let dropout = Dropout(rate: 0.5, seed: 7)
/// let y = try dropout(try Tensor.ones([2, 4]), training: true)   // 2.0 or 0.0 each
/// ```
public final class Dropout: Layer, @unchecked Sendable {
    /// The fraction of elements dropped while training, in [0, 1].
    public let rate: Float
    /// The layer's own stream, when given.
    public let seed: UInt64?
    /// The mask's shape with the batch axis, nil entries meaning the input's size; nil: the input's.
    public let noiseShape: [Int?]?
    /// Counters of the layer's own stream used so far.
    private var seedOffset: UInt64 = 0

    /// A `Dropout` layer dropping `rate` of its inputs while training.
    ///
    /// ```swift
    /// let layer = Dropout(rate: 0.25)
    /// let perFeature = Dropout(rate: 0.5, noiseShape: [nil, 1, nil])
    /// ```
    public init(rate: Float, noiseShape: [Int?]? = nil, seed: UInt64? = nil, name: String? = nil) {
        self.rate = rate
        self.noiseShape = noiseShape
        self.seed = seed
        super.init(name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard rate >= 0, rate <= 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a rate in [0, 1]", actual: "\(rate)")
        }
        guard inputShapes.count == 1 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "one input", actual: "\(inputShapes.count)")
        }
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        guard training, rate > 0 else { return [x] }
        let shape = try maskShape(for: x.shape)
        let n = shape.reduce(1, *)
        let stream = nextStream(n)
        if shape != x.shape {
            // A broadcast mask: draw it over the noise shape (ones → 0 or 1/(1 − rate)), then x·mask.
            let ones = try Tensor.ones(shape)
            let scaled = Tensor(uninitializedShape: shape), drawn = Tensor(uninitializedShape: shape)
            ck_dropout_forward(Int64(n), stream.seed, stream.offset, rate, ones.pointer, scaled.pointer, drawn.pointer)
            return [try x * scaled]
        }
        let y = Tensor(uninitializedShape: x.shape)
        let mask = Tensor(uninitializedShape: x.shape)
        ck_dropout_forward(Int64(n), stream.seed, stream.offset, rate, x.pointer, y.pointer, mask.pointer)
        return [y.recorded(name, inputs: [x]) { g in [try g * mask] }]
    }

    /// Where the next `count` random numbers come from: the layer's own seeded stream, or the
    /// global one. Each call moves past the numbers it hands out.
    ///
    /// ```swift
    /// let (seed, offset) = dropout.nextStream(128 * 64)
    /// ```
    func nextStream(_ count: Int) -> (seed: UInt64, offset: UInt64) {
        guard let seed else { return RandomGenerator.reserve(count) }
        defer { seedOffset &+= UInt64(count) }
        return (seed, seedOffset)
    }

    /// The mask shape for an input of `shape`: `noiseShape` with nil entries filled in.
    private func maskShape(for shape: [Int]) throws -> [Int] {
        guard let noiseShape else { return shape }
        guard noiseShape.count == shape.count else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "a noise_shape of rank \(shape.count) (batch axis included) for input \(shape)",
                actual: "\(noiseShape.map { $0.map(String.init) ?? "None" })")
        }
        return try zip(noiseShape, shape).map { entry, size in
            let value = entry ?? size
            guard value == size || value == 1 else {
                throw PeregrineError.invalidArgument(
                    operation: name, expected: "noise_shape entries of 1 or the input's size (input \(shape))",
                    actual: "\(value)")
            }
            return value
        }
    }
}
