import Peregrine
import Testing

/// SimpleRNN, LSTM and GRU as layers: gradients against central differences (inputs through
/// `GradientCheckTests.check`, weights by perturbing the variables), output shapes and states,
/// weights in Keras's order and counts, the orthogonal initializer, and bad input.
///
/// Numerical gradients: L = Σ outputs·u in float32 with step h = 1e-2; the outputs are smooth
/// (sigmoid/tanh) and O(1), so rounding (~6e-5) and truncation (~1e-4) errors stay well under
/// the 3e-3 + 3e-3·|g| tolerance, while a wrong index or formula gives errors ~1e-1.
struct RecurrentLayerTests {
    static let batch = 2, steps = 3, features = 3, units = 4

    static func input() throws -> Tensor {
        try GradientCheckTests.random([batch, steps, features], seed: 5, in: -1...1)
    }

    /// Builds the layer and gives every weight random values in [-0.5, 0.5] (the bias too, so
    /// its gradient is not checked only at zero).
    static func prepared(_ layer: Layer) throws -> Layer {
        try layer.buildIfNeeded(inputShapes: [[steps, features]])
        for (i, weight) in layer.weights.enumerated() {
            try weight.assign(try GradientCheckTests.random(weight.shape, seed: UInt64(40 + i), in: -0.5...0.5))
        }
        return layer
    }

    /// All outputs of a call flattened into one tensor, so one check covers every output.
    static func flatOutputs(_ layer: Layer, _ x: Tensor) throws -> Tensor {
        let outputs = try layer([x])
        return try Tensor.concatenate(outputs.map { try $0.reshaped(to: [$0.scalarCount]) })
    }

    static func layers() -> [(String, () -> Layer)] {
        [
            ("lstm sequences+state", { LSTM(units: units, returnSequences: true, returnState: true) }),
            ("lstm backwards", { LSTM(units: units, goBackwards: true) }),
            ("lstm backwards sequences+state", { LSTM(units: units, returnSequences: true, returnState: true, goBackwards: true) }),
            ("gru sequences", { GRU(units: units, returnSequences: true) }),
            ("gru reset_before state backwards", { GRU(units: units, returnState: true, goBackwards: true, resetAfter: false) }),
            ("simple_rnn sequences", { SimpleRNN(units: units, returnSequences: true) }),
            ("simple_rnn sigmoid state", { SimpleRNN(units: units, activation: .sigmoid, returnState: true) }),
        ]
    }

    @Test func inputGradients() throws {
        for (name, make) in Self.layers() {
            let layer = try Self.prepared(make())
            try GradientCheckTests.check(name, [try Self.input()]) { try Self.flatOutputs(layer, $0[0]) }
        }
    }

