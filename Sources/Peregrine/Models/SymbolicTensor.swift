/// A placeholder for the tensors a functional model will compute: Keras's `KerasTensor`.
/// It has a per-sample shape (the batch axis is implicit) and remembers which layer call made
/// it, so that `Model(inputs:outputs:)` can trace the graph.
///
/// ```swift
/// let x = Input(shape: [784])
/// let h = try Dense(units: 64, activation: .relu)(x)   // SymbolicTensor, shape [64]
/// ```
public final class SymbolicTensor: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: immutable after creation.

    /// The shape of one sample.
    public let shape: [Int]
    /// The layer call that produced it.
    let node: Node
    /// Which of that call's outputs it is.
    let index: Int

    init(shape: [Int], node: Node, index: Int) {
        self.shape = shape
        self.node = node
        self.index = index
    }

    /// The producing layer.
    public var layer: Layer { node.layer }

    /// Which output of which layer call: equal for every `SymbolicTensor` object that stands
    /// for the same tensor of the graph.
    struct ID: Hashable {
        let node: ObjectIdentifier
        let index: Int
    }

    /// Its identity in the graph (models key computed values by it).
    var id: ID { ID(node: ObjectIdentifier(node), index: index) }

    /// Keras's reference to it in summaries: `dense_1[0][0]` (layer, call, output).
    public var reference: String { "\(node.layer.name)[\(node.index)][\(index)]" }

    /// `<SymbolicTensor shape=(None, 64) from dense>`.
    public var description: String {
        "<SymbolicTensor shape=\(formatBatchShape(shape)) from \(node.layer.name)>"
    }
}

/// One call of a layer on symbolic tensors: a node of a functional model's graph.
///
/// References run one way, from the outputs towards the inputs: a tensor holds its node, a node
/// holds its layer and its input tensors, a model holds its nodes. A node does not keep its
/// output tensors (it makes them on demand) and a layer refers to its nodes weakly, so a graph
/// is never a reference cycle: a model nobody holds frees its layers and weights.
final class Node: @unchecked Sendable {
    let layer: Layer
    let inputs: [SymbolicTensor]
    /// The position of this call among the layer's calls (shared layers have several).
    let index: Int
    /// The per-sample shape of each output.
    let outputShapes: [[Int]]

    init(layer: Layer, inputs: [SymbolicTensor], outputShapes: [[Int]]) {
        self.layer = layer
        self.inputs = inputs
        self.outputShapes = outputShapes
        layer.inboundNodeReferences.removeAll { $0.node == nil }
        self.index = layer.inboundNodeReferences.count
        layer.inboundNodeReferences.append(WeakNode(node: self))
    }

    /// The call's outputs, as tensors that keep this node alive.
    var outputs: [SymbolicTensor] {
        outputShapes.enumerated().map { SymbolicTensor(shape: $1, node: self, index: $0) }
    }
}

/// A layer's reference to one of its calls, weak so that layer and node do not hold each other.
struct WeakNode {
    weak var node: Node?
}

extension Layer {
    /// The graph nodes where this layer was called on symbolic tensors and that still exist
    /// (some tensor or model holds them), in call order.
    var inboundNodes: [Node] { inboundNodeReferences.compactMap(\.node) }
}

/// `(None, 26, 26, 32)`: a per-sample shape with Keras's batch placeholder.
func formatBatchShape(_ shape: [Int]) -> String {
    "(" + (["None"] + shape.map(String.init)).joined(separator: ", ") + ")"
}

/// The layer behind `Input(shape:)`: it computes nothing and has no weights; it marks where a
/// functional model's data enters.
///
/// ```swift
/// let layer = InputLayer(shape: [28, 28, 1])
/// ```
public final class InputLayer: Layer, @unchecked Sendable {
    /// The shape of one sample.
    public let shape: [Int]

    /// An input of per-sample `shape`.
    public init(shape: [Int], name: String? = nil) {
        self.shape = shape
        super.init(name: name)
        try? buildIfNeeded(inputShapes: [shape])
    }

    /// The symbolic tensor this input provides: the same graph tensor for as long as anything
    /// holds it (a model, a tensor computed from it), a new one after that.
    public var output: SymbolicTensor {
        (inboundNodes.first ?? Node(layer: self, inputs: [], outputShapes: [shape])).outputs[0]
    }

    override public func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] { inputs }
}

/// The entry point of a functional model, Keras's `keras.Input`: a symbolic tensor of per-sample
/// `shape` (the batch axis is implicit, `None`).
///
/// ```swift
/// let image = Input(shape: [28, 28, 1])
/// let features = Input(shape: [7], name: "features")
/// ```
public func Input(shape: [Int], name: String? = nil) -> SymbolicTensor {
    InputLayer(shape: shape, name: name).output
}

extension Layer {
    /// Calls the layer on symbolic tensors (functional API): builds it for their shapes and
    /// returns symbolic outputs.
    ///
    /// ```swift
    /// let merged = try Concatenate()([a, b])
    /// ```
    public func callAsFunction(_ inputs: [SymbolicTensor]) throws -> [SymbolicTensor] {
        let shapes = inputs.map(\.shape)
        try buildIfNeeded(inputShapes: shapes)
        let outputShapes = try outputShapes(forInputShapes: shapes)
        return Node(layer: self, inputs: inputs, outputShapes: outputShapes).outputs
    }

    /// Calls a single-output layer on one symbolic tensor.
    ///
    /// ```swift
    /// let h = try Dense(units: 5, activation: .sigmoid)(Input(shape: [7]))
    /// ```
    public func callAsFunction(_ input: SymbolicTensor) throws -> SymbolicTensor {
        let outputs = try callAsFunction([input])
        guard outputs.count == 1 else {
            throw PeregrineError.invalidArgument(
                operation: name, expected: "one output (use the [SymbolicTensor] call)",
                actual: "\(outputs.count)")
        }
        return outputs[0]
    }
}
