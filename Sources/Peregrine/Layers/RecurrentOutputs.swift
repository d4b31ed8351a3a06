import CKernels

/// How a recurrent layer's outputs sit in the one tensor its fused operation produces.
///
/// SimpleRNN, LSTM and GRU record ONE tape node per call whose result holds every output the
/// call returns — the sequence `[batch, time, units]` (with `returnSequences`), the last `h`
/// `[batch, units]` and, for LSTM, the last `c` — one after another. Without `returnState` that
/// result *is* the single output. With it, each output is a slice of the packed result, so the
/// node's backward receives the upstream gradients of all of them at once (the kernel takes them
/// as pointers into one buffer) and outputs the caller does not use contribute zeros.
///
/// ```swift
/// let layout = RecurrentOutputLayout(batch: 2, steps: 4, units: 3, returnSequences: true,
///                                    returnState: true, stateCount: 2)
/// layout.packedShape   // [2·4·3 + 2·3 + 2·3]
/// ```
struct RecurrentOutputLayout {
    let batch, steps, units: Int
    let returnSequences, returnState: Bool
    /// 2 for LSTM (h, c), 1 for GRU and SimpleRNN.
    let stateCount: Int

    var sequenceCount: Int { returnSequences ? batch * steps * units : 0 }
    /// Whether the packed result holds the last h (the output without sequences, or a state).
    var hasLastH: Bool { !returnSequences || returnState }
    /// Whether it holds the last c (LSTM with returnState).
    var hasLastC: Bool { returnState && stateCount == 2 }
    var lastHOffset: Int { sequenceCount }
    var lastCOffset: Int { lastHOffset + (hasLastH ? batch * units : 0) }
    var total: Int { lastCOffset + (hasLastC ? batch * units : 0) }

    var packedShape: [Int] {
        if returnState { return [total] }
        return returnSequences ? [batch, steps, units] : [batch, units]
    }

    /// Pointers into a packed buffer for the kernels: (sequence, last h, last c), nil where absent.
    func parts(_ base: UnsafeMutablePointer<Float>) -> (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) {
        (returnSequences ? base : nil, hasLastH ? base + lastHOffset : nil, hasLastC ? base + lastCOffset : nil)
    }

    /// The layer's outputs from the packed result: `[output]`, or with returnState
    /// `[output, h]` / `[output, h, c]` (Keras's order).
    func outputs(_ packed: Tensor, layer: String) -> [Tensor] {
        guard returnState else { return [packed] }
        let bu = [batch, units]
        let output = returnSequences
            ? packed.unpacked(layer, offset: 0, shape: [batch, steps, units])
            : packed.unpacked(layer, offset: lastHOffset, shape: bu)
        var result = [output, packed.unpacked(layer, offset: lastHOffset, shape: bu)]
        if hasLastC { result.append(packed.unpacked(layer, offset: lastCOffset, shape: bu)) }
        return result
    }
}

extension Tensor {
    /// Elements `offset ..< offset + shape.product` of a flat tensor as a new tensor of `shape`,
    /// differentiable (the gradient lands in that range of a zero tensor of self's shape).
    func unpacked(_ layer: String, offset: Int, shape: [Int]) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let count = result.scalarCount
        result.pointer.update(from: pointer + offset, count: count)
        let packedShape = self.shape
        return result.recorded("\(layer)/output", inputs: [self]) { g in
            let full = try Tensor.zeros(packedShape)
            (full.pointer + offset).update(from: g.pointer, count: count)
            return [full]
        }
    }
}

/// Checks a recurrent layer's input `[batch, time, features]` against its built feature count.
func recurrentInputShape(_ x: Tensor, layer: String, features: Int) throws -> (batch: Int, steps: Int) {
    guard x.rank == 3, x.shape[2] == features else {
        throw PeregrineError.shapeMismatch(operation: layer, expected: [-1, -1, features], actual: x.shape)
    }
    return (x.shape[0], x.shape[1])
}

/// The per-sample input check of a recurrent layer's build: `[time, features]`.
func recurrentFeatures(_ inputShapes: [[Int]], layer: String, units: Int) throws -> Int {
    guard units > 0 else {
        throw PeregrineError.invalidArgument(operation: layer, expected: "units > 0", actual: "\(units)")
    }
    guard inputShapes.count == 1 else {
        throw PeregrineError.invalidArgument(
            operation: layer, expected: "one input [batch, time, features]", actual: "\(inputShapes.count) inputs")
    }
    try requireRank(inputShapes[0], 2, layer: layer, describing: "input [batch, time, features]")
    return inputShapes[0][1]
}

/// Per-sample output shapes of a recurrent layer.
func recurrentOutputShapes(_ shapes: [[Int]], units: Int, returnSequences: Bool, returnState: Bool, stateCount: Int) -> [[Int]] {
    let output = returnSequences ? [shapes[0][0], units] : [units]
    return returnState ? [output] + Array(repeating: [units], count: stateCount) : [output]
}
