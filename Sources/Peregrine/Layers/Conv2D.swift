import CKernels

/// 2-D convolution over channels-last images: Keras's `Conv2D`. `[batch, h, w, in]` gives
/// `[batch, h', w', filters]`, `y = activation(conv(x, kernel) + bias)` (cross-correlation, no
/// kernel flip). One fused C pass gathers blocks of im2col rows and runs a GEMM with the bias and
/// (linear, relu, sigmoid, tanh) the activation in its store; the backward pass is chunked GEMMs
/// (`dW = im2col(x)ᵀ·dY`, `dX = col2im(dY·Wᵀ)`), recorded as one tape node.
///
/// Weights, in Keras's order and layout: `kernel` `[kh, kw, in/groups, filters]`
/// (glorot-uniform, fans counting the receptive field), `bias` `[filters]` (zeros).
///
/// `same` padding splits as TensorFlow does (the extra cell at the bottom/right); strides > 1
/// together with a dilation > 1, groups that do not divide `in` and `filters`, and a kernel
/// larger than a `valid`-padded input are errors thrown at the first call.
///
/// ```swift
/// let conv = Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, activation: .relu)
/// let y = try conv(try Tensor.ones([8, 28, 28, 1]))   // [8, 28, 28, 32]
/// ```
public final class Conv2D: Layer, @unchecked Sendable {
    /// Output channels.
    public let filters: Int
    /// Kernel height and width.
    public let kernelSize: (Int, Int)
    /// Steps between windows, vertically and horizontally.
    public let strides: (Int, Int)
    /// `valid` or `same`.
    public let padding: Padding
    /// Spacing between kernel taps (atrous convolution).
    public let dilationRate: (Int, Int)
    /// Channel groups: group g maps input channels [g·in/G, (g+1)·in/G) to filters
    /// [g·F/G, (g+1)·F/G).
    public let groups: Int
    /// Applied to the convolution plus bias.
    public let activation: ActivationFunction
    /// Whether there is a bias.
    public let useBias: Bool
    /// How the kernel starts.
    public let kernelInitializer: Initializer
    /// How the bias starts.
    public let biasInitializer: Initializer

    /// `[kh, kw, in/groups, filters]`, after build.
    public private(set) var kernel: Variable?
    /// `[filters]`, after build (nil without bias).
    public private(set) var bias: Variable?

    /// Keras's `Conv2D(filters, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
    /// groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
    /// bias_initializer="zeros")`.
    ///
    /// ```swift
    /// let conv = Conv2D(filters: 64, kernelSize: (3, 3), strides: (2, 2), padding: .same)
    /// ```
    public init(
        filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        dilationRate: (Int, Int) = (1, 1), groups: Int = 1, activation: ActivationFunction = .linear,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, name: String? = nil
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilationRate = dilationRate
        self.groups = groups
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
    }

    /// A square kernel and equal strides and dilations: `Conv2D(filters: 32, kernelSize: 3)`.
    ///
    /// ```swift
    /// let conv = Conv2D(filters: 32, kernelSize: 3, activation: .relu)
    /// ```
    public convenience init(
        filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid,
        dilationRate: Int = 1, groups: Int = 1, activation: ActivationFunction = .linear,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, name: String? = nil
    ) {
        self.init(
            filters: filters, kernelSize: (kernelSize, kernelSize), strides: (strides, strides),
            padding: padding, dilationRate: (dilationRate, dilationRate), groups: groups,
            activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            biasInitializer: biasInitializer, name: name)
    }

    override public class var kerasClassName: String { "Conv2D" }

