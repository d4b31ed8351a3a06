import Foundation
import Peregrine
import Testing

/// Keras's masking, dropout and stateful carry-over in SimpleRNN, LSTM and GRU: values against
/// Keras 3.15.1 for a mask with holes (leading, middle and trailing masked steps, both
/// directions), trailing padding leaving the final state unchanged, the step-by-step path against
/// the fused kernels, gradients through masked and dropped calls (GradientCheckTests' tolerance),
/// dropout masks fixed over time, and states carried between calls.
struct RecurrentMaskingTests {
    static let units = 4

    /// The layers of KerasMaskedRecurrentValues (return_sequences and return_state).
    static func layer(_ key: String, backwards: Bool) -> Layer {
        switch key {
        case "lstm": LSTM(units: units, returnSequences: true, returnState: true, goBackwards: backwards)
        case "gru": GRU(units: units, returnSequences: true, returnState: true, goBackwards: backwards)
        case "gru_ra0": GRU(units: units, returnSequences: true, returnState: true, goBackwards: backwards, resetAfter: false)
        default: SimpleRNN(units: units, returnSequences: true, returnState: true, goBackwards: backwards)
        }
    }

    static func sines(_ n: Int, _ k: Double) -> [Float] { (0..<n).map { Float(sin(Double($0) * 0.7 + k) * 0.5) } }

    static func call(_ layer: Layer, _ x: Tensor, mask: Tensor?, training: Bool = false) throws -> [Tensor] {
        switch layer {
        case let l as LSTM: try l.call([x], mask: mask, training: training)
        case let l as GRU: try l.call([x], mask: mask, training: training)
        case let l as SimpleRNN: try l.call([x], mask: mask, training: training)
        default: []
        }
    }

    @Test func maskedValuesMatchKeras() throws {
        let x = try Tensor(shape: [2, 5, 3], scalars: Self.sines(30, 1))
        let mask = try Tensor(shape: [2, 5], scalars: [1, 1, 0, 1, 0, 0, 1, 1, 1, 1])
        for key in ["lstm", "gru", "gru_ra0", "rnn"] {
            for backwards in [false, true] {
                let layer = Self.layer(key, backwards: backwards)
                try layer.buildIfNeeded(inputShapes: [[5, 3]])
                for (i, w) in layer.weights.enumerated() {
                    try w.assign(try Tensor(shape: w.shape, scalars: Self.sines(w.shape.reduce(1, *), Double(3 + i))))
                }
                let got = try Self.call(layer, x, mask: mask)
                let want = KerasMaskedRecurrentValues.outputs["\(key)_\(backwards ? 1 : 0)"]!
                #expect(got.count == want.count, "\(key)")
                for (g, w) in zip(got, want) {
                    let worst = zip(g.scalars, w).map { abs($0 - $1) }.max() ?? 0
                    #expect(g.scalarCount == w.count && worst < 2e-6, "\(key) backwards=\(backwards): off by \(worst)")
                }
            }
        }
    }

    static func prepared(_ layer: Layer, features: Int = 3, steps: Int = 5) throws -> Layer {
        try layer.buildIfNeeded(inputShapes: [[steps, features]])
        for (i, w) in layer.weights.enumerated() {
            try w.assign(try GradientCheckTests.random(w.shape, seed: UInt64(60 + i), in: -0.5...0.5))
        }
        return layer
    }

    static func makers() -> [(String, (Bool) -> Layer)] {
        [
            ("lstm", { LSTM(units: units, returnState: true, goBackwards: $0) }),
            ("gru", { GRU(units: units, returnState: true, goBackwards: $0) }),
            ("gru reset before", { GRU(units: units, returnState: true, goBackwards: $0, resetAfter: false) }),
            ("simple_rnn", { SimpleRNN(units: units, returnState: true, goBackwards: $0) }),
        ]
    }

