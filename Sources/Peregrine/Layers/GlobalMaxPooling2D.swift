import CKernels

/// The maximum over height and width of channels-last images: Keras's `GlobalMaxPooling2D`.
/// `[batch, h, w, c]` gives `[batch, c]`, or `[batch, 1, 1, c]` with `keepDims`. The gradient is
/// shared equally by the cells that tie for the maximum (TF's reduce_max gradient).
///
/// ```swift
/// let pool = GlobalMaxPooling2D()
/// let y = try pool(try Tensor.ones([8, 7, 7, 64]))   // [8, 64]
/// ```
public final class GlobalMaxPooling2D: Layer, @unchecked Sendable {
    /// Whether the pooled axes stay as size 1.
    public let keepDims: Bool

    /// Keras's `GlobalMaxPooling2D(keepdims=False)`.
    ///
    /// ```swift
    /// let pool = GlobalMaxPooling2D(keepDims: true)
    /// ```
    public init(keepDims: Bool = false, name: String? = nil) {
        self.keepDims = keepDims
        super.init(name: name)
    }

    override public class var kerasClassName: String { "GlobalMaxPooling2D" }

    override public func build(inputShapes: [[Int]]) throws {
        try requireRank(inputShapes[0], 3, layer: name, describing: "an image batch [batch, height, width, channels]")
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        try requireRank(shapes[0], 3, layer: name, describing: "an image batch [batch, height, width, channels]")
        return [keepDims ? [1, 1, shapes[0][2]] : [shapes[0][2]]]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        try requireImageBatch(x, layer: name)
        let (n, cells, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        guard cells > 0 else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a non-empty image", actual: "input shape \(x.shape)")
        }
        let y = Tensor(uninitializedShape: keepDims ? [n, 1, 1, c] : [n, c])
        ck_global_maxpool2d_forward(Int64(n), Int64(cells), Int64(c), x.pointer, y.pointer)
        return [y.recorded(name, inputs: [x]) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            ck_global_maxpool2d_backward(Int64(n), Int64(cells), Int64(c), x.pointer, y.pointer, g.pointer, dx.pointer)
            return [dx]
        }]
    }
}