    override public func build(inputShapes: [[Int]]) throws {
        guard inputShapes.count == 1 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one input", actual: "\(inputShapes.count) inputs")
        }
        try requireRank(inputShapes[0], 3, layer: name, describing: "an image batch [batch, height, width, channels]")
        _ = try geometry(inputShape: inputShapes[0])  // checks the configuration
        let channels = inputShapes[0][2]
        kernel = try addWeight(
            "kernel", shape: [kernelSize.0, kernelSize.1, channels / groups, filters],
            initializer: kernelInitializer)
        if useBias { bias = try addWeight("bias", shape: [filters], initializer: biasInitializer) }
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        try requireRank(shapes[0], 3, layer: name, describing: "an image batch [batch, height, width, channels]")
        let g = try geometry(inputShape: shapes[0])
        return [[Int(g.out_h), Int(g.out_w), filters]]
    }

    /// The kernel's geometry for a per-sample input shape `[h, w, c]` (batch left at 0), checking
    /// the configuration against it as Keras does.
    func geometry(inputShape: [Int], batch: Int = 0) throws -> ck_conv2d_shape {
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        let config = "filters \(filters), kernel \(kernelSize), strides \(strides), dilation \(dilationRate), groups \(groups)"
        guard filters > 0, kernelSize.0 > 0, kernelSize.1 > 0, strides.0 > 0, strides.1 > 0,
            dilationRate.0 > 0, dilationRate.1 > 0, groups > 0
        else {
            throw PeregrineError.invalidArgument(operation: name, expected: "positive sizes", actual: config)
        }
        guard (strides.0 == 1 && strides.1 == 1) || (dilationRate.0 == 1 && dilationRate.1 == 1) else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "strides of 1 when dilation_rate > 1 (or dilation 1 with strides > 1)",
                actual: config)
        }
        guard c % groups == 0, filters % groups == 0 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "input channels and filters divisible by groups",
                actual: "input shape \([-1] + inputShape), \(config)")
        }
        let effective = (dilationRate.0 * (kernelSize.0 - 1) + 1, dilationRate.1 * (kernelSize.1 - 1) + 1)
        let rows = padding.outputLength(input: h, window: effective.0, stride: strides.0)
        let cols = padding.outputLength(input: w, window: effective.1, stride: strides.1)
        guard rows.length > 0, cols.length > 0 else {
            throw PeregrineError.invalidArgument(
                operation: name,
                expected: "an input at least as large as the (dilated) kernel \(effective) with \(padding) padding",
                actual: "input shape \([-1] + inputShape)")
        }
        return ck_conv2d_shape(
            batch: Int64(batch), in_h: Int64(h), in_w: Int64(w), in_c: Int64(c),
            out_h: Int64(rows.length), out_w: Int64(cols.length), out_c: Int64(filters),
            kernel_h: Int32(kernelSize.0), kernel_w: Int32(kernelSize.1),
            stride_h: Int32(strides.0), stride_w: Int32(strides.1),
            dilation_h: Int32(dilationRate.0), dilation_w: Int32(dilationRate.1),
            pad_top: Int32(rows.before), pad_left: Int32(cols.before), groups: Int32(groups))
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        let (w, b, shape) = try operands(for: x)
        if let fused = activation.fusedKernel {
            return [Conv2D.convolution(x, w, b, shape, activation: fused, name: name)]
        }
        return [try activation(Conv2D.convolution(x, w, b, shape, activation: CK_ACT_IDENTITY, name: name))]
    }

    /// The kernel, the bias and the geometry for an input batch `x`, which is checked.
    func operands(for x: Tensor) throws -> (kernel: Tensor, bias: Tensor?, shape: ck_conv2d_shape) {
        guard let kernel else { throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt") }
        let w = kernel.value
        guard x.rank == 4, x.shape[3] == w.shape[2] * groups else {
            throw PeregrineError.shapeMismatch(
                operation: name, expected: [-1, -1, -1, w.shape[2] * groups], actual: x.shape)
        }
        return (w, bias?.value, try geometry(inputShape: Array(x.shape.dropFirst()), batch: x.shape[0]))
    }

    /// act(conv(x, w) + b) as one recorded operation: forward the fused im2col GEMM; backward
    /// ``convolutionGradients(_:_:_:output:upstream:_:activation:needed:)``.
    static func convolution(
        _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ shape: ck_conv2d_shape, activation act: ck_activation,
        name: String
    ) -> Tensor {
        let y = convolutionOutput(x, w, b, shape, activation: act)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        return y.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            convolutionGradients(x, w, b, output: y, upstream: g, shape, activation: act, needed: needed)
        })
    }

    /// act(conv(x, w) + b), not recorded: the fused im2col GEMM with the activation in its store.
    static func convolutionOutput(
        _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ shape: ck_conv2d_shape, activation act: ck_activation
    ) -> Tensor {
        var s = shape
        let y = Tensor(uninitializedShape: [Int(s.batch), Int(s.out_h), Int(s.out_w), Int(s.out_c)])
        ck_conv2d_forward(&s, x.pointer, w.pointer, b.map { UnsafePointer($0.pointer) }, act, y.pointer)
        return y
    }

    /// The gradients [dx, dw, db] of act(conv(x, w) + b) from the upstream gradient `g` at its
    /// output `y` (read only for the activation's derivative, so nil for the identity): dx by
    /// col2im(dz·wᵀ) (nil when not needed), dw = im2col(x)ᵀ·dz and db = Σ dz, with dz = g·act'(y).
    static func convolutionGradients(
        _ x: Tensor, _ w: Tensor, _ b: Tensor?, output y: Tensor?, upstream g: Tensor, _ shape: ck_conv2d_shape,
        activation act: ck_activation, needed: NeededGradients
    ) -> [Tensor?] {
        precondition(act == CK_ACT_IDENTITY || y != nil, "an activation's derivative needs the output")
        let dw = Tensor(uninitializedShape: w.shape)
        let db = b == nil ? nil : Tensor(uninitializedShape: [Int(shape.out_c)])
        // A model's first convolution reads the data, which needs no gradient: skip col2im.
        let dx = needed.contains(0) ? Tensor(uninitializedShape: x.shape) : nil
        let dz = needsActivationGradient(act, inputGradient: dx != nil) ? Tensor(uninitializedShape: g.shape) : nil
        convolutionBackward(
            shape, x: x.pointer, w: w.pointer, y: y?.pointer, upstream: g.pointer, activation: act,
            activationGradient: dz?.pointer, dx: dx?.pointer, dw: dw.pointer, db: db?.pointer)
        guard let db else { return [dx, dw] }
        return [dx, dw, db]
    }

    /// Whether ``convolutionBackward(_:x:w:y:upstream:activation:activationGradient:dx:dw:db:)``
    /// needs an `activationGradient` buffer: for sigmoid and tanh always, for ReLU (whose mask
    /// the filter gradient applies on the fly) only when col2im needs the masked gradient.
    static func needsActivationGradient(_ act: ck_activation, inputGradient: Bool) -> Bool {
        act == CK_ACT_RELU ? inputGradient : act != CK_ACT_IDENTITY
    }

    /// The convolution's backward pass into given buffers (the taped call and
    /// ``ConvolutionStage`` both run it): from dy [batch, out_h, out_w, out_c] and the output y
    /// (needed for an activation), dW, db (when not nil) and dx (when not nil; col2im).
    ///
    /// ```swift
    /// Conv2D.convolutionBackward(shape, x: x, w: w, y: y, upstream: dy, activation: CK_ACT_RELU,
    ///                            activationGradient: nil, dx: nil, dw: dw, db: db)
    /// ```
    static func convolutionBackward(
        _ shape: ck_conv2d_shape, x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafePointer<Float>?,
        upstream g: UnsafePointer<Float>, activation act: ck_activation,
        activationGradient dz: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
        dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?
    ) {
        var s = shape
        if act == CK_ACT_RELU, let y {
            // The ReLU mask is applied inside the filter gradient's blocked pass; the masked
            // gradient is kept only when col2im needs it.
            ck_conv2d_backward_filter_relu(&s, x, g, y, dx == nil ? nil : dz, dw, db)
            if let dx, let dz { ck_conv2d_backward_data(&s, dz, w, dx) }
            return
        }
        var masked = g
        if act != CK_ACT_IDENTITY, let y, let dz {
            let op: ck_unary_op = act == CK_ACT_SIGMOID ? CK_UNARY_SIGMOID : CK_UNARY_TANH
            let count = Int64(s.batch) * Int64(s.out_h) * Int64(s.out_w) * Int64(s.out_c)
            ck_unary_backward(op, count, y, y, g, dz)
            masked = UnsafePointer(dz)
        }
        if let dx { ck_conv2d_backward_data(&s, masked, w, dx) }
        ck_conv2d_backward_filter(&s, x, masked, dw, db)
    }
}
