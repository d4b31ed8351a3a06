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
public final class SimpleRNN: RecurrentLayer, @unchecked Sendable {
    /// Applied to each step's pre-activation.
    public let activation: ActivationFunction

    /// Keras's `SimpleRNN(units, activation="tanh", use_bias=True, return_sequences=False,
    /// return_state=False, go_backwards=False, kernel_initializer="glorot_uniform",
    /// recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0,
    /// recurrent_dropout=0, stateful=False, seed=None)`.
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
        self.activation = activation
        super.init(
            units: units, useBias: useBias, returnSequences: returnSequences, returnState: returnState,
            goBackwards: goBackwards, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
            dropout: dropout, recurrentDropout: recurrentDropout, stateful: stateful, seed: seed, name: name)
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

    /// One mask on the inputs and one on h, shared by the single "gate".
    override var dropoutMasksPerGate: Bool { false }

    /// `h = activation(x·W + b + h·U)` as tensor operations, with the dropout masks applied.
    override func stepCell(_ w: Tensor, _ u: Tensor, _ b: Tensor?, _ drop: RecurrentDropoutMasks) throws -> RecurrentCell {
        let activation = activation
        return { xt, states in
            let xIn = try drop.input.map { try xt * $0[0] } ?? xt
            let hIn = try drop.recurrent.map { try states[0] * $0[0] } ?? states[0]
            var pre = try matmul(xIn, w)
            if let b { pre = try pre + b }
            let h = try activation(try pre + matmul(hIn, u))
            return (h, [h])
        }
    }

    override func fusedSequence(
        _ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?,
        layout: RecurrentOutputLayout, training: Bool
    ) throws -> Tensor {
        guard let act = activation.fusedKernel else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "activation tanh, sigmoid, relu or linear", actual: "\(activation)")
        }
        return sequence(x, w, u, b, act: act, initial: initial, layout: layout)
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
        return packed.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            // nil when the input is the model's data: no gradient, and no input-projection GEMM.
            let dx: Tensor? = needed.contains(0) ? Tensor(uninitializedShape: x.shape) : nil
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_simple_rnn_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, _) = layout.parts(g.pointer)
            ck_simple_rnn_backward(
                n, t, f, un, act, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast,
                scratch.pointer, dx?.pointer, dw.pointer, du.pointer, db?.pointer, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        })
    }
}
