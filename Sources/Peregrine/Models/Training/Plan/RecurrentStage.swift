import CKernels

/// An ``LSTM``, ``GRU`` or ``SimpleRNN`` layer in a ``TrainingPlan``: the whole sequence through
/// the cell's fused forward kernel, which keeps what backward needs in the stage's saved buffer,
/// and its backward kernel with its scratch — what the taped call runs. Only the plain
/// configuration: the last h as output, no dropout, no mask, no carried state.
///
/// Buffers: the output h [batch, units], saved (`ck_*_saved_size`), scratch
/// (`ck_*_backward_scratch_size`), dW, dU, db.
///
/// ```swift
/// let stage = RecurrentStage(lstm, inputShape: [128, 28, 28])   // output [128, 128]
/// ```
final class RecurrentStage: TrainingStage {
    /// The cell, with what its kernels take besides the shapes.
    private enum Cell {
        case lstm
        case gru(resetAfter: Int32)
        case simpleRNN(ck_activation)
    }

    let layers: [Layer]
    let output: Tensor
    let gradients: [(variable: Variable, gradient: Tensor)]
    private let cell: Cell
    private let kernel: Variable, recurrentKernel: Variable, bias: Variable?
    private let saved: Tensor, scratch: Tensor
    private let batch: Int32, steps: Int32, features: Int32, units: Int32, goBackwards: Int32

    /// nil for a layer the plain kernels do not run (returned sequences or states, dropout,
    /// carried state, another cell type) or one not built for `inputShape`.
    init?(_ layer: RecurrentLayer, inputShape: [Int]) {
        let cell: Cell
        switch layer {
        case is LSTM: cell = .lstm
        case let gru as GRU: cell = .gru(resetAfter: gru.resetAfter ? 1 : 0)
        case let rnn as SimpleRNN:
            guard let act = rnn.activation.fusedKernel else { return nil }
            cell = .simpleRNN(act)
        default: return nil
        }
        guard let kernel = layer.kernel, let recurrentKernel = layer.recurrentKernel, inputShape.count == 3,
            inputShape[2] == kernel.shape[0], !layer.returnSequences, !layer.returnState, !layer.stateful,
            layer.dropout == 0, layer.recurrentDropout == 0
        else { return nil }
        self.cell = cell
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        bias = layer.bias
        (batch, steps, features, units) = (Int32(inputShape[0]), Int32(inputShape[1]), Int32(inputShape[2]), Int32(layer.units))
        goBackwards = layer.goBackwards ? 1 : 0
        layers = [layer]
        output = Tensor(uninitializedShape: [inputShape[0], layer.units])
        let (savedSize, scratchSize): (Int64, Int64)
        switch cell {
        case .lstm:
            savedSize = ck_lstm_saved_size(batch, steps, features, units)
            scratchSize = ck_lstm_backward_scratch_size(batch, steps, features, units)
        case .gru(let resetAfter):
            savedSize = ck_gru_saved_size(batch, steps, features, units, resetAfter)
            scratchSize = ck_gru_backward_scratch_size(batch, steps, features, units)
        case .simpleRNN:
            savedSize = ck_simple_rnn_saved_size(batch, steps, features, units)
            scratchSize = ck_simple_rnn_backward_scratch_size(batch, steps, features, units)
        }
        saved = Tensor(uninitializedShape: [Int(savedSize)])
        scratch = Tensor(uninitializedShape: [Int(scratchSize)])
        gradients = [kernel, recurrentKernel, bias].compactMap { $0 }.map { ($0, Tensor(uninitializedShape: $0.shape)) }
    }

    func forward(_ x: Tensor) throws {
        let w = kernel.untrackedValue, u = recurrentKernel.untrackedValue, b = bias?.untrackedValue
        switch cell {
        case .lstm:
            ck_lstm_forward(
                batch, steps, features, units, goBackwards, x.pointer, w.pointer, u.pointer, b?.pointer, nil, nil,
                saved.pointer, nil, output.pointer, nil)
        case .gru(let resetAfter):
            ck_gru_forward(
                batch, steps, features, units, resetAfter, goBackwards, x.pointer, w.pointer, u.pointer, b?.pointer,
                nil, saved.pointer, nil, output.pointer)
        case .simpleRNN(let act):
            ck_simple_rnn_forward(
                batch, steps, features, units, act, goBackwards, x.pointer, w.pointer, u.pointer, b?.pointer,
                nil, saved.pointer, nil, output.pointer)
        }
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        let w = kernel.untrackedValue, u = recurrentKernel.untrackedValue
        let (dw, du) = (gradients[0].gradient.pointer, gradients[1].gradient.pointer)
        let db = bias == nil ? nil : gradients[2].gradient.pointer
        switch cell {
        case .lstm:
            ck_lstm_backward(
                batch, steps, features, units, goBackwards, w.pointer, u.pointer, saved.pointer, nil,
                outputGradient.pointer, nil, scratch.pointer, inputGradient?.pointer, dw, du, db, nil, nil)
        case .gru(let resetAfter):
            ck_gru_backward(
                batch, steps, features, units, resetAfter, goBackwards, w.pointer, u.pointer, saved.pointer, nil,
                outputGradient.pointer, scratch.pointer, inputGradient?.pointer, dw, du, db, nil)
        case .simpleRNN(let act):
            ck_simple_rnn_backward(
                batch, steps, features, units, act, goBackwards, w.pointer, u.pointer, saved.pointer, nil,
                outputGradient.pointer, scratch.pointer, inputGradient?.pointer, dw, du, db, nil)
        }
    }
}
