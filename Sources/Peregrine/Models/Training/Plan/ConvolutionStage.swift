import CKernels

/// A ``Conv2D`` layer in a ``TrainingPlan`` — alone, or with the ``MaxPooling2D`` that follows
/// a ReLU convolution fused in, as `Sequential` runs that pair on a tape (GraphFusions).
///
/// Alone: y = act(conv(x, W) + b), backward through
/// ``Conv2D/convolutionBackward(_:x:w:y:upstream:activation:activationGradient:dx:dw:db:)``.
/// Fused: the ReLU convolution's output y is kept, pooled into the stage's output with the
/// winners recorded; backward masks dy by ReLU′ of the pooled values, routes it to the winners
/// (dz, y's shape) and runs the identity convolution's backward on dz.
///
/// ```swift
/// let stage = ConvolutionStage(conv, pool: pool, inputShape: [128, 28, 28, 1])
/// ```
final class ConvolutionStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    let gradients: [(variable: Variable, gradient: Tensor)]
    private let kernel: Variable, bias: Variable?
    private let shape: ck_conv2d_shape
    private let activation: ck_activation
    /// The convolution's output: the stage's output, or with a pool, a shared temporary read
    /// only by the pooling (the tape frees it there too).
    private var convolved: Tensor
    private let convolvedShape: [Int]
    /// The pool's geometry and its winners.
    private let pool: (shape: ck_pool2d_shape, winners: ArgmaxBuffer)?
    /// Temporaries, buffers the plan's stages share: with a pool, dy masked by ReLU′ [pooled]
    /// and routed to the winners [convolved] (the forward's convolved output before that);
    /// without, act′(y) ⊙ dy [convolved] when the convolution's backward needs it (sigmoid,
    /// tanh; ReLU under col2im).
    private var scratch: [Tensor] = []

    init?(_ conv: Conv2D, pool maxPool: MaxPooling2D?, inputShape: [Int]) {
        guard let kernel = conv.kernel, let activation = conv.activation.fusedKernel, inputShape.count == 4,
            inputShape[3] == kernel.shape[2] * conv.groups, maxPool == nil || activation == CK_ACT_RELU,
            let shape = try? conv.geometry(inputShape: Array(inputShape.dropFirst()), batch: inputShape[0])
        else { return nil }
        self.kernel = kernel
        bias = conv.bias
        self.shape = shape
        self.activation = maxPool == nil ? activation : CK_ACT_IDENTITY
        convolvedShape = [Int(shape.batch), Int(shape.out_h), Int(shape.out_w), Int(shape.out_c)]
        // With a pool, the plan binds a shared buffer (bindTemporaries) before the first step.
        convolved = Tensor(uninitializedShape: maxPool == nil ? convolvedShape : [0])
        if let maxPool {
            guard let poolShape = try? maxPool.geometry.shape(
                layer: maxPool.name, inputShape: Array(convolvedShape.dropFirst()), batch: inputShape[0])
            else { return nil }
            output = Tensor(uninitializedShape: [inputShape[0], Int(poolShape.out_h), Int(poolShape.out_w), Int(poolShape.channels)])
            pool = (poolShape, ArgmaxBuffer(count: output.scalarCount))
            layers = [conv, maxPool]
        } else {
            output = convolved
            pool = nil
            layers = [conv]
        }
        gradients = [kernel, bias].compactMap { $0 }.map { ($0, Tensor(uninitializedShape: $0.shape)) }
    }

    func forward(_ x: Tensor) throws {
        var s = shape
        let w = kernel.untrackedValue, b = bias?.untrackedValue
        // With a pool, the ReLU is the convolution's (the stage's own activation is the identity).
        let act = pool == nil ? activation : CK_ACT_RELU
        ck_conv2d_forward(&s, x.pointer, w.pointer, b.map { UnsafePointer($0.pointer) }, act, convolved.pointer)
        if let (shape, winners) = pool {
            var poolShape = shape
            ck_maxpool2d_forward(&poolShape, convolved.pointer, output.pointer, winners.buffer.baseAddress)
        }
    }

    func temporaryShapes(computesInputGradient: Bool) -> [[Int]] {
        if pool != nil { return [output.shape, convolvedShape] }
        return Conv2D.needsActivationGradient(activation, inputGradient: computesInputGradient) ? [convolvedShape] : []
    }

    func bindTemporaries(_ buffers: [Tensor]) {
        scratch = buffers
        if pool != nil { convolved = buffers[1] }
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        var upstream = UnsafePointer(outputGradient.pointer)
        var activationGradient = scratch.first
        if let (shape, winners) = pool {
            var poolShape = shape
            let (masked, routed) = (scratch[0], scratch[1])
            ck_unary_backward(
                CK_UNARY_RELU, Int64(output.scalarCount), output.pointer, output.pointer, outputGradient.pointer, masked.pointer)
            ck_maxpool2d_backward(&poolShape, masked.pointer, winners.buffer.baseAddress, routed.pointer)
            upstream = UnsafePointer(routed.pointer)
            activationGradient = nil
        }
        let w = kernel.untrackedValue
        Conv2D.convolutionBackward(
            shape, x: x.pointer, w: w.pointer, y: convolved.pointer, upstream: upstream, activation: activation,
            activationGradient: activationGradient?.pointer, dx: inputGradient?.pointer,
            dw: gradients[0].gradient.pointer, db: bias == nil ? nil : gradients[1].gradient.pointer)
    }
}
