import CKernels

extension Conv2D {
    /// This convolution (with `activation: .relu`) followed by `pool`, as one tape node, for
    /// ``Sequential``'s `Conv2D(relu) → MaxPooling2D` pairs. The forward pass is the two layers'
    /// own kernels; the backward pass moves the ReLU's mask to the pooled gradient, four times
    /// smaller: at each window's winner the ReLU's output is the pooled value, so
    /// `relu'(y)·scatter(g) = scatter(g·[pooled > 0])`, and every other cell gets nothing either
    /// way. That saves the pass that read the convolution's output and its full-size gradient
    /// again (~9% of a one-core cnn training step), and the output itself is not kept for
    /// backward. Results equal the unfused layers' bit for bit.
    ///
    /// ```swift
    /// let pooled = try conv.callFusingMaxPool(pool, x)   // == pool(conv(x)), conv.activation == .relu
    /// ```
    func callFusingMaxPool(_ pool: MaxPooling2D, _ x: Tensor) throws -> Tensor {
        try buildIfNeeded(inputShapes: [Array(x.shape.dropFirst())])
        let (w, b, shape) = try operands(for: x)
        let y = Conv2D.convolutionOutput(x, w, b, shape, activation: CK_ACT_RELU)
        try pool.buildIfNeeded(inputShapes: [Array(y.shape.dropFirst())])
        let poolShape = try pool.geometry.shape(layer: pool.name, inputShape: Array(y.shape.dropFirst()), batch: y.shape[0])
        var s = poolShape
        let pooled = Tensor(uninitializedShape: [y.shape[0], Int(s.out_h), Int(s.out_w), Int(s.channels)])
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        // The winners are kept only when a tape will ask for the gradient.
        guard GradientTape.recordingTapes.contains(where: { tape in inputs.contains { tape.tracks($0) } }) else {
            ck_maxpool2d_forward(&s, y.pointer, pooled.pointer, nil)
            return pooled
        }
        let winners = ArgmaxBuffer(count: pooled.scalarCount)
        ck_maxpool2d_forward(&s, y.pointer, pooled.pointer, winners.buffer.baseAddress)
        let outputShape = y.shape
        return pooled.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            let masked = Tensor(uninitializedShape: pooled.shape)
            ck_unary_backward(CK_UNARY_RELU, Int64(pooled.scalarCount), pooled.pointer, pooled.pointer, g.pointer, masked.pointer)
            var s = poolShape
            let dz = Tensor(uninitializedShape: outputShape)
            ck_maxpool2d_backward(&s, masked.pointer, winners.buffer.baseAddress, dz.pointer)
            return Conv2D.convolutionGradients(
                x, w, b, output: nil, upstream: dz, shape, activation: CK_ACT_IDENTITY, needed: needed)
        })
    }
}
