import CKernels

/// Keras's `LSTM`: a long short-term memory layer over `[batch, time, features]`.
///
/// Each step, with the gates in Keras's order i, f, c, o along the last weight axis:
/// `z = x·kernel + h·recurrentKernel + bias`, `i = σ(z_i)`, `f = σ(z_f)`, `g = tanh(z_c)`,
/// `o = σ(z_o)`, `c = f·c + i·g`, `h = o·tanh(c)`. The whole sequence is one fused C call
/// (`ck_lstm_forward`: one GEMM for all input projections, one recurrent GEMM and one gate pass
/// per step) recorded as one tape node; its backward is `ck_lstm_backward`.
///
/// Weights, in Keras's order and layout: `kernel` `[in, 4·units]` (glorot-uniform),
/// `recurrent_kernel` `[units, 4·units]` (orthogonal), `bias` `[4·units]` (zeros, with ones on
/// the forget block when `unitForgetBias`).
///
/// The output is the last `h` `[batch, units]`, or every `h` `[batch, time, units]` with
/// `returnSequences`; `returnState` adds the final states: `[output, h, c]`. `goBackwards`
/// processes the steps last to first, and the sequence output stays in that (reversed) order.
/// Only `tanh` / `sigmoid` activations are supported (the fused gate pass).
///
/// Keras's masking, dropout and state (details in RecurrentSteps.swift): a `[batch, time]` mask
/// (``call(_:mask:training:)``, or propagated from `Embedding(maskZero: true)` in a model)
/// carries h, c and the output over masked steps; `dropout` / `recurrentDropout` draw masks once
/// per call while training — one input mask shared by the gates when `recurrentDropout` is 0,
/// else (Keras's implementation 1) one input and one recurrent mask per gate i, f, c, o;
/// `stateful` carries the final h, c into the next call (``resetStates()``). Masked calls and
/// recurrent dropout run step by step as tensor operations; the rest on the fused kernels.
///
/// ```swift
/// let lstm = LSTM(units: 64, returnSequences: true)
/// let y = try lstm(try Tensor.ones([32, 28, 28]))   // [32, 28, 64]
/// let outputs = try LSTM(units: 8, returnState: true)([x])   // [output, h, c]
/// ```
public final class LSTM: RecurrentLayer, @unchecked Sendable {
    /// The cell and output activation (Keras's `activation`, tanh).
    public let activation: ActivationFunction
    /// The gate activation (Keras's `recurrent_activation`, sigmoid).
    public let recurrentActivation: ActivationFunction
    /// Whether the forget block of the bias starts at 1.
    public let unitForgetBias: Bool

    /// Keras's `LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    /// unit_forget_bias=True, return_sequences=False, return_state=False, go_backwards=False,
    /// kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
    /// bias_initializer="zeros", dropout=0, recurrent_dropout=0, stateful=False, seed=None)`.
    ///
    /// ```swift
    /// let lstm = LSTM(units: 128, goBackwards: true)
    /// ```
    public init(
        units: Int, activation: ActivationFunction = .tanh,
        recurrentActivation: ActivationFunction = .sigmoid, useBias: Bool = true,
        unitForgetBias: Bool = true, returnSequences: Bool = false, returnState: Bool = false,
        goBackwards: Bool = false, kernelInitializer: Initializer = .glorotUniform,
        recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
        dropout: Float = 0, recurrentDropout: Float = 0, stateful: Bool = false, seed: UInt64? = nil,
        name: String? = nil
    ) {
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.unitForgetBias = unitForgetBias
        super.init(
            units: units, useBias: useBias, returnSequences: returnSequences, returnState: returnState,
            goBackwards: goBackwards, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
            dropout: dropout, recurrentDropout: recurrentDropout, stateful: stateful, seed: seed, name: name)
    }

