/// What SimpleRNN, LSTM and GRU share: Keras's `RNN` options and the path every call takes.
///
/// A call checks the input `[batch, time, features]` and the optional mask `[batch, time]`,
/// takes the carried states of a `stateful` layer, draws the dropout masks (training only, once
/// per call), then runs one of two ways:
/// - with a mask or recurrent dropout, step by step as tensor operations (the subclass's
///   ``stepCell(_:_:_:_:)``, driven by `runRecurrentSteps`), as Keras's cell loop does;
/// - otherwise as one fused C kernel over the whole sequence (the subclass's
///   ``fusedSequence(_:_:_:_:initial:layout:training:)``), recorded as one tape node.
///
/// The outputs are `[output]`, or with `returnState` `[output, h]` (`[output, h, c]` for LSTM).
/// Subclasses add their gate arithmetic, their weight shapes (``build(inputShapes:)``) and
/// their activations.
///
/// ```swift
/// let layers: [RecurrentLayer] = [SimpleRNN(units: 8), LSTM(units: 8), GRU(units: 8)]
/// let y = try layers[1](try Tensor.ones([2, 5, 3]))   // [2, 8]
/// ```
public class RecurrentLayer: Layer, @unchecked Sendable {
    /// Dimension of h (and of c for LSTM).
    public let units: Int
    /// Whether there is a bias.
    public let useBias: Bool
    /// Whether the output is every step's h rather than the last.
    public let returnSequences: Bool
    /// Whether the final states follow the output.
    public let returnState: Bool
    /// Whether the steps run from the last to the first (the sequence output stays in that order).
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
    /// Whether the final states become the next call's initial states.
    public let stateful: Bool
    /// The seed of the layer's own dropout stream (nil: the global stream).
    public let seed: UInt64?

    /// `[in, gates·units]`, after build.
    public internal(set) var kernel: Variable?
    /// `[units, gates·units]`, after build.
    public internal(set) var recurrentKernel: Variable?
    /// The bias, after build (nil without one); its shape is the subclass's.
    public internal(set) var bias: Variable?

    private var seedOffset: UInt64 = 0
    private let stateStore = RecurrentStateStore()

    /// The options every recurrent layer takes, with Keras's meaning (rates clamped to [0, 1]
    /// as Keras clamps them).
    ///
    /// ```swift
    /// let lstm = LSTM(units: 16, dropout: 0.2, stateful: true)   // subclasses pass them here
    /// ```
    init(
        units: Int, useBias: Bool, returnSequences: Bool, returnState: Bool, goBackwards: Bool,
        kernelInitializer: Initializer, recurrentInitializer: Initializer, biasInitializer: Initializer,
        dropout: Float, recurrentDropout: Float, stateful: Bool, seed: UInt64?, name: String?
    ) {
        self.units = units
        self.useBias = useBias
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
        self.dropout = min(1, max(0, dropout))
        self.recurrentDropout = min(1, max(0, recurrentDropout))
        self.stateful = stateful
        self.seed = seed
        super.init(name: name)
    }

    // MARK: - What a subclass says about itself

    /// How many states the cell carries: 1 (h), or 2 for LSTM (h, c).
    var stateCount: Int { 1 }

    /// How many gate blocks the weights hold along their last axis (dropout masks per gate).
    var gateCount: Int { 1 }

    /// Whether recurrent dropout draws one input and one recurrent mask per gate (Keras's
    /// implementation 1, LSTM and GRU) rather than one of each.
    var dropoutMasksPerGate: Bool { recurrentDropout > 0 }

    /// One step as tensor operations, for masked calls and recurrent dropout: maps `x_t` and
    /// the states to the step's output and new states.
    func stepCell(_ w: Tensor, _ u: Tensor, _ b: Tensor?, _ drop: RecurrentDropoutMasks) throws -> RecurrentCell {
        throw PeregrineError.invalidArgument(
            operation: name, expected: "a recurrent layer that defines its step", actual: "\(Self.self)")
    }

