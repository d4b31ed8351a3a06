import CKernels

/// Keras's `SimpleRNN`: `h = activation(x·kernel + bias + h·recurrentKernel)` over
/// `[batch, time, features]`, h starting at zero.
///
/// The whole sequence is one fused C call (`ck_simple_rnn_forward`: one GEMM for all input
/// projections, then one recurrent GEMM and one activation pass per step) recorded as one tape
/// node. Weights: `kernel` `[in, units]` (glorot-uniform), `recurrent_kernel` `[units, units]`
/// (orthogonal), `bias` `[units]` (zeros). `returnState` gives `[output, h]`. Activations:
/// tanh (default), sigmoid, relu, linear; masking, dropout and stateful carry-over are not
/// implemented yet.
///
/// ```swift
/// let rnn = SimpleRNN(units: 16, returnSequences: true)
/// let y = try rnn(try Tensor.ones([4, 10, 3]))   // [4, 10, 16]
/// ```
public final class SimpleRNN: Layer, @unchecked Sendable {
    /// Dimension of h.
    public let units: Int
    /// Applied to each step's pre-activation.
    public let activation: ActivationFunction
    /// Whether there is a bias.
    public let useBias: Bool
    /// Whether the output is every step's h rather than the last.
    public let returnSequences: Bool
    /// Whether the final h follows the output.
    public let returnState: Bool
    /// Whether the steps run from the last to the first.
    public let goBackwards: Bool
    /// How the kernel starts.
    public let kernelInitializer: Initializer
    /// How the recurrent kernel starts.
    public let recurrentInitializer: Initializer
    /// How the bias starts.
    public let biasInitializer: Initializer

    /// `[in, units]`, after build.
    public private(set) var kernel: Variable?
    /// `[units, units]`, after build.
    public private(set) var recurrentKernel: Variable?
    /// `[units]`, after build (nil without bias).
    public private(set) var bias: Variable?

    /// Keras's `SimpleRNN(units, activation="tanh", use_bias=True, return_sequences=False,
    /// return_state=False, go_backwards=False, kernel_initializer="glorot_uniform",
    /// recurrent_initializer="orthogonal", bias_initializer="zeros")`.
    ///
    /// ```swift
    /// let rnn = SimpleRNN(units: 8, activation: .relu)
    /// ```
    public init(
        units: Int, activation: ActivationFunction = .tanh, useBias: Bool = true,
        returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
        kernelInitializer: Initializer = .glorotUniform,
        recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
        name: String? = nil
    ) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard activation.fusedKernel != nil else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "activation tanh, sigmoid, relu or linear", actual: "\(activation)")
        }
        let features = try recurrentFeatures(inputShapes, layer: name, units: units)
        kernel = try addWeight("kernel", shape: [features, units], initializer: kernelInitializer)
        recurrentKernel = try addWeight("recurrent_kernel", shape: [units, units], initializer: recurrentInitializer)
        if useBias { bias = try addWeight("bias", shape: [units], initializer: biasInitializer) }
    }

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        recurrentOutputShapes(shapes, units: units, returnSequences: returnSequences, returnState: returnState, stateCount: 1)
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard let kernel, let recurrentKernel, let act = activation.fusedKernel else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], w = kernel.value, u = recurrentKernel.value, b = bias?.value
        let (batch, steps) = try recurrentInputShape(x, layer: name, features: w.shape[0])
        let layout = RecurrentOutputLayout(
            batch: batch, steps: steps, units: units, returnSequences: returnSequences,
            returnState: returnState, stateCount: 1)
        return layout.outputs(sequence(x, w, u, b, act: act, layout: layout), layer: name)
    }

    /// The whole sequence as one recorded operation (ck_simple_rnn_forward / _backward).
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, act: ck_activation, layout: RecurrentOutputLayout) -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_simple_rnn_saved_size(n, t, f, un))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, _) = layout.parts(packed.pointer)
        ck_simple_rnn_forward(
            n, t, f, un, act, back, x.pointer, w.pointer, u.pointer, b?.pointer, nil, saved.pointer,
            ySeq, hLast)
        let inputs = b.map { [x, w, u, $0] } ?? [x, w, u]
        return packed.recorded(name, inputs: inputs) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_simple_rnn_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, _) = layout.parts(g.pointer)
            ck_simple_rnn_backward(
                n, t, f, un, act, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast,
                scratch.pointer, dx.pointer, dw.pointer, du.pointer, db?.pointer, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        }
    }
}
