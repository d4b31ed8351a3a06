import CKernels

extension Conv2D {
    /// This convolution (no activation) followed by `batchNorm` in inference mode, and by a ReLU
    /// when `relu`, as one convolution, for the `Conv2D → BatchNormalization
    /// [→ Activation(.relu)]` chains of Sequential and functional models (GraphFusions) in
    /// inference with nothing recorded. Inference normalization is an
    /// affine map per channel, `y = z·inv + shift`, so it folds into the convolution's kernel
    /// and bias (`ck_batchnorm_fold`): the normalization pass over the convolution's output,
    /// the largest tensor of the block, disappears, and the ReLU goes into the GEMM's store.
    /// Equal to the unfolded layers up to rounding (a few ulp: the scale multiplies the kernel
    /// before the sum instead of the sum after it).
    ///
    /// ```swift
    /// let y = try conv.callFoldingBatchNorm(bn, x, relu: true)   // ≈ relu(bn(conv(x), training: false))
    /// ```
    func callFoldingBatchNorm(_ batchNorm: BatchNormalization, _ x: Tensor, relu: Bool) throws -> Tensor {
        try buildIfNeeded(inputShapes: [Array(x.shape.dropFirst())])
        let (w, b, shape) = try operands(for: x)
        try batchNorm.buildIfNeeded(inputShapes: [[Int(shape.out_h), Int(shape.out_w), Int(shape.out_c)]])
        guard let mean = batchNorm.movingMean?.value, let variance = batchNorm.movingVariance?.value else {
            throw PeregrineError.invalidArgument(operation: batchNorm.name, expected: "a built layer", actual: "unbuilt")
        }
        let channels = w.shape[3]
        guard mean.shape == [channels] else {  // built for another input
            throw PeregrineError.shapeMismatch(
                operation: batchNorm.name, expected: [-1, Int(shape.out_h), Int(shape.out_w), mean.shape[0]],
                actual: [Int(shape.batch), Int(shape.out_h), Int(shape.out_w), channels])
        }
        let gamma = batchNorm.gamma?.value, beta = batchNorm.beta?.value
        let kernel = Tensor(uninitializedShape: w.shape)
        let bias = Tensor(uninitializedShape: [channels])
        ck_batchnorm_fold(
            Int64(w.scalarCount / channels), Int64(channels), w.pointer, b.map { UnsafePointer($0.pointer) },
            gamma.map { UnsafePointer($0.pointer) }, beta.map { UnsafePointer($0.pointer) },
            mean.pointer, variance.pointer, batchNorm.epsilon, kernel.pointer, bias.pointer)
        return Conv2D.convolutionOutput(x, kernel, bias, shape, activation: relu ? CK_ACT_RELU : CK_ACT_IDENTITY)
    }
}