    /// The whole sequence in the fused kernel, packed as `layout` says (input dropout already
    /// applied to `x`).
    func fusedSequence(
        _ x: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor?, initial: [Tensor]?,
        layout: RecurrentOutputLayout, training: Bool
    ) throws -> Tensor {
        throw PeregrineError.invalidArgument(
            operation: name, expected: "a recurrent layer with a fused kernel", actual: "\(Self.self)")
    }

    // MARK: - Calls

    override public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        recurrentOutputShapes(
            shapes, units: units, returnSequences: returnSequences, returnState: returnState, stateCount: stateCount)
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, mask: nil, training: training)
    }

    /// A call with Keras's time-step mask `[batch, time]` (1 = use the step, 0 = carry the states
    /// and the output over it; zeros before the first kept step); a nil mask is an ordinary call.
    ///
    /// ```swift
    /// let lstm = LSTM(units: 8)
    /// try lstm.buildIfNeeded(inputShapes: [[5, 3]])
    /// let h = try lstm.call([x], mask: mask, training: false)[0]
    /// ```
    public func call(_ inputs: [Tensor], mask: Tensor?, training: Bool) throws -> [Tensor] {
        guard let kernel, let recurrentKernel else {
            throw PeregrineError.invalidArgument(operation: name, expected: "a built layer", actual: "unbuilt")
        }
        let x = inputs[0], w = kernel.value, u = recurrentKernel.value, b = bias?.value
        let (batch, steps) = try recurrentInputShape(x, layer: name, features: w.shape[0])
        try checkRecurrentMask(mask, batch: batch, steps: steps, layer: name)
        let initial = stateful
            ? try stateStore.initial(batch: batch, units: units, count: stateCount, layer: name) : nil
        let drop = RecurrentDropoutMasks.draw(
            batch: batch, features: w.shape[0], units: units, gates: gateCount, dropout: dropout,
            recurrentDropout: recurrentDropout, training: training, perGate: dropoutMasksPerGate,
            stream: nextStream)
        var outputs: [Tensor]
        if mask != nil || drop.recurrent != nil {
            let zeros = try Tensor.zeros([batch, units])
            let result = try runRecurrentSteps(
                x, mask: mask, initial: initial ?? Array(repeating: zeros, count: stateCount),
                goBackwards: goBackwards, returnSequences: returnSequences, cell: try stepCell(w, u, b, drop))
            outputs = [result.output] + result.states
        } else {
            // Keras's implementation 2: one input mask for every gate, in front of the kernel.
            let xIn = try drop.input.map { try x * $0[0].expandingShape(at: 1) } ?? x
            let layout = RecurrentOutputLayout(
                batch: batch, steps: steps, units: units, returnSequences: returnSequences,
                returnState: returnState || stateful, stateCount: stateCount)
            outputs = layout.outputs(
                try fusedSequence(xIn, w, u, b, initial: initial, layout: layout, training: training), layer: name)
        }
        if stateful { stateStore.keep(Array(outputs[1...])) }
        return returnState ? outputs : [outputs[0]]
    }

    /// Zeroes the carried states of a `stateful` layer (Keras's `reset_states`).
    ///
    /// ```swift
    /// lstm.resetStates()
    /// ```
    public func resetStates() { stateStore.reset() }

    /// The states a `stateful` layer carries into its next call (`[h]`, or `[h, c]` for LSTM),
    /// nil before the first.
    ///
    /// ```swift
    /// let carried = lstm.states?[0]   // [batch, units]
    /// ```
    public var states: [Tensor]? { stateStore.states }

    /// The next `count` draws of the layer's dropout stream: its own seed, or the global stream.
    private func nextStream(_ count: Int) -> (seed: UInt64, offset: UInt64) {
        guard let seed else { return RandomGenerator.reserve(count) }
        defer { seedOffset &+= UInt64(count) }
        return (seed, seedOffset)
    }
}

/// One recurrent step as tensor operations: `(x_t, states) -> (output, new states)`.
typealias RecurrentCell = (Tensor, [Tensor]) throws -> (output: Tensor, states: [Tensor])
