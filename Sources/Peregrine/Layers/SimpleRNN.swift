import CKernels

/// Keras's `SimpleRNN`: `h = activation(x·kernel + bias + h·recurrentKernel)` over
/// `[batch, time, features]`, h starting at zero.
///
/// The whole sequence is one fused C call (`ck_simple_rnn_forward`: one GEMM for all input
/// projections, then one recurrent GEMM and one activation pass per step) recorded as one tape
/// node. Weights: `kernel` `[in, units]` (glorot-uniform), `recurrent_kernel` `[units, units]`
/// (orthogonal), `bias` `[units]` (zeros). `returnState` gives `[output, h]`. Activations:
/// tanh (default), sigmoid, relu, linear.
///
/// Keras's masking, dropout and state (RecurrentSteps.swift): a `[batch, time]` mask carries h
/// and the output over masked steps; `dropout` is one input mask and `recurrentDropout` one
/// mask on h, both drawn once per call while training; `stateful` carries h over.
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

    /// Fraction of the inputs dropped while training (Keras's `dropout`).
    public let dropout: Float
    /// Fraction of h dropped in the recurrent product while training (`recurrent_dropout`).
    public let recurrentDropout: Float
    /// Whether the final state becomes the next call's initial state.
    public let stateful: Bool
    /// The seed of the layer's own dropout stream (nil: the global stream).
    public let seed: UInt64?
    private var seedOffset: UInt64 = 0
    private let stateStore = RecurrentStateStore()

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
        dropout: Float = 0, recurrentDropout: Float = 0, stateful: Bool = false, seed: UInt64? = nil,
        name: String? = nil
    ) {
        self.dropout = min(1, max(0, dropout))   // Keras clamps the rates
        self.recurrentDropout = min(1, max(0, recurrentDropout))
        self.stateful = stateful
        self.seed = seed
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
        try call(inputs, mask: nil, training: training)
    }

    /// A call with Keras's time-step mask `[batch, time]` (1 = use the step, 0 = carry h and the
    /// output over it); a nil mask is an ordinary call.
    ///
    /// ```swift
    /// let h = try rnn.call([x], mask: mask, training: false)[0]
    /// ```
    public func call(_ inputs: [Tensor], mask: Tensor?, training: Bool) throws -> [Tensor] {
        guard let kernel, let recurrentKernel, let act = activation.fusedKernel else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], w = kernel.value, u = recurrentKernel.value, b = bias?.value
        let (batch, steps) = try recurrentInputShape(x, layer: name, features: w.shape[0])
        try checkRecurrentMask(mask, batch: batch, steps: steps, layer: name)
        let initial = stateful ? try stateStore.initial(batch: batch, units: units, count: 1, layer: name) : nil
        let drop = RecurrentDropoutMasks.draw(
            batch: batch, features: w.shape[0], units: units, gates: 1, dropout: dropout,
            recurrentDropout: recurrentDropout, training: training, perGate: false, stream: nextStream)
        var outputs: [Tensor]
        if mask != nil || drop.recurrent != nil {
            let activation = activation
            let result = try runRecurrentSteps(
                x, mask: mask, initial: try initial ?? [Tensor.zeros([batch, units])], goBackwards: goBackwards,
                returnSequences: returnSequences
            ) { xt, states in
                let xIn = try drop.input.map { try xt * $0[0] } ?? xt
                let hIn = try drop.recurrent.map { try states[0] * $0[0] } ?? states[0]
                var pre = try matmul(xIn, w)
                if let b { pre = try pre + b }
                let h = try activation(try pre + matmul(hIn, u))
                return (h, [h])
            }
            outputs = [result.output] + result.states
        } else {
            let xIn = try drop.input.map { try x * $0[0].expandingShape(at: 1) } ?? x
            let layout = RecurrentOutputLayout(
                batch: batch, steps: steps, units: units, returnSequences: returnSequences,
                returnState: returnState || stateful, stateCount: 1)
            outputs = layout.outputs(sequence(xIn, w, u, b, act: act, initial: initial, layout: layout), layer: name)
        }
        if stateful { stateStore.keep(Array(outputs[1...])) }
        return returnState ? outputs : [outputs[0]]
    }

    /// Zeroes the carried state of a `stateful` layer (Keras's `reset_states`).
    ///
    /// ```swift
    /// layer.resetStates()
    /// ```
    public func resetStates() { stateStore.reset() }

    /// The state a `stateful` layer carries into its next call ([h]), nil before the first.
    public var states: [Tensor]? { stateStore.states }

    private func nextStream(_ count: Int) -> (seed: UInt64, offset: UInt64) {
        guard let seed else { return RandomGenerator.reserve(count) }
        defer { seedOffset &+= UInt64(count) }
        return (seed, seedOffset)
    }

    /// The whole sequence as one recorded operation (ck_simple_rnn_forward / _backward).
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, act: ck_activation, initial: [Tensor]?, layout: RecurrentOutputLayout) -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_simple_rnn_saved_size(n, t, f, un))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, _) = layout.parts(packed.pointer)
        ck_simple_rnn_forward(
            n, t, f, un, act, back, x.pointer, w.pointer, u.pointer, b?.pointer, initial?[0].pointer,
            saved.pointer, ySeq, hLast)
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
