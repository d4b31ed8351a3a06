import CKernels

/// Keras's `GRU`: a gated recurrent unit layer over `[batch, time, features]`.
///
/// Gates in Keras's order z (update), r (reset), h (candidate) along the last weight axis. With
/// `resetAfter` (Keras's default, cuDNN-compatible): `z = σ(xz + hz)`, `r = σ(xr + hr)`,
/// `n = tanh(xh + r·hh)`, `h = z·h + (1 − z)·n`, where `x·kernel + bias[0]` and
/// `h·recurrentKernel + bias[1]` give the x- and h-parts. Without it the candidate is
/// `tanh(xh + (r·h)·U_h)` and the bias is one row. The whole sequence is one fused C call
/// (`ck_gru_forward`) recorded as one tape node.
///
/// Weights: `kernel` `[in, 3·units]` (glorot-uniform), `recurrent_kernel` `[units, 3·units]`
/// (orthogonal), `bias` `[2, 3·units]` with `resetAfter`, else `[3·units]` (zeros).
/// `returnState` gives `[output, h]`. Only tanh / sigmoid activations are supported.
///
/// Keras's masking, dropout and state as LSTM's (RecurrentSteps.swift): a `[batch, time]` mask
/// carries h and the output over masked steps; `dropout` alone is one input mask for all gates;
/// with `recurrentDropout` (Keras's implementation 1) one input and one recurrent mask per gate
/// z, r, h, the new state z·h + (1 − z)·hh using the undropped h; `stateful` carries h over.
///
/// ```swift
/// let gru = GRU(units: 32, returnSequences: true)
/// let y = try gru(try Tensor.ones([8, 10, 16]))   // [8, 10, 32]
/// ```
public final class GRU: RecurrentLayer, @unchecked Sendable {
    /// The candidate activation (tanh).
    public let activation: ActivationFunction
    /// The gate activation (sigmoid).
    public let recurrentActivation: ActivationFunction
    /// Whether the reset gate multiplies h·U_h (true) or h (false).
    public let resetAfter: Bool

    /// Keras's `GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    /// return_sequences=False, return_state=False, go_backwards=False, reset_after=True, …)`.
    ///
    /// ```swift
    /// let gru = GRU(units: 16, resetAfter: false)
    /// ```
    public init(
        units: Int, activation: ActivationFunction = .tanh,
        recurrentActivation: ActivationFunction = .sigmoid, useBias: Bool = true,
        returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
        resetAfter: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
        dropout: Float = 0, recurrentDropout: Float = 0, stateful: Bool = false, seed: UInt64? = nil,
        name: String? = nil
    ) {
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.resetAfter = resetAfter
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
        kernel = try addWeight("kernel", shape: [features, 3 * units], initializer: kernelInitializer)
        recurrentKernel = try addWeight(
            "recurrent_kernel", shape: [units, 3 * units], initializer: recurrentInitializer)
        if useBias {
            bias = try addWeight(
                "bias", shape: resetAfter ? [2, 3 * units] : [3 * units], initializer: biasInitializer)
        }
    }

    /// z, r, h.
    override var gateCount: Int { 3 }

    override func fusedSequence(
        _ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?,
        layout: RecurrentOutputLayout, training: Bool
    ) throws -> Tensor {
        try sequence(x, w, u, b, initial: initial, layout: layout)
    }

    /// One step as tensor operations: Keras's GRU cell, implementation 1 (per-gate products).
    override func stepCell(_ w: Tensor, _ u: Tensor, _ b: Tensor?, _ drop: RecurrentDropoutMasks) throws -> RecurrentCell {
        let units = units, resetAfter = resetAfter
        func block(_ t: Tensor, _ g: Int) throws -> Tensor {
            try t.slice([.all, .strided(from: g * units, to: (g + 1) * units, by: 1)])
        }
        let wg = try (0..<3).map { try block(w, $0) }, ug = try (0..<3).map { try block(u, $0) }
        // Input bias per gate, and with resetAfter the recurrent bias per gate.
        let inputBias = try b.map { b in
            let row = resetAfter ? try b.slice([.index(0)]) : b
            return try (0..<3).map { try row.slice([.strided(from: $0 * units, to: ($0 + 1) * units, by: 1)]) }
        }
        let recurrentBias = try b.flatMap { b -> [Tensor]? in
            guard resetAfter else { return nil }
            let row = try b.slice([.index(1)])
            return try (0..<3).map { try row.slice([.strided(from: $0 * units, to: ($0 + 1) * units, by: 1)]) }
        }
        return { xt, states in
            let h = states[0]
            func xPart(_ g: Int) throws -> Tensor {
                let xg = try drop.input.map { try xt * $0[g] } ?? xt
                let p = try matmul(xg, wg[g])
                return try inputBias.map { try p + $0[g] } ?? p
            }
            func hIn(_ g: Int) throws -> Tensor { try drop.recurrent.map { try h * $0[g] } ?? h }
            func hPart(_ g: Int) throws -> Tensor {
                let p = try matmul(hIn(g), ug[g])
                return try recurrentBias.map { try p + $0[g] } ?? p
            }
            let z = sigmoid(try xPart(0) + hPart(0))
            let r = sigmoid(try xPart(1) + hPart(1))
            let recurrentH = resetAfter ? try r * hPart(2) : try matmul(r * hIn(2), ug[2])
            let hh = tanh(try xPart(2) + recurrentH)
            let hNew = try z * h + (1 - z) * hh
            return (hNew, [hNew])
        }
    }

    /// The whole sequence as one recorded operation (ck_gru_forward / ck_gru_backward).
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?, layout: RecurrentOutputLayout) throws -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0, after: Int32 = resetAfter ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_gru_saved_size(n, t, f, un, after))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, _) = layout.parts(packed.pointer)
        ck_gru_forward(
            n, t, f, un, after, back, x.pointer, w.pointer, u.pointer, b?.pointer, initial?[0].pointer,
            saved.pointer, ySeq, hLast)
        let inputs = b.map { [x, w, u, $0] } ?? [x, w, u]
        return packed.recorded(name, inputs: inputs, selectiveBackward: { g, needed in
            // nil when the input is the model's data: no gradient, and no input-projection GEMM.
            let dx: Tensor? = needed.contains(0) ? Tensor(uninitializedShape: x.shape) : nil
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_gru_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, _) = layout.parts(g.pointer)
            ck_gru_backward(
                n, t, f, un, after, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast,
                scratch.pointer, dx?.pointer, dw.pointer, du.pointer, db?.pointer, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        })
    }
}
