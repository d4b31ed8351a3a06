import CKernels

/// An ``LSTM`` layer in a ``TrainingPlan``: the whole sequence through `ck_lstm_forward`, which
/// keeps what backward needs in the stage's saved buffer, and `ck_lstm_backward` with its
/// scratch — the fused kernels the taped call runs. Only the plain configuration: the last h as
/// output, no dropout, no mask, no carried state.
///
/// Buffers: the output h [batch, units], saved (`ck_lstm_saved_size`), scratch
/// (`ck_lstm_backward_scratch_size`), dW, dU, db.
///
/// ```swift
/// let stage = LSTMStage(lstm, inputShape: [128, 28, 28])   // output [128, 128]
/// ```
final class LSTMStage: TrainingStage {
    let layers: [Layer]
    let output: Tensor
    let gradients: [(variable: Variable, gradient: Tensor)]
    private let kernel: Variable, recurrentKernel: Variable, bias: Variable?
    private let saved: Tensor, scratch: Tensor
    private let batch: Int32, steps: Int32, features: Int32, units: Int32, goBackwards: Int32

    init?(_ lstm: LSTM, inputShape: [Int]) {
        guard let kernel = lstm.kernel, let recurrentKernel = lstm.recurrentKernel, inputShape.count == 3,
            inputShape[2] == kernel.shape[0], !lstm.returnSequences, !lstm.returnState, !lstm.stateful,
            lstm.dropout == 0, lstm.recurrentDropout == 0
        else { return nil }
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        bias = lstm.bias
        (batch, steps, features, units) = (Int32(inputShape[0]), Int32(inputShape[1]), Int32(inputShape[2]), Int32(lstm.units))
        goBackwards = lstm.goBackwards ? 1 : 0
        layers = [lstm]
        output = Tensor(uninitializedShape: [inputShape[0], lstm.units])
        saved = Tensor(uninitializedShape: [Int(ck_lstm_saved_size(batch, steps, features, units))])
        scratch = Tensor(uninitializedShape: [Int(ck_lstm_backward_scratch_size(batch, steps, features, units))])
        gradients = [kernel, recurrentKernel, bias].compactMap { $0 }.map { ($0, Tensor(uninitializedShape: $0.shape)) }
    }

    func forward(_ x: Tensor) throws {
        let w = kernel.untrackedValue, u = recurrentKernel.untrackedValue, b = bias?.untrackedValue
        ck_lstm_forward(
            batch, steps, features, units, goBackwards, x.pointer, w.pointer, u.pointer, b?.pointer, nil, nil,
            saved.pointer, nil, output.pointer, nil)
    }

    func backward(_ x: Tensor, outputGradient: Tensor, inputGradient: Tensor?) throws {
        let w = kernel.untrackedValue, u = recurrentKernel.untrackedValue
        ck_lstm_backward(
            batch, steps, features, units, goBackwards, w.pointer, u.pointer, saved.pointer, nil,
            outputGradient.pointer, nil, scratch.pointer, inputGradient?.pointer, gradients[0].gradient.pointer,
            gradients[1].gradient.pointer, bias == nil ? nil : gradients[2].gradient.pointer, nil, nil)
    }
}
