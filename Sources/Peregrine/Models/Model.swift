/// A network of layers with training and inference built in: Keras's `Model`.
///
/// `Model(inputs:outputs:)` traces a functional graph from ``Input(shape:name:)`` through layer
/// calls on ``SymbolicTensor``s; several inputs and outputs and shared layers are allowed.
/// ``Sequential`` is the common special case. Compile it, then `fit`, `evaluate`, `predict`.
///
/// ```swift
/// let a = Input(shape: [2]), b = Input(shape: [5])
/// let merged = try concatenate([try Dense(units: 2, activation: .sigmoid)(a),
///                               try Dense(units: 3, activation: .sigmoid)(b)])
/// let model = try Model(inputs: [a, b],
///                       outputs: [try Dense(units: 1)(merged), try Dense(units: 10)(merged)])
/// model.summary()
/// ```
open class Model: Layer, @unchecked Sendable {
    /// The symbolic inputs, in order.
    public internal(set) var inputs: [SymbolicTensor] = []
    /// The symbolic outputs, in order.
    public internal(set) var outputs: [SymbolicTensor] = []
    /// Layer calls in execution order (deepest first, as Keras orders them), inputs excluded.
    var executionOrder: [Node] = []
    /// The chains of `executionOrder` that run as one operation.
    var fusions = GraphFusions()
    /// Every layer of the graph, inputs included, in Keras's order.
    var graphLayers: [Layer] = []

    /// What `compile` set up; nil before. Setting it forgets the training plans.
    var training: TrainingConfiguration? {
        didSet { trainingPlans.removeAll() }
    }

    /// The planned (allocation-free) training steps `fit` runs where the model allows them.
    var trainingPlans = TrainingPlanCache()

    /// false: this model always trains on the tape (the tests' reference for the plans).
    var usesTrainingPlans = true

    /// The layers a ``TrainingPlan`` would run, in order: those of a graph that is a plain chain
    /// (one input, one output, each layer fed by the one before), else nil (it trains on the tape).
    var plannableLayers: [Layer]? {
        guard inputs.count == 1, outputs.count == 1 else { return nil }
        var previous = inputs[0].id
        for node in executionOrder {
            guard node.inputs.count == 1, node.inputs[0].id == previous, node.outputShapes.count == 1 else { return nil }
            previous = SymbolicTensor.ID(node: ObjectIdentifier(node), index: 0)
        }
        return outputs[0].id == previous ? executionOrder.map(\.layer) : nil
    }

    /// The history of the last `fit`.
    public internal(set) var history: History?

    /// Set by callbacks (``stopTraining``) to end `fit` early.
    var stopRequested = false

    override open class var kerasClassName: String { "Functional" }

