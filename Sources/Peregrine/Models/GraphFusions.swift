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
        for node in executionOrder where node.inputs.count == 1 {
            let next = soleConsumer(node)
            let following = [next, next.flatMap(soleConsumer)].compactMap { $0 }
            guard let (kind, length) = Self.chain(head: node.layer, following: following.map(\.layer)) else { continue }
            chains[ObjectIdentifier(node)] = Chain(kind: kind, absorbed: Array(following.prefix(length)))
        }
    }

    /// The chain that `head` starts with `following`, the layers after it (each reading only the
    /// one before it, and nothing else reading them), if any: its kind and how many of
    /// `following` it absorbs. ``Sequential`` asks it with the next layers of its stack.
    static func chain(head: Layer, following: [Layer]) -> (kind: Kind, length: Int)? {
        func isReLU(_ index: Int) -> Bool {
            index < following.count && (following[index] as? Activation)?.activation == .relu
        }
        guard let next = following.first else { return nil }
        if let conv = head as? Conv2D {
            if conv.activation == .linear, next is BatchNormalization { return (.convBatchNormFold, isReLU(1) ? 2 : 1) }
            if conv.activation == .relu, next is MaxPooling2D { return (.convReLUMaxPool, 1) }
        } else if head is BatchNormalization, isReLU(0) {
            return (.batchNormReLU, 1)
        }
        return nil
    }

    /// Runs the chain headed by `node` on its input `x` if one applies to this call; returns
    /// the chain's result (standing for its last node's output) and the nodes it absorbed.
    func run(_ node: Node, _ x: Tensor, training: Bool) throws -> (Tensor, [Node])? {
        guard let chain = chains[ObjectIdentifier(node)],
            let y = try Self.run(chain.kind, head: node.layer, absorbed: chain.absorbed.map(\.layer), x, training: training)
        else { return nil }
        return (y, chain.absorbed)
    }

    /// Runs `head` and the `absorbed` layers after it as one operation of `kind` on `x`, when
    /// that applies to this call (no numerics check; the fold only in inference with nothing
    /// recorded); nil: run the layers one by one. The caller checks that no mask flows.
    static func run(_ kind: Kind, head: Layer, absorbed: [Layer], _ x: Tensor, training: Bool) throws -> Tensor? {
        guard !NumericsCheck.isOn else { return nil }
        let y: Tensor
        switch kind {
        case .convBatchNormFold:
            guard !training, GradientTape.recordingTapes.isEmpty, let conv = head as? Conv2D,
                let normalization = absorbed.first as? BatchNormalization
            else { return nil }
            y = try conv.callFoldingBatchNorm(normalization, x, relu: absorbed.count > 1)
        case .batchNormReLU:
            guard let normalization = head as? BatchNormalization else { return nil }
            y = try normalization.callFusingReLU(x, training: training)
        case .convReLUMaxPool:
            guard let conv = head as? Conv2D, let pool = absorbed.first as? MaxPooling2D else { return nil }
            return try conv.callFusingMaxPool(pool, x)
        }
        // An absorbed ReLU is built as if it had run (its input has the chain's output shape).
        if let relu = absorbed.last as? Activation { try relu.buildIfNeeded(inputShapes: [Array(y.shape.dropFirst())]) }
        return y
    }
}
