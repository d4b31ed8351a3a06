import CKernels

// Masks, dropout and carried state for SimpleRNN, LSTM and GRU, with Keras 3's semantics
// (keras/src/layers/rnn/rnn.py, dropout_rnn_cell.py, lstm.py, gru.py, simple_rnn.py;
// keras/src/backend/tensorflow/rnn.py):
//
// - Mask [batch, time] (1 keep, 0 skip), e.g. from `Embedding(maskZero: true)`: at a masked
//   step every state keeps its previous value and the output repeats the previous step's output
//   (zeros before the first unmasked step: `zero_output_for_mask=False`); with `goBackwards` the
//   mask is reversed with the sequence. The final state is therefore the state after the last
//   unmasked step — trailing padding changes nothing.
// - Dropout masks are drawn once per call (per batch), [batch, features] for the inputs and
//   [batch, units] for h, each element 0 or 1/(1 − rate), and reused at every step; only while
//   training and only for 0 < rate < 1 (Keras's cells test `0 < rate < 1`).
//   * recurrent_dropout = 0 (Keras's implementation 2): ONE input mask for all gates, x·m. That
//     is a product in front of the fused whole-sequence kernel.
//   * recurrent_dropout > 0 (Keras switches LSTM/GRU to implementation 1): one input mask AND
//     one recurrent mask PER GATE (4 for LSTM i, f, c, o; 3 for GRU z, r, h):
//     LSTM z_g = (x·m_g)W_g + b_g + (h·r_g)U_g; GRU as gru.py's implementation 1, where the new
//     state z·h + (1 − z)·hh uses the undropped h. SimpleRNN has one mask of each kind.
// - stateful: the final states become the next call's initial states (`resetStates()` zeroes
//   them); they are not trainable and get no gradient, as Keras's state variables.
//
// Calls with a mask or with per-gate masks run here, step by step, as differentiable tensor
// operations (every op a C kernel; the tape records each), not through the fused sequence
// kernels: those have no per-step selects or per-gate masks. Everything else stays on the fused
// kernels.

/// The dropout masks of one recurrent call, each `[batch, n]` of 0 and 1/(1 − rate).
struct RecurrentDropoutMasks {
    /// Input masks, one per gate (all the same mask when Keras draws one).
    var input: [Tensor]?
    /// Recurrent masks on h, one per gate.
    var recurrent: [Tensor]?

    /// Draws Keras's masks for a call: `gates` copies when `perGate`, else one shared.
    static func draw(
        batch: Int, features: Int, units: Int, gates: Int, dropout: Float, recurrentDropout: Float,
        training: Bool, perGate: Bool, stream: (Int) -> (seed: UInt64, offset: UInt64)
    ) -> RecurrentDropoutMasks {
        func masks(_ width: Int, _ rate: Float, count: Int) -> [Tensor]? {
            guard training, rate > 0, rate < 1 else { return nil }
            let drawn = (0..<count).map { _ -> Tensor in
                let ones = Tensor(uninitializedShape: [batch, width])
                ck_fill(Int64(ones.scalarCount), 1, ones.pointer)
                let mask = Tensor(uninitializedShape: [batch, width]), scaled = Tensor(uninitializedShape: [batch, width])
                let (seed, offset) = stream(ones.scalarCount)
                ck_dropout_forward(Int64(ones.scalarCount), seed, offset, rate, ones.pointer, scaled.pointer, mask.pointer)
                return scaled
            }
            return perGate ? drawn : Array(repeating: drawn[0], count: gates)
        }
        return RecurrentDropoutMasks(
            input: masks(features, dropout, count: perGate ? gates : 1),
            recurrent: masks(units, recurrentDropout, count: perGate ? gates : 1))
    }
}

/// What a step-by-step run returns: the output (sequence `[batch, time, units]` or last output
/// `[batch, units]`) and the final states.
struct RecurrentStepResult {
    var output: Tensor
    var states: [Tensor]
}

/// Runs `cell` over the time axis of `x` `[batch, time, features]` from `initial` states, with
/// Keras's masking (`mask` `[batch, time]`, 1 = keep) and `goBackwards` order.
///
/// ```swift
/// let r = try runRecurrentSteps(x, mask: mask, initial: [h0], goBackwards: false,
///                               returnSequences: true) { xt, states in (h, [h]) }
/// ```
func runRecurrentSteps(
    _ x: Tensor, mask: Tensor?, initial: [Tensor], goBackwards: Bool, returnSequences: Bool,
    cell: (Tensor, [Tensor]) throws -> (output: Tensor, states: [Tensor])
) throws -> RecurrentStepResult {
    let batch = x.shape[0], steps = x.shape[1]
    var states = initial
    var previous: Tensor? = nil   // the previous output; zeros before the first step
    var outputs: [Tensor] = []
    for s in 0..<steps {
        let t = goBackwards ? steps - 1 - s : s
        let xt = try x.slice([.all, .index(t)])
        var (output, next) = try cell(xt, states)
        if let mask {
            let m = try mask.slice([.all, .index(t)]).reshaped(to: [batch, 1])
            let keep = 1 - m
            let prior = try previous ?? Tensor.zeros(output.shape)
            output = try m * output + keep * prior
            next = try zip(next, states).map { new, old in try m * new + keep * old }
        }
        previous = output
        states = next
        if returnSequences { outputs.append(try output.expandingShape(at: 1)) }
    }
    guard let last = previous else {
        throw PeregrineError.invalidArgument(operation: "recurrent layer", expected: "at least one time step", actual: "0")
    }
    return RecurrentStepResult(output: returnSequences ? try Tensor.concatenate(outputs, axis: 1) : last, states: states)
}

/// `[batch, time]` mask checks shared by the recurrent layers.
func checkRecurrentMask(_ mask: Tensor?, batch: Int, steps: Int, layer: String) throws {
    guard let mask else { return }
    guard mask.shape == [batch, steps] else {
        throw PeregrineError.shapeMismatch(operation: "\(layer) mask", expected: [batch, steps], actual: mask.shape)
    }
}

/// The carried states of a stateful recurrent layer: created as zeros for the first batch,
/// checked against later batches' sizes, replaced after each call.
final class RecurrentStateStore: @unchecked Sendable {
    private(set) var states: [Tensor]?

    /// The initial states for a call on `batch` rows: the carried ones (zeros at first).
    func initial(batch: Int, units: Int, count: Int, layer: String) throws -> [Tensor] {
        if let states {
            guard states[0].shape[0] == batch else {
                throw PeregrineError.invalidArgument(
                    operation: layer,
                    expected: "batches of \(states[0].shape[0]) rows (a stateful layer keeps its first batch size)",
                    actual: "\(batch) rows")
            }
            return states
        }
        let zeros = try (0..<count).map { _ in try Tensor.zeros([batch, units]) }
        states = zeros
        return zeros
    }

    /// Keeps the final states of a call (as constants, off the tape).
    func keep(_ final: [Tensor]) {
        states = final.map { state in
            let copy = Tensor(uninitializedShape: state.shape)
            copy.pointer.update(from: state.pointer, count: state.scalarCount)
            return copy
        }
    }

    /// Zeroes the carried states (Keras's `reset_states`).
    func reset() {
        guard let states else { return }
        for state in states { ck_fill(Int64(state.scalarCount), 0, state.pointer) }
    }
}

/// The common arguments of a recurrent call after the checks.
struct RecurrentCall {
    let x: Tensor
    let mask: Tensor?
    let training: Bool
    let batch, steps, features: Int
}
