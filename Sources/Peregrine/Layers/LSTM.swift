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
/// Only `tanh` / `sigmoid` activations are supported (the fused gate pass); masking, dropout
/// and stateful carry-over are not implemented yet.
///
/// ```swift
/// let lstm = LSTM(units: 64, returnSequences: true)
/// let y = try lstm(try Tensor.ones([32, 28, 28]))   // [32, 28, 64]
/// let outputs = try LSTM(units: 8, returnState: true)([x])   // [output, h, c]
/// ```
public final class LSTM: Layer, @unchecked Sendable {
    /// Dimension of h and c.
    public let units: Int
    /// The cell and output activation (Keras's `activation`, tanh).
    public let activation: ActivationFunction
    /// The gate activation (Keras's `recurrent_activation`, sigmoid).
    public let recurrentActivation: ActivationFunction
    /// Whether there is a bias.
    public let useBias: Bool
    /// Whether the forget block of the bias starts at 1.
    public let unitForgetBias: Bool
    /// Whether the output is every step's h rather than the last.
    public let returnSequences: Bool
    /// Whether the final h and c follow the output.
    public let returnState: Bool
    /// Whether the steps run from the last to the first.
    public let goBackwards: Bool
    /// How the kernel starts.
    public let kernelInitializer: Initializer
    /// How the recurrent kernel starts.
    public let recurrentInitializer: Initializer
    /// How the bias starts (before the forget ones).
    public let biasInitializer: Initializer

    /// `[in, 4·units]`, after build.
    public private(set) var kernel: Variable?
    /// `[units, 4·units]`, after build.
    public private(set) var recurrentKernel: Variable?
    /// `[4·units]`, after build (nil without bias).
    public private(set) var bias: Variable?

    /// Keras's `LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    /// unit_forget_bias=True, return_sequences=False, return_state=False, go_backwards=False,
    /// kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
    /// bias_initializer="zeros")`.
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
        name: String? = nil
    ) {
        self.units = units
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.unitForgetBias = unitForgetBias
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

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        recurrentOutputShapes(shapes, units: units, returnSequences: returnSequences, returnState: returnState, stateCount: 2)
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        guard let kernel, let recurrentKernel else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], w = kernel.value, u = recurrentKernel.value, b = bias?.value
        let (batch, steps) = try recurrentInputShape(x, layer: name, features: w.shape[0])
        let layout = RecurrentOutputLayout(
            batch: batch, steps: steps, units: units, returnSequences: returnSequences,
            returnState: returnState, stateCount: 2)
        return layout.outputs(try sequence(x, w, u, b, layout: layout), layer: name)
    }

    /// The whole sequence as one recorded operation (forward ck_lstm_forward, backward
    /// ck_lstm_backward); the result is packed as `layout` says.
    private func sequence(_ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, layout: RecurrentOutputLayout) throws -> Tensor {
        let n = Int32(layout.batch), t = Int32(layout.steps), f = Int32(w.shape[0]), un = Int32(units)
        let back: Int32 = goBackwards ? 1 : 0
        let saved = Tensor(uninitializedShape: [Int(ck_lstm_saved_size(n, t, f, un))])
        let packed = Tensor(uninitializedShape: layout.packedShape)
        let (ySeq, hLast, cLast) = layout.parts(packed.pointer)
        ck_lstm_forward(
            n, t, f, un, back, x.pointer, w.pointer, u.pointer, b?.pointer, nil, nil, saved.pointer,
            ySeq, hLast, cLast)
        let inputs = b.map { [x, w, u, $0] } ?? [x, w, u]
        return packed.recorded(name, inputs: inputs) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            let dw = Tensor(uninitializedShape: w.shape), du = Tensor(uninitializedShape: u.shape)
            let db = b.map { Tensor(uninitializedShape: $0.shape) }
            let scratch = Tensor(uninitializedShape: [Int(ck_lstm_backward_scratch_size(n, t, f, un))])
            let (dySeq, dhLast, dcLast) = layout.parts(g.pointer)
            ck_lstm_backward(
                n, t, f, un, back, w.pointer, u.pointer, saved.pointer, dySeq, dhLast, dcLast,
                scratch.pointer, dx.pointer, dw.pointer, du.pointer, db?.pointer, nil, nil)
            return db.map { [dx, dw, du, $0] } ?? [dx, dw, du]
        }
    }
}