    override public func build(inputShapes: [[Int]]) throws {
        guard activation == .tanh, recurrentActivation == .sigmoid else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "activation tanh and recurrent_activation sigmoid (the fused gate kernel)",
                actual: "\(activation), \(recurrentActivation)")
        }
        let features = try recurrentFeatures(inputShapes, layer: name, units: units)
        kernel = try addWeight("kernel", shape: [features, 4 * units], initializer: kernelInitializer)
        recurrentKernel = try addWeight(
            "recurrent_kernel", shape: [units, 4 * units], initializer: recurrentInitializer)
        if useBias {
            let units = units, base = biasInitializer
            let initializer = unitForgetBias
                ? Initializer(name: "unit_forget_bias") { _ in
                    // Keras: concat(init([u]), ones([u]), init([2u]))
                    try Tensor.concatenate([try base([units]), try Tensor.ones([units]), try base([2 * units])])
                }
                : base
            bias = try addWeight("bias", shape: [4 * units], initializer: initializer)
        }
    }

    /// h and c.
    override var stateCount: Int { 2 }

    /// i, f, c, o.
    override var gateCount: Int { 4 }

    /// The training kernel, or the inference kernel (which saves nothing for backward) when no
    /// gradient can be asked for. Calls with dropout never get here untrained: dropout only
    /// applies while training.
    override func fusedSequence(
        _ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?,
        layout: RecurrentOutputLayout, training: Bool
    ) throws -> Tensor {
        LSTM.runsInference(training: training)
            ? try inferenceSequence(x, w, u, b, initialH: initial?[0], initialC: initial?[1], layout: layout)
            : try sequence(x, w, u, b, initial: initial, layout: layout)
    }

    /// One step as tensor operations (Keras's cell, implementation 1 when masks are per gate).
    override func stepCell(_ w: Tensor, _ u: Tensor, _ b: Tensor?, _ drop: RecurrentDropoutMasks) throws -> RecurrentCell {
        let units = units
        func block(_ t: Tensor, _ g: Int) throws -> Tensor {
            try t.slice([.all, .strided(from: g * units, to: (g + 1) * units, by: 1)])
        }
        let wg = try (0..<4).map { try block(w, $0) }, ug = try (0..<4).map { try block(u, $0) }
        let bg = try b.map { b in try (0..<4).map { try b.slice([.strided(from: $0 * units, to: ($0 + 1) * units, by: 1)]) } }
        return { xt, states in
            let h = states[0], c = states[1]
            var z: [Tensor]
            if let recurrent = drop.recurrent {
                z = try (0..<4).map { g in
                    let xg = try drop.input.map { try xt * $0[g] } ?? xt
                    var zx = try matmul(xg, wg[g])
                    if let bg { zx = try zx + bg[g] }
                    return try zx + matmul(h * recurrent[g], ug[g])
                }
            } else {
                let xIn = try drop.input.map { try xt * $0[0] } ?? xt
                var all = try matmul(xIn, w) + matmul(h, u)
                if let b { all = try all + b }
                z = try (0..<4).map { try block(all, $0) }
            }
            let i = sigmoid(z[0]), f = sigmoid(z[1]), g = tanh(z[2]), o = sigmoid(z[3])
            let cNew = try f * c + i * g
            let hNew = try o * tanh(cNew)
            return (hNew, [hNew, cNew])
        }
    }

    /// The whole sequence as one recorded operation (forward ck_lstm_forward, backward
    /// ck_lstm_backward); the result is packed as `layout` says.
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?, layout: RecurrentOutputLayout) throws -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_lstm_saved_size(n, t, f, un))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, cLast) = layout.parts(packed.pointer)
        ck_lstm_forward(
            n, t, f, un, back, x.pointer, w.pointer, u.pointer, b?.pointer, initial?[0].pointer,
            initial?[1].pointer, saved.pointer, ySeq, hLast, cLast)
        let inputs = b.map { [x, w, u, $0] } ?? [x, w, u]
        return packed.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            // nil when the input is the model's data: no gradient, and no input-projection GEMM.
            let dx: Tensor? = needed.contains(0) ? Tensor(uninitializedShape: x.shape) : nil
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_lstm_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, dcLast) = layout.parts(g.pointer)
            ck_lstm_backward(
                n, t, f, un, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast, dcLast,
                scratch.pointer, dx?.pointer, dw.pointer, du.pointer, db?.pointer, nil, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        })
    }
}
