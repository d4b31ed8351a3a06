/// Records operations so that gradients can be computed afterwards: `tf.GradientTape`'s
/// semantics in Swift.
///
/// Trainable ``Variable``s read while the tape records are watched automatically; other tensors
/// need ``watch(_:)-(Tensor)``. A non-scalar target is summed first, a list of targets is summed,
/// and a source the target does not depend on gets `nil`. A non-persistent tape answers one
/// `gradient` call.
///
/// ```swift
/// let w = Variable(try Tensor.ones([3, 2]))
/// let b = Variable(try Tensor.zeros([1, 2]))
/// let x: Tensor = [[1, 2, 3]], y: Tensor = [[4, 8]]
/// let tape = GradientTape()
/// let loss = try tape.recording {
///     let yHat = try matmul(x, w.value) + b.value
///     return try square(yHat - y).mean()
/// }
/// let grads = try tape.gradient(loss, [w, b])   // [[2,-2],[4,-4],[6,-6]] and [[2,-2]]
/// ```
public final class GradientTape: @unchecked Sendable {
    // @unchecked: a tape belongs to the thread (task) that records on it; the task-local stack
    // only ever exposes it to that task.

    /// Whether `gradient` may be called more than once.
    public let persistent: Bool
    /// Whether trainable variables read while recording are watched without `watch`.
    public let watchAccessedVariables: Bool

    /// Leaves: storages of watched tensors and of watched variables' values, kept alive so that
    /// their identities stay unique while the tape lives.
    private var watchedStorages: [ObjectIdentifier: AnyObject] = [:]
    /// Each watched variable's storage at its last read: the leaf its gradient arrives at.
    private var variableLeaves: [ObjectIdentifier: ObjectIdentifier] = [:]
    private var gradientCalls = 0

    /// The tapes recording in the current task, innermost last.
    @TaskLocal static var recordingTapes: [GradientTape] = []

    /// A tape; `persistent` allows several `gradient` calls.
    ///
    /// ```swift
    /// let tape = GradientTape(persistent: true)
    /// ```
    public init(persistent: Bool = false, watchAccessedVariables: Bool = true) {
        self.persistent = persistent
        self.watchAccessedVariables = watchAccessedVariables
    }

    /// Runs `body` with the tape recording (Python's `with tape:` block) and returns its result.
    /// Tapes nest: an outer tape records what an inner one does.
    ///
    /// ```swift
    /// let y = try tape.recording { try square(x).sum() }
    /// ```
    public func recording<R>(_ body: () throws -> R) rethrows -> R {
        try GradientTape.$recordingTapes.withValue(GradientTape.recordingTapes + [self]) {
            try body()
        }
    }

    /// Makes the gradient with respect to `tensor` available (constants are not watched).
    ///
    /// ```swift
    /// tape.watch(x)
    /// ```
    public func watch(_ tensor: Tensor) {
        watchedStorages[ObjectIdentifier(tensor.storage)] = tensor.storage
    }

    /// Watches a variable explicitly, trainable or not.
    ///
    /// ```swift
    /// tape.watch(movingMean)
    /// ```
    public func watch(_ variable: Variable) {
        let storage = variable.untrackedValue.storage
        watchedStorages[ObjectIdentifier(storage)] = storage
        variableLeaves[ObjectIdentifier(variable)] = ObjectIdentifier(storage)
    }

    /// Called on every read of a variable's value: watches it on each recording tape that
    /// watches accessed variables, when it is trainable.
    static func noteRead(of variable: Variable) {
        guard variable.trainable else { return }
        for tape in recordingTapes where tape.watchAccessedVariables {
            tape.watch(variable)
        }
    }

    /// Whether gradients can flow to or through `tensor` on this tape.
    func tracks(_ tensor: Tensor) -> Bool {
        if let node = tensor.node { return node.tapes.contains(ObjectIdentifier(self)) }
        return watchedStorages[ObjectIdentifier(tensor.storage)] != nil
    }

    /// The key gradients of `tensor` accumulate under: its node, or its storage when a leaf.
    private func key(_ tensor: Tensor) -> ObjectIdentifier? {
        if let node = tensor.node, node.tapes.contains(ObjectIdentifier(self)) {
            return ObjectIdentifier(node)
        }
        let storage = ObjectIdentifier(tensor.storage)
        return watchedStorages[storage] != nil ? storage : nil
    }

    /// Gradients of the sum of `targets` with respect to each watched variable in `sources`;
    /// `nil` for a source the targets do not depend on.
    ///
    /// ```swift
    /// let grads = try tape.gradient(loss, [w, b])   // [dw, db]
    /// ```
    public func gradient(_ target: Tensor, _ sources: [Variable]) throws -> [Tensor?] {
        try gradient(targets: [target], variables: sources)
    }

    /// Gradients with respect to watched tensors.
    ///
    /// ```swift
    /// tape.watch(x)
    /// let dx = try tape.gradient(y, [x])[0]
    /// ```
    public func gradient(_ target: Tensor, _ sources: [Tensor]) throws -> [Tensor?] {
        try gradient(targets: [target], tensors: sources)
    }

