/// The layer chains of a functional graph that run as one operation, as ``Sequential`` runs
/// them:
///
/// - `Conv2D → BatchNormalization [→ Activation(.relu)]` in inference with nothing recorded:
///   one convolution with the normalization folded into its kernel and bias
///   (``Conv2D/callFoldingBatchNorm(_:_:relu:)``);
/// - `BatchNormalization → Activation(.relu)`: one kernel pass and one tape node
///   (``BatchNormalization/callFusingReLU(_:training:)``);
/// - `Conv2D(activation: .relu) → MaxPooling2D`: one tape node whose backward masks the pooled
///   gradient (``Conv2D/callFusingMaxPool(_:_:)``).
///
/// A chain fuses only when nothing else sees its inner values: each inner output feeds the next
/// layer alone and is not a model output. The model decides per call which fusions apply (no
/// mask flowing, no numerics check; the fold only in inference with nothing recorded).
///
/// ```swift
/// let fusions = GraphFusions(executionOrder: model.executionOrder, outputs: model.outputs)
/// fusions.chains.count   // 2 for Input → Conv2D → BatchNormalization → Activation(.relu)
/// ```
struct GraphFusions {
    /// What a chain runs as.
    enum Kind: Equatable {
        /// Conv2D → BatchNormalization [→ ReLU], inference only.
        case convBatchNormFold
        /// BatchNormalization → ReLU.
        case batchNormReLU
        /// Conv2D(relu) → MaxPooling2D.
        case convReLUMaxPool
    }

    /// A chain: what it runs as and the nodes after its head that it absorbs.
    struct Chain {
        let kind: Kind
        let absorbed: [Node]
    }

    /// By the head node of the chain. A node may head one chain and be absorbed in another
    /// (a BatchNormalization folded into its convolution in inference, fused with its ReLU in
    /// training); the model runs whichever applies first in execution order.
    private(set) var chains: [ObjectIdentifier: Chain] = [:]

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
        func isReLU(_ node: Node?) -> Bool { (node?.layer as? Activation)?.activation == .relu }
        for node in executionOrder where node.inputs.count == 1 {
            let next = soleConsumer(node)
            if let conv = node.layer as? Conv2D, let next {
                if conv.activation == .linear, next.layer is BatchNormalization {
                    let relu = soleConsumer(next)
                    chains[ObjectIdentifier(node)] = Chain(
                        kind: .convBatchNormFold, absorbed: isReLU(relu) ? [next, relu!] : [next])
                } else if conv.activation == .relu, next.layer is MaxPooling2D {
                    chains[ObjectIdentifier(node)] = Chain(kind: .convReLUMaxPool, absorbed: [next])
                }
            } else if node.layer is BatchNormalization, isReLU(next), let next {
                chains[ObjectIdentifier(node)] = Chain(kind: .batchNormReLU, absorbed: [next])
            }
        }
    }

    /// Runs the chain headed by `node` on its input `x` if one applies to this call; returns
    /// the chain's result (standing for its last node's output) and the nodes it absorbed.
    func run(_ node: Node, _ x: Tensor, training: Bool) throws -> (Tensor, [Node])? {
        guard let chain = chains[ObjectIdentifier(node)], !NumericsCheck.isOn else { return nil }
        switch chain.kind {
        case .convBatchNormFold:
            guard !training, GradientTape.recordingTapes.isEmpty, let conv = node.layer as? Conv2D,
                let normalization = chain.absorbed[0].layer as? BatchNormalization
            else { return nil }
            return (try conv.callFoldingBatchNorm(normalization, x, relu: chain.absorbed.count > 1), chain.absorbed)
        case .batchNormReLU:
            guard let normalization = node.layer as? BatchNormalization else { return nil }
            return (try normalization.callFusingReLU(x, training: training), chain.absorbed)
        case .convReLUMaxPool:
            guard let conv = node.layer as? Conv2D, let pool = chain.absorbed[0].layer as? MaxPooling2D else { return nil }
            return (try conv.callFusingMaxPool(pool, x), chain.absorbed)
        }
    }
}
