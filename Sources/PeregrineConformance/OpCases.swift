import Peregrine

/// `kind: "op"`: a Tensor operation's output and, through a ``GradientTape``, the gradients of
/// `Σ output · upstream` with respect to every input.
enum OpCases {
    /// Each op of `FORMAT.md`, written with Peregrine's public API as a user would.
    static let operations: [String: @Sendable ([Tensor]) throws -> Tensor] = [
        "matmul": { try matmul($0[0], $0[1]) },
        "add": { try $0[0] + $0[1] },
        "sub": { try $0[0] - $0[1] },
        "mul": { try $0[0] * $0[1] },
        "div": { try $0[0] / $0[1] },
        "pow2": { pow($0[0], 2) },
        "exp": { exp($0[0]) },
        "log": { log($0[0]) },
        "sqrt": { sqrt($0[0]) },
        "tanh": { tanh($0[0]) },
        "sigmoid": { sigmoid($0[0]) },
        "relu": { relu($0[0]) },
        "softmax": { try softmax($0[0]) },
        "log_softmax": { try logSoftmax($0[0]) },
        "reduce_sum": { try $0[0].sum(axis: 0) },
        "reduce_max": { try $0[0].max(axis: 1) },
        "transpose": { try $0[0].permuted([1, 0, 2]) },
        "reshape": { try $0[0].reshaped(to: [4, 6]) },
        "concat": { try Tensor.concatenate($0, axis: 1) },
        "slice": { try $0[0][1..<3, stride(from: 0, to: $0[0].shape[1], by: 2)] },
        "seed_linear_mse": { inputs in
            let x: Tensor = [[1, 2, 3]]
            let y: Tensor = [[4, 8]]
            let yHat = try matmul(x, inputs[0]) + inputs[1]
            return try square(yHat - y).mean().reshaped(to: [1])
        },
    ]

    static func run(_ c: ReferenceCase) throws -> CaseResult {
        let name = try c.string("op")
        let inputs = try c.tensors("inputs").map(tensor)
        let operation: ([Tensor]) throws -> Tensor
        if name == "reduce_mean" {
            // Two cases share the name: over axis 1 with keepdims, or over everything as [1].
            let all = try c.tensors("outputs")[0].shape == [1]
            operation = { all ? try $0[0].mean().reshaped(to: [1]) : try $0[0].mean(axis: 1, keepDims: true) }
        } else if let known = operations[name] {
            operation = known
        } else {
            return .skip("op '\(name)' is not mapped")
        }
        return try checkForwardAndBackward(c, inputs: inputs, upstream: try c.tensors("upstream").map(tensor)) {
            try operation($0)
        }
    }

    /// Runs `forward` on watched `inputs`, compares `outputs`, then differentiates
    /// `Σ output · upstream` (the output itself when there is no upstream, as for losses) and
    /// compares `grad_inputs`; null entries there are not checked.
    static func checkForwardAndBackward(
        _ c: ReferenceCase, inputs: [Tensor], upstream: [Tensor]?,
        forward: ([Tensor]) throws -> Tensor
    ) throws -> CaseResult {
        let expectedOutputs = try c.tensors("outputs")
        let tape = GradientTape()
        inputs.forEach(tape.watch)
        let (output, target) = try tape.recording {
            let output = try forward(inputs)
            return (output, try upstream.map { try (output * $0[0]).sum() } ?? output)
        }
        if let mismatch = Mismatch.compare(
            got: output.scalars, shape: output.shape, want: expectedOutputs[0], rtol: c.rtol,
            atol: c.atol, what: "outputs[0]")
        {
            return .fail(mismatch.description)
        }
        let grads = try tape.gradient(target, inputs)
        for (index, (got, want)) in zip(grads, try c.optionalTensors("grad_inputs")).enumerated() {
            guard let want else { continue }
            guard let got else { return .fail("grad_inputs[\(index)]: no gradient, want \(want.shape)") }
            if let mismatch = Mismatch.compare(
                got: got.scalars, shape: got.shape, want: want, rtol: c.rtol, atol: c.atol,
                what: "grad_inputs[\(index)]")
            {
                return .fail(mismatch.description)
            }
        }
        return .pass
    }
}
