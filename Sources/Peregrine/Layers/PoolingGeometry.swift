import CKernels

/// The window geometry shared by the 2-D pooling layers: Keras's output size and `same` split,
/// checked against the input as Keras does.
struct PoolingGeometry {
    let poolSize: (Int, Int)
    let strides: (Int, Int)
    let padding: Padding

    /// `strides: nil` means strides equal to the pool size, as in Keras.
    init(poolSize: (Int, Int), strides: (Int, Int)?, padding: Padding) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    /// The kernel's shape for a per-sample input `[h, w, c]` (batch left at 0).
    func shape(layer: String, inputShape: [Int], batch: Int = 0) throws -> ck_pool2d_shape {
        try requireRank(inputShape, 3, layer: layer, describing: "an image batch [batch, height, width, channels]")
        guard poolSize.0 > 0, poolSize.1 > 0, strides.0 > 0, strides.1 > 0 else {
            throw PeregrineError.invalidArgument(
                operation: layer, expected: "positive pool sizes and strides",
                actual: "pool size \(poolSize), strides \(strides)")
        }
        let rows = padding.outputLength(input: inputShape[0], window: poolSize.0, stride: strides.0)
        let cols = padding.outputLength(input: inputShape[1], window: poolSize.1, stride: strides.1)
        guard rows.length > 0, cols.length > 0 else {
            throw PeregrineError.invalidArgument(
                operation: layer,
                expected: "an input at least as large as the pool \(poolSize) with \(padding) padding",
                actual: "input shape \([-1] + inputShape)")
        }
        return ck_pool2d_shape(
            batch: Int64(batch), in_h: Int64(inputShape[0]), in_w: Int64(inputShape[1]),
            channels: Int64(inputShape[2]), out_h: Int64(rows.length), out_w: Int64(cols.length),
            pool_h: Int32(poolSize.0), pool_w: Int32(poolSize.1), stride_h: Int32(strides.0),
            stride_w: Int32(strides.1), pad_top: Int32(rows.before), pad_left: Int32(cols.before))
    }
}

/// Checks that a call's input is a rank-4 image batch.
func requireImageBatch(_ x: Tensor, layer: String) throws {
    guard x.rank == 4 else {
        throw PeregrineError.shapeMismatch(operation: layer, expected: [-1, -1, -1, -1], actual: x.shape)
    }
}