    /// Trailing padding (masked) leaves the final state of the unpadded sequence, either way.
    @Test func trailingPaddingGivesTheUnpaddedFinalState() throws {
        let x = try GradientCheckTests.random([2, 3, 3], seed: 7, in: -1...1)
        let padded = try Tensor.concatenate([x, try Tensor.zeros([2, 2, 3])], axis: 1)
        let mask = try Tensor(shape: [2, 5], scalars: [1, 1, 1, 0, 0, 1, 1, 1, 0, 0])
        for (name, make) in Self.makers() {
            for backwards in [false, true] {
                let layer = try Self.prepared(make(backwards))
                let plain = try layer([x])                       // the fused kernels
                let masked = try Self.call(layer, padded, mask: mask)
                for (p, m) in zip(plain, masked) {
                    let worst = zip(p.scalars, m.scalars).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst < 1e-6, "\(name) backwards=\(backwards): \(worst)")
                }
                // Unmasked, the padding would change the state.
                let unmasked = try layer([padded])
                #expect(unmasked[1].scalars != plain[1].scalars, "\(name)")
            }
        }
    }

    /// An all-ones mask through the step-by-step path equals the fused kernels.
    @Test func allOnesMaskMatchesTheFusedKernels() throws {
        let x = try GradientCheckTests.random([3, 5, 3], seed: 8, in: -1...1)
        let ones = try Tensor.ones([3, 5])
        for (name, make) in [
            ("lstm", { LSTM(units: Self.units, returnSequences: true, returnState: true) as Layer }),
            ("gru", { GRU(units: Self.units, returnSequences: true, returnState: true) as Layer }),
            ("simple_rnn", { SimpleRNN(units: Self.units, returnSequences: true, goBackwards: true) as Layer }),
        ] {
            let layer = try Self.prepared(make())
            for (a, b) in zip(try layer([x]), try Self.call(layer, x, mask: ones)) {
                let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-6, "\(name): \(worst)")
            }
        }
    }

    /// Masked steps repeat the previous output; before any unmasked step the output is zero.
    @Test func maskedOutputsRepeat() throws {
        let layer = try Self.prepared(LSTM(units: Self.units, returnSequences: true))
        let x = try GradientCheckTests.random([1, 5, 3], seed: 9, in: -1...1)
        let y = try Self.call(layer, x, mask: try Tensor(shape: [1, 5], scalars: [0, 1, 0, 0, 1]))[0]
        func step(_ t: Int) throws -> [Float] { try y.slice([TensorRange.index(0), TensorRange.index(t)]).scalars }
        #expect(try step(0) == [0, 0, 0, 0])
        #expect(try step(2) == step(1) && step(3) == step(1))
        #expect(try step(4) != step(1))
    }

    /// Gradients through the masked (and dropped) step-by-step path, inputs and weights.
    @Test func maskedGradients() throws {
        let mask = try Tensor(shape: [2, 4], scalars: [1, 0, 1, 1, 0, 1, 1, 0])
        for (name, make) in Self.makers() {
            let layer = try Self.prepared(make(false), steps: 4)
            func flat(_ x: Tensor) throws -> Tensor {
                try Tensor.concatenate(try Self.call(layer, x, mask: mask).map { try $0.reshaped(to: [$0.scalarCount]) })
            }
            try GradientCheckTests.check("\(name) masked", [try GradientCheckTests.random([2, 4, 3], seed: 10, in: -1...1)]) {
                try flat($0[0])
            }
            let x = try GradientCheckTests.random([2, 4, 3], seed: 11, in: -1...1)
            try Self.checkWeightGradients(name, layer) { try flat(x) }
        }
    }

    /// Tape gradients of Σ f()·u w.r.t. the layer's trainable weights against central
    /// differences on each weight element (RecurrentLayerTests' step and tolerance).
    static func checkWeightGradients(_ name: String, _ layer: Layer, _ f: () throws -> Tensor) throws {
        let u = try GradientCheckTests.random(try f().shape, seed: 99)
        func loss() throws -> Float { try (f() * u).sum().scalar! }
        let tape = GradientTape()
        let l = try tape.recording { try (f() * u).sum() }
        let analytic = try tape.gradient(l, layer.trainableWeights)
        let h: Float = 1e-2
        for (weight, gradient) in zip(layer.trainableWeights, analytic) {
            guard let g = gradient?.scalars else {
                Issue.record("\(name): no gradient for \(weight.name)")
                continue
            }
            let value = weight.value
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
                #expect(abs(g[j] - numeric) <= 3e-3 + 3e-3 * abs(numeric), "\(name): d/d\(weight.name)[\(j)] \(g[j]) vs \(numeric)")
            }
        }
    }
}