    /// A functional model from its inputs to its outputs.
    ///
    /// ```swift
    /// let x = Input(shape: [7])
    /// let model = try Model(inputs: [x], outputs: [try Dense(units: 4)(x)])
    /// ```
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], name: String? = nil) throws {
        super.init(name: name)
        try setGraph(inputs: inputs, outputs: outputs)
    }

    /// A single-input, single-output functional model.
    ///
    /// ```swift
    /// let model = try Model(inputs: x, outputs: y)
    /// ```
    public convenience init(inputs: SymbolicTensor, outputs: SymbolicTensor, name: String? = nil) throws {
        try self.init(inputs: [inputs], outputs: [outputs], name: name)
    }

    /// For subclasses that set their graph later (``Sequential``).
    init(name: String?, deferred: Void) {
        super.init(name: name)
    }

    /// Traces the graph between `inputs` and `outputs` and orders it by depth, as Keras does.
    func setGraph(inputs: [SymbolicTensor], outputs: [SymbolicTensor]) throws {
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "at least one input and one output",
                actual: "\(inputs.count) inputs, \(outputs.count) outputs")
        }
        for input in inputs where !(input.layer is InputLayer) {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "inputs made by Input(shape:)", actual: "\(input)")
        }
        // Depth-first from the outputs: every node reached, in post-order, and the order in which
        // layers were first met (Keras sorts layers of equal depth by it).
        var postOrder: [Node] = []
        var seen = Set<ObjectIdentifier>()
        var layerIndex: [ObjectIdentifier: Int] = [:]
        func visit(_ node: Node) {
            guard seen.insert(ObjectIdentifier(node)).inserted else { return }
            for input in node.inputs { visit(input.node) }
            postOrder.append(node)
        }
        for output in outputs { visit(output.node) }
        for node in postOrder where layerIndex[ObjectIdentifier(node.layer)] == nil {
            layerIndex[ObjectIdentifier(node.layer)] = layerIndex.count
        }
        let inputNodes = Set(inputs.map { ObjectIdentifier($0.node) })
        for node in postOrder where node.layer is InputLayer && !inputNodes.contains(ObjectIdentifier(node)) {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "every Input the outputs depend on among the inputs",
                actual: "\(node.layer.name) missing")
        }
        // Depth: 0 at the outputs, one more than the deepest consumer.
        var depth: [ObjectIdentifier: Int] = [:]
        for node in postOrder.reversed() {
            let d = depth[ObjectIdentifier(node), default: 0]
            depth[ObjectIdentifier(node)] = d
            for input in node.inputs {
                depth[ObjectIdentifier(input.node)] = Swift.max(depth[ObjectIdentifier(input.node), default: 0], d + 1)
            }
        }
        // Inputs sit at the deepest level, in the order given.
        let deepest = (depth.values.max() ?? 0)
        for input in inputs { depth[ObjectIdentifier(input.node)] = deepest + 1 }
        let ordered = postOrder.enumerated().sorted { a, b in
            let da = depth[ObjectIdentifier(a.element)]!, db = depth[ObjectIdentifier(b.element)]!
            if da != db { return da > db }
            if a.element.layer is InputLayer, b.element.layer is InputLayer {
                let ia = inputs.firstIndex { $0.node === a.element } ?? 0
                let ib = inputs.firstIndex { $0.node === b.element } ?? 0
                return ia < ib
            }
            let la = layerIndex[ObjectIdentifier(a.element.layer)]!, lb = layerIndex[ObjectIdentifier(b.element.layer)]!
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
        self.inputs = inputs
        self.outputs = outputs
        executionOrder = ordered.filter { !($0.layer is InputLayer) }
        fusions = GraphFusions(executionOrder: executionOrder, outputs: outputs)
        var layers: [Layer] = []
        var added = Set<ObjectIdentifier>()
        for node in ordered where added.insert(ObjectIdentifier(node.layer)).inserted {
            layers.append(node.layer)
        }
        graphLayers = layers
        try buildIfNeeded(inputShapes: inputs.map(\.shape))
    }

    /// The layers, in Keras's order (a functional model lists its InputLayers too).
    open var layers: [Layer] { graphLayers }

    /// Looks a layer up by name.
    ///
    /// ```swift
    /// let dense = try model.layer(named: "dense_1")
    /// ```
    public func layer(named name: String) throws -> Layer {
        guard let layer = layers.first(where: { $0.name == name }) else {
            throw PeregrineError.invalidArgument(
                operation: self.name, expected: "a layer named one of \(layers.map(\.name))", actual: "'\(name)'")
        }
        return layer
    }

    /// Every weight, layer by layer, each once (shared layers count once).
    override open var weights: [Variable] { unique(layers.flatMap(\.weights)) }

    /// The weights `fit` updates.
    override open var trainableWeights: [Variable] {
        trainable ? unique(layers.flatMap(\.trainableWeights)) : []
    }

    /// The weights `fit` does not update (moving statistics, frozen layers).
    override open var nonTrainableWeights: [Variable] {
        trainable ? unique(layers.flatMap(\.nonTrainableWeights)) : weights
    }

    private func unique(_ variables: [Variable]) -> [Variable] {
        var seen = Set<ObjectIdentifier>()
        return variables.filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    override open func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        outputs.map(\.shape)
    }

    /// Runs the graph on a batch: one tensor per input, one per output.
    override open func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try callWithMasks(inputs, training: training).outputs
    }

    /// The outputs and Keras's mask of each (nil where none; see Masking.swift): masks flow
    /// along the graph with the values.
    ///
    /// ```swift
    /// let (outputs, masks) = try model.callWithMasks([tokens], training: false)
    /// ```
    public func callWithMasks(_ inputs: [Tensor], training: Bool) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        try checkInputs(inputs)
        var values: [SymbolicTensor.ID: Tensor] = [:]
        var masks: [SymbolicTensor.ID: Tensor] = [:]
        for (symbol, value) in zip(self.inputs, inputs) { values[symbol.id] = value }
        // Fused chains (GraphFusions) run at their head; the result stands for their last node.
        var absorbed = Set<ObjectIdentifier>()
        for node in executionOrder where !absorbed.contains(ObjectIdentifier(node)) {
            let arguments = try node.inputs.map { symbol -> Tensor in
                guard let value = values[symbol.id] else {
                    throw PeregrineError.invalidArgument(
                        operation: name, expected: "a computed input for \(node.layer.name)", actual: "none")
                }
                return value
            }
            if masks[node.inputs[0].id] == nil,
               let (y, chain) = try fusions.run(node, arguments[0], training: training), let last = chain.last {
                values[SymbolicTensor.ID(node: ObjectIdentifier(last), index: 0)] = y
                for absorbedNode in chain { absorbed.insert(ObjectIdentifier(absorbedNode)) }
                continue
            }
            let (results, resultMasks) = try node.layer.callPropagatingMasks(
                arguments, masks: node.inputs.map { masks[$0.id] }, training: training)
            for (index, (value, mask)) in zip(results, resultMasks).enumerated() {
                let id = SymbolicTensor.ID(node: ObjectIdentifier(node), index: index)
                values[id] = value
                masks[id] = mask
            }
        }
        let results = try outputs.map { symbol in
            guard let value = values[symbol.id] else {
                throw PeregrineError.invalidArgument(operation: name, expected: "a computed output", actual: "none")
            }
            return value
        }
        return (results, outputs.map { masks[$0.id] })
    }

    /// Inputs must match `Input(shape:)` in count and per-sample shape, and share a batch size.
    func checkInputs(_ batch: [Tensor]) throws {
        guard batch.count == inputs.count else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "\(inputs.count) input tensor(s)", actual: "\(batch.count)")
        }
        for (index, (symbol, value)) in zip(inputs, batch).enumerated() {
            guard value.rank == symbol.shape.count + 1, Array(value.shape.dropFirst()) == symbol.shape else {
                throw PeregrineError.invalidArgument(
                    operation: "\(name) input \(index) (\(symbol.layer.name))",
                    expected: "shape \(formatBatchShape(symbol.shape))", actual: "\(value.shape)")
            }
        }
        if let first = batch.first, batch.contains(where: { $0.shape[0] != first.shape[0] }) {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "inputs with one batch size", actual: "\(batch.map { $0.shape[0] })")
        }
    }
}
