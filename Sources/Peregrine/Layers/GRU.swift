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
/// `returnState` gives `[output, h]`. Only tanh / sigmoid activations are supported; masking,
/// dropout and stateful carry-over are not implemented yet.
///
/// ```swift
/// let gru = GRU(units: 32, returnSequences: true)
/// let y = try gru(try Tensor.ones([8, 10, 16]))   // [8, 10, 32]
/// ```
public final class GRU: Layer, @unchecked Sendable {
    /// Dimension of h.
    public let units: Int
    /// The candidate activation (tanh).
    public let activation: ActivationFunction
    /// The gate activation (sigmoid).
    public let recurrentActivation: ActivationFunction
    /// Whether there is a bias.
    public let useBias: Bool
    /// Whether the reset gate multiplies h·U_h (true) or h (false).
    public let resetAfter: Bool
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

    /// `[in, 3·units]`, after build.
    public private(set) var kernel: Variable?
    /// `[units, 3·units]`, after build.
    public private(set) var recurrentKernel: Variable?
    /// `[2, 3·units]` or `[3·units]`, after build (nil without bias).
    public private(set) var bias: Variable?

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
        name: String? = nil
    ) {
        self.units = units
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.resetAfter = resetAfter
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
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

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        recurrentOutputShapes(shapes, units: units, returnSequences: returnSequences, returnState: returnState, stateCount: 1)
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard let kernel, let recurrentKernel else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], w = kernel.value, u = recurrentKernel.value, b = bias?.value
        let (batch, steps) = try recurrentInputShape(x, layer: name, features: w.shape[0])
        let layout = RecurrentOutputLayout(
            batch: batch, steps: steps, units: units, returnSequences: returnSequences,
            returnState: returnState, stateCount: 1)
        return layout.outputs(try sequence(x, w, u, b, layout: layout), layer: name)
    }

    /// The whole sequence as one recorded operation (ck_gru_forward / ck_gru_backward).
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, layout: RecurrentOutputLayout) throws -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0, after: Int32 = resetAfter ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_gru_saved_size(n, t, f, un, after))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, _) = layout.parts(packed.pointer)
        ck_gru_forward(
            n, t, f, un, after, back, x.pointer, w.pointer, u.pointer, b?.pointer, nil, saved.pointer,
            ySeq, hLast)
        let inputs = b.map { [x, w, u, $0] } ?? [x, w, u]
        return packed.recorded(name, inputs: inputs) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_gru_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, _) = layout.parts(g.pointer)
            ck_gru_backward(
                n, t, f, un, after, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast,
                scratch.pointer, dx.pointer, dw.pointer, du.pointer, db?.pointer, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        }
    }
}
