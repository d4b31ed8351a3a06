import CKernels

/// Average pooling over windows of channels-last images: Keras's `AveragePooling2D`. With
/// `same` padding each window divides by its number of real (unpadded) cells.
///
/// ```swift
/// let pool = AveragePooling2D(poolSize: (2, 2), padding: .same)
/// let y = try pool(try Tensor.ones([1, 3, 3, 1]))   // [1, 2, 2, 1], all ones
/// ```
public final class AveragePooling2D: Layer, @unchecked Sendable {
    /// Window height and width (no default, as in Keras 3.15).
    public let poolSize: (Int, Int)
    /// Steps between windows (the pool size unless given).
    public let strides: (Int, Int)
    /// `valid` or `same`.
    public let padding: Padding
    private let geometry: PoolingGeometry

    /// Keras's `AveragePooling2D(pool_size, strides=None, padding="valid")`.
    ///
    /// ```swift
    /// let pool = AveragePooling2D(poolSize: (3, 3), strides: (1, 1), padding: .same)
    /// ```
    public init(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) {
        geometry = PoolingGeometry(poolSize: poolSize, strides: strides, padding: padding)
        self.poolSize = poolSize
        self.strides = geometry.strides
        self.padding = padding
        super.init(name: name)
    }

    override public class var kerasClassName: String { "AveragePooling2D" }

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
        ck_avgpool2d_forward(&s, x.pointer, y.pointer)
        return [y.recorded(name, inputs: [x]) { g in
            var s = shape
            let dx = Tensor(uninitializedShape: x.shape)
            ck_avgpool2d_backward(&s, g.pointer, dx.pointer)
            return [dx]
        }]
    }
}
