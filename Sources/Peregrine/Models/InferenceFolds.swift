/// The `Conv2D → BatchNormalization [→ Activation(.relu)]` chains of a functional graph that
/// run as one convolution in inference (``Conv2D/callFoldingBatchNorm(_:_:relu:)``), as
/// ``Sequential`` runs them.
///
/// A chain folds only when nothing else sees its inner values: the convolution (no activation)
/// feeds the batch normalization alone and is not a model output, and likewise the batch
/// normalization's output for the ReLU to join. The model decides per call whether to use the
/// chains (inference, nothing recorded, no mask).
///
/// ```swift
/// let folds = InferenceFolds(executionOrder: model.executionOrder, outputs: model.outputs)
/// folds.chains.count   // 1 for Input → Conv2D → BatchNormalization → Activation(.relu)
/// ```
struct InferenceFolds {
    /// By the convolution's node: the nodes it absorbs, the batch normalization's first.
    private(set) var chains: [ObjectIdentifier: [Node]] = [:]

    init() {}

    init(executionOrder: [Node], outputs: [SymbolicTensor]) {
        var consumers: [SymbolicTensor.ID: [Node]] = [:]
        for node in executionOrder {
            for input in node.inputs { consumers[input.id, default: []].append(node) }
        }
        let outputIDs = Set(outputs.map(\.id))
        /// The one node that reads `node`'s single output, when that node has one input and the
        /// output is not the model's.
        func soleConsumer(_ node: Node) -> Node? {
            let id = SymbolicTensor.ID(node: ObjectIdentifier(node), index: 0)
            guard node.outputShapes.count == 1, !outputIDs.contains(id), let users = consumers[id],
                users.count == 1, users[0].inputs.count == 1
            else { return nil }
            return users[0]
        }
        for node in executionOrder {
            guard let conv = node.layer as? Conv2D, conv.activation == .linear, node.inputs.count == 1,
                let normalization = soleConsumer(node), normalization.layer is BatchNormalization
            else { continue }
            var chain = [normalization]
            if let relu = soleConsumer(normalization), (relu.layer as? Activation)?.activation == .relu {
                chain.append(relu)
            }
            chains[ObjectIdentifier(node)] = chain
        }
    }
}
