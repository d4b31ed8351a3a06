/// One recorded operation of a ``GradientTape``: the inputs it was computed from and how to turn
/// the gradient of its output into gradients of those inputs (a vector–Jacobian product).
///
/// Nodes hang off the tensors they produced (`Tensor.node`), so a tensor carries its history
/// the way PyTorch's `grad_fn` does; the tapes that were recording when it was made are listed,
/// so each tape differentiates only through what it saw.
final class TapeNode: @unchecked Sendable {
    // @unchecked: a node changes once after creation, in `release`, which only the gradient call
    // of the one non-persistent tape that recorded it makes; otherwise it is only read.

    /// The operation's name, for errors and the check mode.
    let operation: String
    /// The differentiable inputs, as they were (their own nodes included).
    private(set) var inputs: [Tensor]
    /// upstream gradient (the output's shape), the inputs the tape needs → one gradient per
    /// input, nil where none flows or none is needed.
    private(set) var backward: (Tensor, NeededGradients) throws -> [Tensor?]
    /// The tapes recording when the operation ran.
    let tapes: [ObjectIdentifier]

    init(
        operation: String, inputs: [Tensor], tapes: [ObjectIdentifier],
        backward: @escaping (Tensor, NeededGradients) throws -> [Tensor?]
    ) {
        self.operation = operation
        self.inputs = inputs
        self.tapes = tapes
        self.backward = backward
    }

    /// Drops the inputs and the backward pass (with the activations it captured) once the only
    /// tape that can use them has. Besides freeing memory as the backward pass goes, this is
    /// what lets an optimizer update the weights in place right after `gradient`: while the
    /// graph lived it still referenced every weight, and the update had to copy each one first.
    func release() {
        inputs = []
        backward = { _, _ in [] }
    }
}

extension Tensor {
    /// Records that `self` was computed from `inputs` by `operation`, for every recording tape
    /// that tracks at least one of the inputs, and returns `self` with that history attached.
    /// Outside any tape this is a single task-local read.
    ///
    /// `backward` receives the gradient of the output and returns one gradient per input, each
    /// of that input's shape (nil when none flows, e.g. an integer index).
    func recorded(
        _ operation: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]
    ) -> Tensor {
        recorded(operation, inputs: inputs, selectiveBackward: { upstream, _ in try backward(upstream) })
    }

    /// `recorded(_:inputs:backward:)` for an operation that can skip the gradients nobody needs:
    /// `backward` also receives which inputs the tape tracks, and returns nil for the others.
    ///
    /// ```swift
    /// y.recorded("dense", inputs: [x, w], selectiveBackward: { g, needed in
    ///     [needed.contains(0) ? dx(g) : nil, dw(g)]
    /// })
    /// ```
    func recorded(
        _ operation: String, inputs: [Tensor],
        selectiveBackward backward: @escaping (Tensor, NeededGradients) throws -> [Tensor?]
    ) -> Tensor {
        if NumericsCheck.isOn { NumericsCheck.noteForward(operation, self) }
        let tapes = GradientTape.recordingTapes
        if tapes.isEmpty { return self }
        let tracking = tapes.filter { tape in inputs.contains { tape.tracks($0) } }
        if tracking.isEmpty { return self }
        var result = self
        result.node = TapeNode(
            operation: operation, inputs: inputs, tapes: tracking.map { ObjectIdentifier($0) },
            backward: backward)
        return result
    }
}