    @Test func weightGradients() throws {
        for (name, make) in Self.layers() {
            let layer = try Self.prepared(make())
            let x = try Self.input()
            let probe = try Self.flatOutputs(layer, x)
            let u = try GradientCheckTests.random(probe.shape, seed: 99)
            func loss() throws -> Float { try (Self.flatOutputs(layer, x) * u).sum().scalar! }
            let tape = GradientTape()
            let l = try tape.recording { try (Self.flatOutputs(layer, x) * u).sum() }
            let analytic = try tape.gradient(l, layer.trainableWeights)
            #expect(layer.trainableWeights.map(\.name) == ["kernel", "recurrent_kernel", "bias"])
            let h: Float = 1e-2
            for (weight, gradient) in zip(layer.trainableWeights, analytic) {
                guard let gradient else {
                    Issue.record("\(name): no gradient for \(weight.name)")
                    continue
                }
                let value = weight.value, g = gradient.scalars
                for j in 0..<value.scalarCount {
                    var plus = value, minus = value
                    plus.withUnsafeMutableBufferPointer { $0[j] += h }
                    minus.withUnsafeMutableBufferPointer { $0[j] -= h }
                    try weight.assign(plus)
                    let lp = try loss()
                    try weight.assign(minus)
                    let lm = try loss()
                    try weight.assign(value)
                    let numeric = (lp - lm) / (2 * h)
                    #expect(
                        abs(g[j] - numeric) <= 3e-3 + 3e-3 * abs(numeric),
                        "\(name): d/d\(weight.name)[\(j)] tape \(g[j]) vs numeric \(numeric)")
                }
            }
        }
    }

    @Test func shapesStatesAndWeights() throws {
        let x = try Self.input()
        let lstm = try Self.prepared(LSTM(units: 5, returnSequences: true, returnState: true, goBackwards: true))
        let outputs = try lstm([x])
        #expect(outputs.map(\.shape) == [[2, 3, 5], [2, 5], [2, 5]])
        // The sequence stays in processing order: its last entry is the final h.
        let last = try outputs[0].slice([.all, .index(2), .all])
        #expect(last.scalars == outputs[1].scalars)
        #expect(try lstm.outputShapes(forInputShapes: [[3, 3]]) == [[3, 5], [5], [5]])

        let gru = try Self.prepared(GRU(units: 5, returnState: true))
        let gruOutputs = try gru([x])
        #expect(gruOutputs.map(\.shape) == [[2, 5], [2, 5]])
        #expect(gruOutputs[0].scalars == gruOutputs[1].scalars)
        #expect(try SimpleRNN(units: 5)(x).shape == [2, 5])

        // Keras's parameter counts with in = 3, u = 5 (KERAS_SPEC §3).
        for (layer, count) in [(SimpleRNN(units: 5) as Layer, 45), (LSTM(units: 5), 180), (GRU(units: 5), 150)] {
            try layer.buildIfNeeded(inputShapes: [[4, 3]])
            #expect(layer.countParams() == count)
            #expect(layer.weights.map(\.name) == ["kernel", "recurrent_kernel", "bias"])
        }
        // unit_forget_bias: [0…, 1… (forget), 0…, 0…]
        let fresh = LSTM(units: 2)
        try fresh.buildIfNeeded(inputShapes: [[4, 3]])
        #expect(fresh.bias?.value.scalars == [0, 0, 1, 1, 0, 0, 0, 0])
        #expect(GRU(units: 2).resetAfter)
    }

    @Test func orthogonalInitializer() throws {
        // rows ≤ cols: orthonormal rows (an LSTM's [u, 4u]); rows > cols: orthonormal columns.
        for (shape, gain) in [([5, 20], Float(1)), ([20, 5], 1), ([3, 4, 6], 1), ([7, 7], 2), ([1, 1], 1)] as [([Int], Float)] {
            let q = try Initializer.orthogonal(gain: gain)(shape)
            #expect(q.shape == shape)
            let cols = shape.last!, rows = q.scalarCount / cols
            let m = try q.reshaped(to: [rows, cols])
            let gram = rows <= cols ? try matmul(m, try m.transposed()) : try matmul(try m.transposed(), m)
            let n = Swift.min(rows, cols), values = gram.scalars
            for i in 0..<n {
                for j in 0..<n {
                    let want: Float = i == j ? gain * gain : 0
                    #expect(abs(values[i * n + j] - want) < 1e-5, "\(shape): gram[\(i), \(j)] = \(values[i * n + j])")
                }
            }
        }
    }

    @Test func badInputThrowsNamingTheLayer() throws {
        for layer in [LSTM(units: 3, name: "my_lstm") as Layer, GRU(units: 3, name: "my_gru"), SimpleRNN(units: 3, name: "my_rnn")] {
            #expect {
                _ = try layer(try Tensor.ones([2, 3]))
            } throws: { error in
                "\(error)".contains(layer.name)
            }
            _ = try layer(try Tensor.ones([2, 4, 3]))
            #expect {
                _ = try layer(try Tensor.ones([2, 4, 5]))  // built for 3 features
            } throws: { error in
                "\(error)".contains(layer.name)
            }
        }
        #expect(throws: PeregrineError.self) {
            _ = try LSTM(units: 3, activation: .relu)(try Tensor.ones([1, 2, 3]))
        }
    }
}
