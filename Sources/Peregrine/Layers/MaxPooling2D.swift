import CKernels

/// Max pooling over windows of channels-last images: Keras's `MaxPooling2D` (alias
/// ``MaxPool2D``). Padded cells never win; the backward pass routes each gradient to the cell
/// that won (the first maximum of its window), kept from the forward pass.
///
/// ```swift
/// let pool = MaxPooling2D(poolSize: (2, 2))            // strides default to the pool size
/// let y = try pool(try Tensor.ones([8, 28, 28, 32]))   // [8, 14, 14, 32]
/// ```
public final class MaxPooling2D: Layer, @unchecked Sendable {
    /// Window height and width.
    public let poolSize: (Int, Int)
    /// Steps between windows (the pool size unless given).
    public let strides: (Int, Int)
    /// `valid` or `same`.
    public let padding: Padding
    let geometry: PoolingGeometry

    /// Keras's `MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid")`.
    ///
    /// ```swift
    /// let pool = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same)
    /// ```
    public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) {
        geometry = PoolingGeometry(poolSize: poolSize, strides: strides, padding: padding)
        self.poolSize = poolSize
        self.strides = geometry.strides
        self.padding = padding
        super.init(name: name)
    }

    override public class var kerasClassName: String { "MaxPooling2D" }

    override public func build(inputShapes: [[Int]]) throws {
        _ = try geometry.shape(layer: name, inputShape: inputShapes[0])
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        let s = try geometry.shape(layer: name, inputShape: shapes[0])
        return [[Int(s.out_h), Int(s.out_w), Int(s.channels)]]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        try requireImageBatch(x, layer: name)
        let shape = try geometry.shape(layer: name, inputShape: Array(x.shape.dropFirst()), batch: x.shape[0])
        var s = shape
        let y = Tensor(uninitializedShape: [x.shape[0], Int(s.out_h), Int(s.out_w), Int(s.channels)])
        // The winners are kept only when a tape will ask for the gradient.
        guard GradientTape.recordingTapes.contains(where: { $0.tracks(x) }) else {
            ck_maxpool2d_forward(&s, x.pointer, y.pointer, nil)
            return [y]
        }
        let winners = ArgmaxBuffer(count: y.scalarCount)
        ck_maxpool2d_forward(&s, x.pointer, y.pointer, winners.buffer.baseAddress)
        return [y.recorded(name, inputs: [x]) { g in
            var s = shape
            let dx = Tensor(uninitializedShape: x.shape)
            ck_maxpool2d_backward(&s, g.pointer, winners.buffer.baseAddress, dx.pointer)
            return [dx]
        }]
    }
}

/// Keras's other name for ``MaxPooling2D``.
///
/// ```swift
/// let pool = MaxPool2D(poolSize: (2, 2))
/// ```
public typealias MaxPool2D = MaxPooling2D

/// The winning cells of a max pooling, freed with the tape node that needs them; the memory
/// comes from and goes back to the tensor buffer pool (no allocation per training step).
final class ArgmaxBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Int32>
    init(count: Int) {
        let count = Swift.max(count, 1)
        buffer = UnsafeMutableBufferPointer(
            start: TensorBufferPool.shared.take(byteCount: count * 4).bindMemory(to: Int32.self, capacity: count),
            count: count)
    }
    deinit { TensorBufferPool.shared.give(UnsafeMutableRawPointer(buffer.baseAddress!), byteCount: buffer.count * 4) }
}