    /// The gradient with respect to one variable.
    ///
    /// ```swift
    /// let dw = try tape.gradient(loss, w)
    /// ```
    public func gradient(_ target: Tensor, _ source: Variable) throws -> Tensor? {
        try gradient(targets: [target], variables: [source])[0]
    }

    /// Gradients of the sum of several targets with respect to variables.
    ///
    /// ```swift
    /// let grads = try tape.gradient(targets: [loss1, loss2], variables: model.trainableWeights)
    /// ```
    public func gradient(targets: [Tensor], variables: [Variable]) throws -> [Tensor?] {
        let keys = variables.map { variableLeaves[ObjectIdentifier($0)] }
        let grads = try backpropagate(targets, keep: Set(keys.compactMap { $0 }))
        return keys.map { key in key.flatMap { grads[$0] } }
    }

    /// Gradients of the sum of several targets with respect to watched tensors.
    ///
    /// ```swift
    /// let grads = try tape.gradient(targets: [y, z], tensors: [x])
    /// ```
    public func gradient(targets: [Tensor], tensors: [Tensor]) throws -> [Tensor?] {
        let keys = tensors.map { key($0) }
        let grads = try backpropagate(targets, keep: Set(keys.compactMap { $0 }))
        return keys.map { key in key.flatMap { grads[$0] } }
    }

    /// Reverse-mode accumulation from the targets (each seeded with ones) through every node
    /// this tape recorded, in reverse topological order. A node's gradient is dropped once it has
    /// been passed on (unless asked for in `keep`), so peak memory is that of the live frontier.
    private func backpropagate(_ targets: [Tensor], keep: Set<ObjectIdentifier>) throws
        -> [ObjectIdentifier: Tensor]
    {
        try NumericsCheck.throwIfPending()
        gradientCalls += 1
        guard persistent || gradientCalls == 1 else {
            throw PeregrineError.invalidArgument(
                operation: "GradientTape.gradient",
                expected: "one call on a non-persistent tape (create it with persistent: true "
                    + "to call gradient again)",
                actual: "call number \(gradientCalls)")
        }
        let me = ObjectIdentifier(self)
        var grads: [ObjectIdentifier: Tensor] = [:]
        func accumulate(_ gradient: Tensor, into key: ObjectIdentifier) throws {
            if let existing = grads[key] {
                grads[key] = try existing.adding(gradient)
            } else {
                grads[key] = gradient
            }
        }

        // Post-order over the recorded graph: every node after all the nodes it feeds.
        var order: [TapeNode] = []
        var visited = Set<ObjectIdentifier>()
        func visit(_ node: TapeNode) {
            // Iterative DFS: graphs of long unrolled RNNs are deeper than the stack allows.
            var stack: [(TapeNode, Int)] = [(node, 0)]
            guard visited.insert(ObjectIdentifier(node)).inserted else { return }
            while let (current, next) = stack.popLast() {
                if next < current.inputs.count {
                    stack.append((current, next + 1))
                    if let child = current.inputs[next].node, child.tapes.contains(me),
                        visited.insert(ObjectIdentifier(child)).inserted
                    {
                        stack.append((child, 0))
                    }
                } else {
                    order.append(current)
                }
            }
        }
        for target in targets {
            guard let key = key(target) else { continue }
            try accumulate(try Tensor.ones(target.shape), into: key)
            if let node = target.node, node.tapes.contains(me) { visit(node) }
        }

        for node in order.reversed() {
            guard let upstream = grads[ObjectIdentifier(node)] else {
                if !persistent && node.tapes.count == 1 { node.release() }
                continue
            }
            var needed: UInt64 = 0
            for (index, input) in node.inputs.prefix(64).enumerated() where key(input) != nil {
                needed |= 1 << UInt64(index)
            }
            let inputGrads = try node.backward(upstream, NeededGradients(bits: needed))
            for (input, gradient) in zip(node.inputs, inputGrads) {
                guard let gradient, let key = key(input) else { continue }
                guard gradient.shape == input.shape else {
                    throw PeregrineError.shapeMismatch(
                        operation: "\(node.operation) (backward)", expected: input.shape,
                        actual: gradient.shape)
                }
                if NumericsCheck.isOn { try NumericsCheck.checkBackward(node.operation, gradient) }
                try accumulate(gradient, into: key)
            }
            if !keep.contains(ObjectIdentifier(node)) { grads[ObjectIdentifier(node)] = nil }
            // A non-persistent tape is done with the node: let go of what it holds (activations,
            // weights), unless another tape recorded it too.
            if !persistent && node.tapes.count == 1 { node.release() }
        }
        if !persistent {
            // The one call is answered: the leaves need not stay alive (and a variable's storage
            // held here would make the optimizer's in-place update copy it first).
            watchedStorages.removeAll()
        }
        return grads
    }
}

/// `tf.stop_gradient`: the same values, through which no gradient flows.
///
/// ```swift
/// let target = stopGradient(try square(v.value))   // d(stop(v²) + v)/dv = 1
/// ```
public func stopGradient(_ x: Tensor) -> Tensor {
    var result = x
    result.node = nil
    // A watched leaf is identified by its storage: give the result its own, or it would still be
    // the leaf.
    if GradientTape.recordingTapes.contains(where: { $0.tracks(result) }) {
        result = result.detached()
    }
    return result
}
